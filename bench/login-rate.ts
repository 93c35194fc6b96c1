// Log-ins and sign-ups per second against the raw argon2id rate, in interleaved rounds
// (raw, log-in, raw, sign-up, …; ratios within a round), with wrk as the load generator.
// Usage: tsx bench/login-rate.ts [--seconds 5] [--rounds 3] [--connections 8] [--cpu] [database-url]
// --cpu: also the CPU time each log-in and sign-up costs this process (the server, argon2's threads
// included; its kernel time and its main thread's share apart) and the PostgreSQL server's processes on
// this machine (from /proc; a backend that ends within a phase is not counted), next to one raw
// verification's.
// The server runs in this process (production config, TRUST_PROXY so each sign-up comes from its own
// X-Forwarded-For address under the per-address limits); wrk runs in its own process.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hash, verify } from "@node-rs/argon2";
import pino from "pino";
import { buildApp } from "../src/app.js";
import { ARGON2_PARAMS } from "../src/auth/passwords.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "8" },
    cpu: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const databaseUrl = positionals[0];
const PASSWORD = "orchid-Lantern-Harbor-1";

/** CPU time of every PostgreSQL server process on this machine, in ms, by pid (Linux /proc). */
function postgresCpu(): Map<string, number> {
  const found = new Map<string, number>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "postgres") continue;
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      found.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** CPU ms of this process's main thread and of all its other threads (argon2 runs on the latter). */
function threadCpu(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      if (Number(tid) === process.pid) main += ms;
      else others += ms;
    } catch {
      // Gone meanwhile.
    }
  }
  return { main, others };
}

/** `work`'s result with the CPU ms this process and the PostgreSQL processes spent meanwhile. */
async function withCpu<T>(
  work: () => Promise<T>,
): Promise<{ result: T; selfMs: number; systemMs: number; mainMs: number; postgresMs: number }> {
  const pgBefore = postgresCpu();
  const threadsBefore = threadCpu();
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  let postgresMs = 0;
  // A backend started meanwhile counts whole (connecting is part of the cost).
  for (const [pid, ms] of postgresCpu()) postgresMs += ms - (pgBefore.get(pid) ?? 0);
  const mainMs = threadCpu().main - threadsBefore.main;
  return {
    result,
    selfMs: (used.user + used.system) / 1000,
    systemMs: used.system / 1000,
    mainMs,
    postgresMs,
  };
}

/** Raw verifications per second, as many at a time as the server would run (the connections). */
async function rawArgon2(): Promise<number> {
  const stored = await hash(PASSWORD, ARGON2_PARAMS);
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        await verify(stored, PASSWORD);
        done++;
      }
    }),
  );
  return done / seconds;
}

function wrk(url: string, script: string, env: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-wrk-"));
  const file = join(dir, "script.lua");
  writeFileSync(file, script);
  const child = spawn("wrk", ["-t2", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", file, url], {
    env: { ...process.env, ...env },
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) =>
    child.on("exit", () => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
      if (/Non-2xx/.test(out) || !rps) reject(new Error(`wrk: ${out}`));
      else resolve(Number(rps));
    }),
  );
}

const LOGIN = `
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com","password":"${PASSWORD}"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "gatehouse_device=" .. os.getenv("DEVICE")
`;

const SIGNUP = `
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
local counter = 0
function request()
  counter = counter + 1
  local name = os.getenv("RUN") .. "-" .. id .. "-" .. counter
  local body = '{"email":"s' .. name .. '@bench.example","password":"${PASSWORD}","name":"Bench Person","account_name":"Bench ' .. name .. '"}'
  local ip = string.format("10.%d.%d.%d", id, math.floor(counter / 256) % 256, counter % 256)
  return wrk.format("POST", "/api/v1/auth/signup", { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
end
`;

async function main() {
  const url = databaseUrl ?? `sqlite:${join(mkdtempSync(join(tmpdir(), "gatehouse-bench-")), "bench.db")}`;
  const schema = url.startsWith("postgres") ? `bench_${randomBytes(4).toString("hex")}` : undefined;
  const pg = schema ? (await import("pg")).default : undefined;
  const admin = async (statement: string) => {
    if (!pg) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(statement);
    await client.end();
  };
  await admin(`create schema ${schema}`);
  const config = loadConfig({
    NODE_ENV: "production",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATABASE_URL: url,
    PORT: "0",
    TRUST_PROXY: "true",
    SMTP_URL: "",
    DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-bench-data-")),
  });
  const database = openDatabase(url, schema ? { schema } : {});
  try {
    await migrateToLatest(database);
    const log = pino({ level: "warn" });
    const services = await createServices({ config, database, clock: createClock(), log });
    const app = await buildApp(config, services, { logger: log });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await services.auth.createAccountWithRoot({
      email: "bench@example.com",
      password: PASSWORD,
      name: "Bench User",
      accountName: "Bench",
    });
    // The device of every log-in below: known after this first one (no new-device mail).
    const device = randomBytes(24).toString("base64url");
    const first = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: `gatehouse_device=${device}` },
      body: JSON.stringify({ email: "bench@example.com", password: PASSWORD }),
    });
    if (first.status !== 200) throw new Error(`login: ${first.status} ${await first.text()}`);

    console.log(
      `${schema ? "PostgreSQL" : "SQLite"}, ${availableParallelism()} cores, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? "(default 4)"}, ${connections} connections, ${seconds} s each`,
    );
    const cpuColumns = values.cpu
      ? " | CPU ms per verify | per log-in: server (kernel, main thread) / PostgreSQL | per sign-up: the same"
      : "";
    console.log(`round | raw/s | login/s | login % | raw/s | signup/s | signup %${cpuColumns}`);
    for (let round = 1; round <= Number(values.rounds); round++) {
      const raw1 = await withCpu(rawArgon2);
      const login = await withCpu(() => wrk(`${base}/api/v1/auth/login`, LOGIN, { DEVICE: device }));
      const raw2 = await withCpu(rawArgon2);
      const signup = await withCpu(() => wrk(`${base}/api/v1/auth/signup`, SIGNUP, { RUN: `r${round}` }));
      const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;
      const per = (ms: number, rate: number) => (ms / (rate * seconds)).toFixed(1);
      const cpu = values.cpu
        ? [
            per(raw1.selfMs + raw2.selfMs, raw1.result + raw2.result),
            `${per(login.selfMs, login.result)} (${per(login.systemMs, login.result)}, ${per(login.mainMs, login.result)}) / ${per(login.postgresMs, login.result)}`,
            `${per(signup.selfMs, signup.result)} (${per(signup.systemMs, signup.result)}, ${per(signup.mainMs, signup.result)}) / ${per(signup.postgresMs, signup.result)}`,
          ]
        : [];
      console.log(
        [
          round,
          raw1.result.toFixed(0),
          login.result.toFixed(0),
          pct(login.result, raw1.result),
          raw2.result.toFixed(0),
          signup.result.toFixed(0),
          pct(signup.result, raw2.result),
          ...cpu,
        ].join(" | "),
      );
    }
    await app.close();
    await services.close();
  } finally {
    await database.close();
    await admin(`drop schema ${schema} cascade`);
  }
  process.exit(0);
}

await main();
