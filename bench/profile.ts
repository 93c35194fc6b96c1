// A CPU profile of one hot endpoint under load, summed by where the time goes.
// Usage: npx tsx bench/profile.ts -- --endpoint session|me|authz|healthz|login --db sqlite|postgres --seconds 10
//   [--connections 10] [--top 15]
// The server is bench/servers.ts `gatehouse` (production mode, LOG_LEVEL=info unless set, so request logging is
// counted) in a child process under `node --cpu-prof`; the load generator is wrk (/usr/bin/wrk).
// PostgreSQL: PROFILE_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
// the server's schema is dropped at the end.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const ENDPOINTS = ["session", "me", "authz", "healthz", "login"] as const;
type Endpoint = (typeof ENDPOINTS)[number];

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
}

const endpoint = option("endpoint", "session") as Endpoint;
const db = option("db", "sqlite");
const seconds = Number(option("seconds", "10"));
const connections = Number(option("connections", "10"));
const top = Number(option("top", "15"));
if (!ENDPOINTS.includes(endpoint)) throw new Error(`--endpoint is one of ${ENDPOINTS.join(", ")}`);
if (db !== "sqlite" && db !== "postgres") throw new Error("--db is sqlite or postgres");
const postgresUrl =
  process.env.PROFILE_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

type Started = { child: ChildProcess; url: string; accountId: string; schema?: string };

/** bench/servers.ts under --cpu-prof; resolves with its address once it has made the benchmark user. */
function startProfiledServer(profileDir: string): Promise<Started> {
  const args = [
    "--cpu-prof",
    `--cpu-prof-dir=${profileDir}`,
    "--import",
    "tsx",
    "bench/servers.ts",
    "gatehouse",
    ...(db === "postgres" ? [postgresUrl] : []),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "info", NODE_ENV: "production" },
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.startsWith('{"address"'));
      if (!line) return;
      // From here on its stdout is the access log: read and dropped, as a log shipper would.
      child.stdout?.off("data", onData);
      child.stdout?.resume();
      const { address } = JSON.parse(line) as {
        address: { port: number; account_id: string; schema?: string };
      };
      resolve({
        child,
        url: `http://127.0.0.1:${address.port}`,
        accountId: address.account_id,
        ...(address.schema ? { schema: address.schema } : {}),
      });
    };
    child.stdout?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`profiled server exited with ${code}`)));
  });
}

async function logIn(base: string) {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  if (response.status !== 200) throw new Error(`log-in answered ${response.status}`);
  const body = (await response.json()) as { csrf_token: string; user: { id: string } };
  const cookie = response.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  return { cookie, csrf: body.csrf_token, userId: body.user.id };
}

/** A wrk Lua script: the method, headers and body of every request. */
function wrkScript(
  dir: string,
  request: { method: string; headers: Record<string, string>; body?: string },
): string {
  const lines = [`wrk.method = ${JSON.stringify(request.method)}`];
  for (const [name, value] of Object.entries(request.headers))
    lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  if (request.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(request.body)}`);
  const path = join(dir, "request.lua");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

const run = promisify(execFile);

async function wrk(url: string, script: string, duration: number): Promise<string> {
  const { stdout } = await run("/usr/bin/wrk", [
    "-t1",
    `-c${connections}`,
    `-d${duration}s`,
    "-s",
    script,
    "--latency",
    url,
  ]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} answers were not 2xx\n${stdout}`);
  return stdout;
}

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type CpuProfile = { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] };

/** Microseconds on the clock V8's profiler stamps samples with (both are CLOCK_MONOTONIC). */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

const NET = /^node:(_http_|net|http|internal\/(streams|stream_base_commons|http|net|js_stream_socket))/;

/** Where a frame's code lives: a package, a part of Node, or a folder of ours. */
function categoryOf(url: string): string | undefined {
  if (url === "") return undefined;
  const packageMatch = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (packageMatch) return packageMatch[1];
  if (url.startsWith("node:internal/crypto") || url === "node:crypto") return "node: crypto";
  if (NET.test(url)) return "node: http, net, streams";
  // Synchronous writes to stdout: the log lines.
  if (/^node:(internal\/)?fs/.test(url)) return "node: fs (log writes)";
  if (url.startsWith("node:")) return "node: other internals";
  const ours = /\/(src|bench)\/(.*)$/.exec(url);
  if (ours) {
    const [, root, rest] = ours;
    const folder = rest?.includes("/") ? rest.split("/")[0] : undefined;
    return folder ? `${root}/${folder}/` : `${root}/${rest}`;
  }
  return "other";
}

const SPECIAL = new Set(["(garbage collector)", "(program)", "(idle)", "(root)"]);

/**
 * Self time by category. Native frames (no URL: JSON.parse, RegExp, a C++ binding) count for the
 * nearest caller that has one, so better-sqlite3's statement calls count for better-sqlite3.
 */
