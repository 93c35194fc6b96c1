// API keys on the request path, against baselines measured in the same run:
//  - GET /api/v1/accounts/{id} (the account profile: one indexed query) with an API key (Bearer) vs the
//    same route with a session cookie vs a bare Fastify route. The key path includes the key check
//    (cached: no query when warm) and the usage recording (in memory, written every 5 s).
//  - the usage recorder's `record` alone, in this process: nanoseconds per request.
// Usage: npm run bench:api-keys [-- --seconds 5 --rounds 3]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import pg from "pg";
import pino from "pino";
import { createUsageRecorder } from "../src/api-keys/usage-recorder.js";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";
import { type Measured, measure, startServer } from "./lib.js";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, rounds: { type: "string", default: "3" } },
});
const seconds = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = 10;

/** Each figure's median over the rounds. */
function median(runs: Measured[]): Measured {
  const mid = (pick: (m: Measured) => number) => {
    const sorted = runs.map(pick).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  return { rps: mid((m) => m.rps), p50: mid((m) => m.p50), p99: mid((m) => m.p99) };
}

const row = (what: string, db: string, m: { rps: number; p50: number; p99: number }, ratio: string) =>
  `| ${what} | ${db} | ${m.rps.toFixed(0)} | ${m.p50} | ${m.p99} | ${ratio} |`;
const percent = (rps: number, of: number) => `${((rps / of) * 100).toFixed(0)}%`;

const rows: string[] = [];
// The key path still counts every request (the rate-limit store runs); the limit is only set out of
// reach, so the benchmark measures the path rather than 429 answers.
const UNLIMITED_KEY_RATE = JSON.stringify({ free: { api_rate_per_minute: 1_000_000_000 } });
process.env.BILLING_PLANS = UNLIMITED_KEY_RATE;
const bare = await startServer(["bare"]);
const baseline = await measure({ url: `${bare.url}/bare` }, seconds, CONNECTIONS);
bare.child.kill();
rows.push(row("bare Fastify route (baseline)", "–", baseline, "100%"));

const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra]);
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "bench@example.com", password: "orchid-Lantern-Harbor-1" }),
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
  const { csrf_token } = (await login.json()) as { csrf_token: string };
  const base = `${server.url}/api/v1/accounts/${server.accountId}`;
  // A log-in is a fresh authentication: the key can be made at once.
  const created = await fetch(`${base}/api-keys`, {
    method: "POST",
    headers: { cookie, "x-csrf-token": csrf_token, "content-type": "application/json" },
    body: JSON.stringify({ name: "Bench", scopes: ["account:read"] }),
  });
  if (created.status !== 201)
    throw new Error(`key creation failed: ${created.status} ${await created.text()}`);
  const { secret } = (await created.json()) as { secret: string };

  // Alternating rounds, medians: on a shared machine load drifts, and both paths should see the same.
  const rounds: Record<"cookie" | "key", Measured[]> = { cookie: [], key: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.cookie.push(await measure({ url: base, headers: { cookie } }, seconds, CONNECTIONS));
    rounds.key.push(
      await measure({ url: base, headers: { authorization: `Bearer ${secret}` } }, seconds, CONNECTIONS),
    );
  }
  const withCookie = median(rounds.cookie);
  const withKey = median(rounds.key);
  rows.push(
    row(
      "GET /api/v1/accounts/{id}, session cookie",
      name,
      withCookie,
      `${percent(withCookie.rps, baseline.rps)} of bare`,
    ),
    row(
      "GET /api/v1/accounts/{id}, API key",
      name,
      withKey,
      `${percent(withKey.rps, baseline.rps)} of bare, ${percent(withKey.rps, withCookie.rps)} of cookie`,
    ),
  );
  server.child.kill();
}

