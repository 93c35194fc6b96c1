// Shared by the benchmark scripts: child-process servers (bench/servers.ts), autocannon runs, and the
// wrk runner (runLoad) of the request-path benchmark.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

export type Measured = { rps: number; p50: number; p99: number };

/** Starts `bench/servers.ts <args>` in its own process and resolves with its address. */
export function startServer(
  args: string[],
  env: Record<string, string> = {},
  script = "bench/servers.ts",
): Promise<{ url: string; accountId: string; schema?: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      const { address } = JSON.parse(line) as {
        address: { port: number; account_id: string; schema?: string };
      };
      resolve({
        url: `http://127.0.0.1:${address.port}`,
        accountId: address.account_id,
        ...(address.schema ? { schema: address.schema } : {}),
        child,
      });
    });
    child.on("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
  });
}

/** A warm-up, then `seconds` of load; any error or non-2xx answer fails the benchmark. */
export async function measure(
  options: autocannon.Options,
  seconds: number,
  connections: number,
): Promise<Measured> {
  await autocannon({ ...options, duration: 1, connections });
  const r = await autocannon({ ...options, duration: seconds, connections });
  if (r.non2xx || r.errors) throw new Error(`${options.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

/** `cpu_us`: CPU time of the pool's process (its threads included) per operation. */
export type PoolRate = { per_second: number; p50: number; p99: number; cpu_us?: number };

let clockTicks: number | undefined;
/** Linux: a process's CPU time so far (user + system, every thread), in µs; undefined elsewhere. */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    clockTicks ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Linux: the CPU time so far of every process of the `postgres` user (the local server), in µs. */
export function postgresCpuMicros(): number | undefined {
  const listed = spawnSync("ps", ["-u", "postgres", "-o", "pid="], { encoding: "utf8" });
  if (listed.status !== 0) return undefined;
  let total = 0;
  for (const pid of listed.stdout
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0))
    total += processCpuMicros(pid) ?? 0;
  return total;
}

/** Raw argon2id verifications per second with the server's parameters (the log-in baseline). */
export function runArgon2(seconds: number): Promise<PoolRate> {
  return runJsonChild(["bench/servers.ts", "argon2", String(seconds), "4"]);
}

/** Raw argon2id hashes per second with the server's parameters, 4 at a time (the sign-up baseline). */
export function runArgon2Hash(seconds: number): Promise<PoolRate> {
  return runJsonChild(["bench/argon2-hash.ts", String(seconds), "4"]);
}

/** Runs a bench script in its own process and reads the JSON line it prints last. */
async function runJsonChild(args: string[]): Promise<PoolRate> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  await new Promise((resolve) => child.on("exit", resolve));
  return JSON.parse(out.trim().split("\n").pop() as string);
}

/** One load run's target. In `body` and header values, `{{n}}` becomes a number unique within the run
 * (prefixed by a per-run tag) and `{{ip}}` a client address of its own per request. */
export type LoadTarget = {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
};
export type LoadOptions = { seconds: number; connections: number; threads?: number };
export type LoadGenerator = "wrk" | "autocannon";

const PLACEHOLDER = /\{\{(n|ip)\}\}/;

/** wrk when it is on PATH (C, one thread: far lighter than autocannon on two shared cores). */
export function loadGenerator(): LoadGenerator {
  const found = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  return found.error ? "autocannon" : "wrk";
}

/** `seconds` of load on `target`; any socket error or 4xx/5xx answer fails the run. */
export function runLoad(
  generator: LoadGenerator,
  target: LoadTarget,
  options: LoadOptions,
): Promise<Measured> {
  return generator === "wrk" ? runWrk(target, options) : runAutocannon(target, options);
}

/** A Lua long string that cannot be closed early by its content. */
function luaString(text: string): string {
  let level = "";
  while (text.includes(`]${level}]`)) level += "=";
  return `[${level}[${text}]${level}]`;
}

/** The wrk script: a fixed request built once by wrk, or one formatted per request when it has placeholders. */
export function wrkScript(target: LoadTarget, tag: string): string {
  const headers = Object.entries(target.headers ?? {});
  const lines = [
    `wrk.method = ${luaString(target.method ?? "GET")}`,
    ...headers.map(([name, value]) => `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`),
  ];
  if (target.body !== undefined) lines.push(`wrk.body = ${luaString(target.body)}`);
  const dynamic = PLACEHOLDER.test(target.body ?? "") || headers.some(([, value]) => PLACEHOLDER.test(value));
  if (!dynamic) return `${lines.join("\n")}\n`;
  // Each thread has its own Lua state: the thread number keeps counters apart.
  return `${lines.join("\n")}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local n = 0