function summarise(profile: CpuProfile, window: { from: number; to: number }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const categoryCache = new Map<number, string>();
  const resolve = (id: number): string => {
    const cached = categoryCache.get(id);
    if (cached) return cached;
    const node = byId.get(id);
    const name = node?.callFrame.functionName ?? "";
    let category: string;
    if (SPECIAL.has(name)) category = name;
    else {
      const own = categoryOf(node?.callFrame.url ?? "");
      const up = parent.get(id);
      const callerUrl = up === undefined ? "" : (byId.get(up)?.callFrame.url ?? "");
      // A statement's step, bind and read are better-sqlite3's native code, whoever calls it.
      if (!own && /kysely\/dist\/esm\/dialect\/sqlite|\/src\/db\//.test(callerUrl))
        category = "better-sqlite3 (native)";
      else category = own ?? (up === undefined ? "(native)" : resolve(up));
      if (category === "(root)") category = "(native)";
    }
    categoryCache.set(id, category);
    return category;
  };
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    // Start-up (module loading, migrations) and shutdown are not the request path.
    if (at < window.from || at > window.to) return;
    const category = resolve(id);
    if (category === "(idle)") return;
    total += delta;
    byCategory.set(category, (byCategory.get(category) ?? 0) + delta);
    const frame = byId.get(id)?.callFrame;
    const where = frame?.url
      ? `${frame.url.replace(/^.*\/(node_modules|src|bench)\//, "$1/")}:${frame.lineNumber + 1}`
      : category;
    const key = `${frame?.functionName || "(anonymous)"} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + delta);
  });
  const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return { total, categories: sorted(byCategory), functions: sorted(byFunction) };
}

/** Categories under this share of the time are summed in one row. */
const SMALL = 0.003;

function smallRow(summary: { total: number; categories: Array<[string, number]> }): string {
  const small = summary.categories.filter(([, us]) => us < summary.total * SMALL);
  const us = small.reduce((sum, [, t]) => sum + t, 0);
  return `| ${small.length} others under ${SMALL * 100}% each | ${(us / 1000).toFixed(0)} ms | ${percent(us, summary.total)} |`;
}

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-profile-"));
  const server = await startProfiledServer(dir);
  let wrkOut = "";
  const window = { from: 0, to: 0 };
  const path =
    endpoint === "authz"
      ? "/api/v1/authz/check"
      : endpoint === "healthz"
        ? "/healthz"
        : endpoint === "login"
          ? "/api/v1/auth/login"
          : `/api/v1/${endpoint}`;
  try {
    const session = await logIn(server.url);
    const script = wrkScript(
      dir,
      endpoint === "authz"
        ? {
            method: "POST",
            headers: {
              cookie: session.cookie,
              "x-csrf-token": session.csrf,
              "content-type": "application/json",
            },
            body: JSON.stringify({
              account_id: server.accountId,
              user_id: session.userId,
              permission: "members:read",
            }),
          }
        : endpoint === "login"
          ? {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
            }
          : { method: "GET", headers: { cookie: session.cookie } },
    );
    await wrk(`${server.url}${path}`, script, 1);
    window.from = monotonicMicros();
    wrkOut = await wrk(`${server.url}${path}`, script, seconds);
    window.to = monotonicMicros();
  } finally {
    const exited = new Promise((resolve) => server.child.once("exit", resolve));
    server.child.kill("SIGINT");
    await exited;
    if (server.schema) {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`drop schema if exists ${server.schema} cascade`);
      await client.end();
    }
  }
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const summary = summarise(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile, window);
  rmSync(dir, { recursive: true, force: true });

  const rps = /Requests\/sec:\s+([\d.]+)/.exec(wrkOut)?.[1] ?? "?";
  const label = endpoint === "authz" || endpoint === "login" ? `POST ${path}` : `GET ${path}`;
  const out = [
    `### ${label} on ${db === "sqlite" ? "SQLite" : "PostgreSQL"}`,
    "",
    `${seconds} s of wrk -t1 -c${connections} after a 1 s warm-up: ${rps} requests/s (machine shared; read the shares, not the rate). ` +
      `CPU sampled: ${(summary.total / 1e6).toFixed(1)} s, idle excluded; native frames count for their caller.`,
    "",
    "| where | self time | share |",
    "| --- | ---: | ---: |",
    ...summary.categories
      .filter(([, us]) => us >= summary.total * SMALL)
      .map(([name, us]) => `| ${name} | ${(us / 1000).toFixed(0)} ms | ${percent(us, summary.total)} |`),
    smallRow(summary),
    "",
    `Top ${top} functions by self time:`,
    "",
    "| function | share |",
    "| --- | ---: |",
    ...summary.functions
      .slice(0, top)
      .map(([name, us]) => `| \`${name.replaceAll("|", "\\|")}\` | ${percent(us, summary.total)} |`),
    "",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

await main();