// In this process, without HTTP or load generator: server time per request (app.inject, one at a time),
// the bare route built here too; cookie and key alternated in rounds, medians. Less noisy than the above.
async function inProcess(url: string) {
  let schema: string | undefined;
  if (url.startsWith("postgres")) {
    schema = `bench_${randomBytes(4).toString("hex")}`;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
  }
  const database = openDatabase(url, schema ? { schema } : {});
  await migrateToLatest(database);
  const config = loadConfig({
    NODE_ENV: "production",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATABASE_URL: url,
    PORT: "0",
    BILLING_PLANS: UNLIMITED_KEY_RATE,
  });
  const log = pino({ level: "warn" });
  const services = await createServices({ config, database, clock: createClock(), log });
  services.writeBehind.start();
  const app = await buildApp(config, services, { logger: log });
  await app.ready();
  const owner = await services.auth.createAccountWithRoot({
    email: "bench@example.com",
    password: "orchid-Lantern-Harbor-1",
    name: "Bench User",
    accountName: "Bench",
  });
  const login = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email: "bench@example.com", password: "orchid-Lantern-Harbor-1" },
  });
  const cookie = String(login.headers["set-cookie"]).split(";")[0] ?? "";
  const path = `/api/v1/accounts/${owner.accountId}`;
  const key = await app.inject({
    method: "POST",
    url: `${path}/api-keys`,
    headers: { cookie, "x-csrf-token": login.json().csrf_token },
    payload: { name: "Bench", scopes: ["account:read"] },
  });
  const secret = key.json().secret as string;
  const bare = Fastify({ logger: false });
  bare.get("/bare", async () => ({ id: "usr_0000000000000000000000", email: "bench@example.com", ok: true }));
  await bare.ready();
  const paths = {
    bare: { app: bare, headers: {}, url: "/bare" },
    cookie: { app, headers: { cookie }, url: path },
    key: { app, headers: { authorization: `Bearer ${secret}` }, url: path },
  };
  const timings: Record<keyof typeof paths, number[]> = { bare: [], cookie: [], key: [] };
  const perRound = 2000;
  for (let round = 0; round < 2 * ROUNDS + 1; round++) {
    for (const [name, target] of Object.entries(paths) as Array<
      [keyof typeof paths, (typeof paths)["bare"]]
    >) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) {
        const response = await target.app.inject({ url: target.url, headers: target.headers });
        if (response.statusCode !== 200)
          throw new Error(`${name}: ${response.statusCode} ${response.payload}`);
      }
      // The first round warms caches and the JIT.
      if (round > 0) timings[name].push(Number(process.hrtime.bigint() - started) / perRound / 1000);
    }
  }
  await app.close();
  await services.close();
  await database.close();
  const mid = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return { bare: mid(timings.bare), cookie: mid(timings.cookie), key: mid(timings.key) };
}

const inProcessRows: string[] = [];
const inProcessDatabases: Array<[string, string]> = [["SQLite", "sqlite::memory:"]];
if (process.env.TEST_DATABASE_URL) inProcessDatabases.push(["PostgreSQL", process.env.TEST_DATABASE_URL]);
for (const [name, url] of inProcessDatabases) {
  const us = await inProcess(url);
  inProcessRows.push(
    `| bare Fastify route | ${name} | ${us.bare.toFixed(0)} | 100% |`,
    `| GET /api/v1/accounts/{id}, session cookie | ${name} | ${us.cookie.toFixed(0)} | ${((us.cookie / us.bare) * 100).toFixed(0)}% |`,
    `| GET /api/v1/accounts/{id}, API key | ${name} | ${us.key.toFixed(0)} | ${((us.key / us.bare) * 100).toFixed(0)}%, ${((us.key / us.cookie) * 100).toFixed(0)}% of cookie |`,
  );
}

// The recorder's share of a key request: what `record` costs on its own.
const recorder = createUsageRecorder({ log: pino({ level: "silent" }), write: async () => {} });
const calls = 1_000_000;
const started = process.hrtime.bigint();
for (let i = 0; i < calls; i++) {
  recorder.record({
    accountId: "acct_bench",
    keyId: `key_${i % 10}`,
    at: "2026-12-01T10:00:00.000Z",
    method: "GET",
    route: "/api/v1/accounts/:account_id",
    status: 200,
    ip: "127.0.0.1",
    durationMs: 1,
  });
  if (i % 5000 === 4999) await recorder.flush();
}
const nsPerRecord = Number(process.hrtime.bigint() - started) / calls;

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ${seconds} s per measurement after a 1 s warm-up, cookie and key alternated for ${ROUNDS} rounds (medians), ${CONNECTIONS} connections (autocannon in the parent process, each server in its own child process).`,
    "",
    "| what | database | requests/s | p50 ms | p99 ms | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `In process (app.inject, one request at a time, ${2 * ROUNDS} rounds of 2000 per path after a warm-up round, medians): server time per request.`,
    "",
    "| what | database | µs per request | of bare |",
    "| --- | --- | ---: | ---: |",
    ...inProcessRows,
    "",
    `Usage recorder alone: ${nsPerRecord.toFixed(0)} ns per recorded request (${calls} records, flushed to a no-op every 5000).`,
  ].join("\n"),
);
process.exit(0);
