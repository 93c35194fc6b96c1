// Scale-out on one PostgreSQL (and Redis when it answers): throughput of GET /api/v1/session, POST
// /api/v1/authz/check and POST /api/v1/auth/login with WORKERS=1, 2 and 4 (node:cluster, one port), and
// revocation latency across processes: two separate servers A and B on one database; DELETE
// /api/v1/me/sessions/{id} on A, then B is polled with the revoked cookie until it answers 401.
// Usage: npm run bench:scale-out [-- --seconds 5 --connections 16 --revocations 50 --workers 1,2,4]
// PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { ownerOfConnection, serverChildrenOf } from "../src/testing/processes.js";
import { measure } from "./lib.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    revocations: { type: "string", default: "50" },
    workers: { type: "string", default: "1,2,4" },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const revocations = Number(values.revocations);
const workerCounts = values.workers.split(",").map(Number);

const databaseUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/test";
const schema = `scale_${randomBytes(4).toString("hex")}`;
const schemaUrl = (() => {
  const url = new URL(databaseUrl);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
})();
const EMAIL = "scale@example.com";
const PASSWORD = "orchid-Lantern-Harbor-1";
const SECRET_KEY = randomBytes(32).toString("hex");

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.connect(6379, "127.0.0.1", () => socket.write("PING\r\n"));
    socket.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}
const redis = await redisAnswers();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Server = { child: ChildProcess; base: string; workers: number[] };
const running = new Set<ChildProcess>();

/** `src/main.ts` with WORKERS=n, resolved once every worker has answered a request. */
async function startGatehouse(workers: number): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      NODE_ENV: "production",
      SECRET_KEY,
      DATABASE_URL: schemaUrl,
      PORT: String(port),
      WORKERS: String(workers),
      LOG_LEVEL: "warn",
      SMTP_URL: "",
      DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-scale-")),
      ...(redis ? { REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: `${schema}:` } : {}),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  running.add(child);
  child.on("exit", () => running.delete(child));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  const pause = () => new Promise((r) => setTimeout(r, 100));
  while ((await fetch(`${base}/readyz`).catch(() => undefined))?.status !== 200) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error("the server did not start");
    await pause();
  }
  if (workers === 1) return { child, base, workers: [child.pid as number] };
  // The cluster hands each new connection to the next worker that listens: wait until all have answered.
  let pids: number[] = [];
  const seen = new Set<number>();
  while (seen.size < workers) {
    if (Date.now() > deadline) throw new Error(`only ${seen.size} of ${workers} workers answered`);
    pids = serverChildrenOf(child.pid as number);
    const owner = await answeredBy(base, pids);
    if (owner) seen.add(owner);
    else await pause();
  }
  return { child, base, workers: pids };
}

/** Which worker answers a request on a new connection (its server end is still open then). */
async function answeredBy(base: string, pids: number[]): Promise<number | undefined> {
  const url = new URL(base);
  const socket = new Socket();
  await new Promise<void>((resolve, reject) => {
    socket.on("error", reject);
    socket.connect(Number(url.port), url.hostname, resolve);
  });
  socket.write(`GET /readyz HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
  await new Promise((resolve) => socket.once("data", resolve));
  const owner = ownerOfConnection(Number(url.port), socket.localPort as number, pids);
  socket.destroy();
  return owner;
}

async function stop(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.on("exit", resolve));
  server.child.kill("SIGTERM");
  await exited;
}

type Session = { cookie: string; csrf: string; id: string; accountId: string; userId: string };

async function logIn(base: string): Promise<Session> {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const cookie = response.headers.get("set-cookie")?.split(";")[0] as string;
  const state = (await response.json()) as {
    csrf_token: string;
    session: { id: string };
    account_id: string;
    user: { id: string };
  };
  return {
    cookie,
    csrf: state.csrf_token,
    id: state.session.id,
    accountId: state.account_id,
    userId: state.user.id,
  };
}

async function signUp(base: string): Promise<void> {
  const response = await fetch(`${base}/api/v1/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD, name: "Scale", account_name: "Scale Co" }),
  });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${await response.text()}`);
}

type Load = {
  method?: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Fewer for log-ins: each holds a hash for ~10 ms of CPU, and 16 at once on 2 cores outlast a run. */
  connections?: number;
};
type Measured = { rps: number; p50: number; p99: number };
const useWrk = existsSync("/usr/bin/wrk");
const scripts = mkdtempSync(join(tmpdir(), "gatehouse-scale-wrk-"));

/** `seconds` of load after a 1 s warm-up; any non-2xx answer fails the benchmark. */
async function load(base: string, request: Load): Promise<Measured> {
  if (!useWrk)
    return measure(
      {
        url: `${base}${request.path}`,
        method: request.method ?? "GET",
        headers: request.headers,
        body: request.body,
      },
      seconds,
      request.connections ?? connections,
    );
  const script = join(scripts, `${randomBytes(4).toString("hex")}.lua`);
  const lua = [
    `wrk.method = ${JSON.stringify(request.method ?? "GET")}`,
    ...(request.body ? [`wrk.body = ${JSON.stringify(request.body)}`] : []),
    ...Object.entries(request.headers).map(
      ([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`,
    ),
  ].join("\n");
  writeFileSync(script, lua);
  const run = (duration: number) =>
    execFileSync(
      "/usr/bin/wrk",
      [
        "-t2",
        `-c${request.connections ?? connections}`,
        `-d${duration}s`,
        "--timeout",
        "10s",
        "--latency",
        "-s",
        script,
        `${base}${request.path}`,
      ],
      { encoding: "utf8" },
    );
  run(1);
  const out = run(seconds);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (bad || /Socket errors/.test(out) || !(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]) > 0))
    throw new Error(`${request.path}: ${out}`);
  const ms = (text: string | undefined) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text ?? "");
    if (!m) return Number.NaN;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1]),
    p99: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1]),
  };
}