local function fill(text, ip)
  local out = text:gsub("{{n}}", ${luaString(tag)} .. "-" .. thread_id .. "-" .. n)
  out = out:gsub("{{ip}}", ip)
  return out
end
function request()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", (thread_id * 16 + math.floor(n / 65536)) % 256, math.floor(n / 256) % 256, n % 256)
  local headers = { Host = wrk.headers["Host"] or wrk.host }
  -- wrk.format writes Content-Length into wrk.headers; it sets the right one again below.
  for name, value in pairs(wrk.headers) do
    if name ~= "Content-Length" then headers[name] = fill(tostring(value), ip) end
  end
  return wrk.format(nil, nil, headers, wrk.body and fill(wrk.body, ip) or nil)
end
`;
}

/** wrk's durations ("812.00us", "1.20ms", "2.00s") in milliseconds. */
function wrkMillis(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(value);
  if (!match) throw new Error(`wrk: unreadable duration ${value}`);
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[
    match[2] as "us" | "ms" | "s" | "m" | "h"
  ];
  return Number(match[1]) * scale;
}

/** Not one answer within the run (a slow route in a short run): nothing to report. */
export class NoRequestsError extends Error {
  constructor(url: string) {
    super(`${url}: no request completed; measure longer`);
  }
}

/** Reads wrk's `--latency` report; non-2xx/3xx answers and socket errors fail the run. */
export function parseWrk(output: string, url: string): Measured {
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} non-2xx/3xx responses (wrk)`);
  const socket = /Socket errors: (.*)/.exec(output);
  if (socket) throw new Error(`${url}: socket errors (wrk): ${socket[1]}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  if (!rps || !p50 || !p99) throw new Error(`${url}: unreadable wrk output:\n${output}`);
  if (/\s0 requests in/.test(output)) throw new NoRequestsError(url);
  return { rps: Number(rps[1]), p50: wrkMillis(p50[1] as string), p99: wrkMillis(p99[1] as string) };
}

async function runWrk(target: LoadTarget, options: LoadOptions): Promise<Measured> {
  const folder = mkdtempSync(join(tmpdir(), "gatehouse-wrk-"));
  const script = join(folder, "request.lua");
  writeFileSync(script, wrkScript(target, randomBytes(4).toString("hex")));
  try {
    const args = [
      "--latency",
      `-t${options.threads ?? 1}`,
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      "--timeout",
      "10s",
      "-s",
      script,
      target.url,
    ];
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let errors = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    // A script error is only printed: wrk then sends plain GETs, which would measure the wrong thing.
    if (code !== 0 || errors) throw new Error(`wrk exited with ${code}: ${errors}\n${output}`);
    return parseWrk(output, target.url);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The fallback when wrk is missing: autocannon in this process, placeholders filled per request. */
async function runAutocannon(target: LoadTarget, options: LoadOptions): Promise<Measured> {
  const tag = randomBytes(4).toString("hex");
  let n = 0;
  const fill = (text: string, ip: string) =>
    text.replaceAll("{{n}}", `${tag}-1-${n}`).replaceAll("{{ip}}", ip);
  const r = await autocannon({
    url: target.url,
    duration: options.seconds,
    connections: options.connections,
    requests: [
      {
        method: target.method ?? "GET",
        setupRequest: (request) => {
          n++;
          const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
          const headers = Object.fromEntries(
            Object.entries(target.headers ?? {}).map(([name, value]) => [name, fill(value, ip)]),
          );
          return {
            ...request,
            headers,
            ...(target.body === undefined ? {} : { body: fill(target.body, ip) }),
          };
        },
      },
    ],
  });
  if (r.requests.total === 0) throw new NoRequestsError(target.url);
  if (r.non2xx || r.errors || r.timeouts)
    throw new Error(
      `${target.url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts (autocannon)`,
    );
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}