/** Revocation on A seen by B: milliseconds from sending the DELETE to B's first 401. */
async function revocationLatencies(a: Server, b: Server): Promise<number[]> {
  const keeper = await logIn(a.base);
  const latencies: number[] = [];
  for (let i = 0; i < revocations; i++) {
    const victim = await logIn(a.base);
    const onB = () => fetch(`${b.base}/api/v1/session`, { headers: { cookie: victim.cookie } });
    // Twice, so B serves the session from its cache, which is what the revocation must reach.
    for (let k = 0; k < 2; k++)
      if ((await onB()).status !== 200) throw new Error("B does not know the new session");
    const start = performance.now();
    const deleted = await fetch(`${a.base}/api/v1/me/sessions/${victim.id}`, {
      method: "DELETE",
      headers: { cookie: keeper.cookie, "x-csrf-token": keeper.csrf },
    });
    if (deleted.status !== 204) throw new Error(`revocation failed: ${deleted.status}`);
    while ((await onB()).status !== 401) {
      if (performance.now() - start > 10_000) throw new Error("B still accepts a session revoked 10 s ago");
    }
    latencies.push(performance.now() - start);
  }
  return latencies;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

async function cleanUp() {
  for (const child of running) child.kill("SIGTERM");
  await Promise.all(
    [...running].map(
      (child) => new Promise((resolve) => child.exitCode !== null || child.on("exit", resolve)),
    ),
  );
  await admin(`drop schema if exists ${schema} cascade`);
}
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => void cleanUp().finally(() => process.exit(1)));

await admin(`create schema ${schema}`);
try {
  const rows: string[] = [];
  const baseline: Record<string, number> = {};
  let first = true;
  for (const n of workerCounts) {
    const server = await startGatehouse(n);
    if (first) await signUp(server.base);
    first = false;
    const session = await logIn(server.base);
    const cases: Array<[string, Load]> = [
      ["GET /api/v1/session", { path: "/api/v1/session", headers: { cookie: session.cookie } }],
      [
        "POST /api/v1/authz/check (1 check)",
        {
          method: "POST",
          path: "/api/v1/authz/check",
          headers: {
            cookie: session.cookie,
            "x-csrf-token": session.csrf,
            "content-type": "application/json",
          },
          body: JSON.stringify({
            checks: [{ account_id: session.accountId, user_id: session.userId, permission: "members:read" }],
          }),
        },
      ],
      [
        "POST /api/v1/auth/login",
        {
          method: "POST",
          path: "/api/v1/auth/login",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
          connections: 4,
        },
      ],
    ];
    for (const [what, request] of cases) {
      const result = await load(server.base, request);
      baseline[what] ??= result.rps;
      const ratio = result.rps / (baseline[what] as number);
      rows.push(
        `| ${what} | ${n} | ${fmt(result.rps)} | ${fmt(result.p50)} | ${fmt(result.p99)} | ${ratio.toFixed(2)}× |`,
      );
      console.error(rows.at(-1));
    }
    await stop(server);
  }

  const [a, b] = [await startGatehouse(1), await startGatehouse(1)];
  const latencies = (await revocationLatencies(a, b)).sort((x, y) => x - y);
  await Promise.all([stop(a), stop(b)]);

  const cores = availableParallelism();
  console.log(
    [
      `Run: ${new Date().toISOString().slice(0, 10)}, ${cores} cores (os.availableParallelism(); ${cpus()[0]?.model ?? "?"}), Node ${process.version}, PostgreSQL${redis ? " and Redis" : ""} on the same machine; load generator ${useWrk ? "wrk (-t2)" : "autocannon (wrk missing)"}, ${connections} connections (log-ins 4), ${seconds} s per measurement after a 1 s warm-up; servers are \`src/main.ts\` with NODE_ENV=production, LOG_LEVEL=warn.`,
      "",
      "| what | workers | requests/s | p50 ms | p99 ms | vs 1 worker |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
      "",
      `Revocation across processes (two servers, one database${redis ? ", REDIS_URL set" : ""}; ${latencies.length} revocations, from sending the DELETE on A to B's first 401, B polled back to back): p50 ${fmt(quantile(latencies, 0.5))} ms, p99 ${fmt(quantile(latencies, 0.99))} ms, max ${fmt(latencies.at(-1) ?? Number.NaN)} ms.`,
    ].join("\n"),
  );
} finally {
  await cleanUp();
}
