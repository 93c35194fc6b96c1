// Child-process servers for the benchmark, so the load generator never shares their event loop.
// Usage: tsx bench/servers.ts bare|gatehouse|argon2 [database-url]
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash, verify } from "@node-rs/argon2";
import Fastify from "fastify";
import { sql } from "kysely";
import pino from "pino";
import { buildApp, loggerOptions } from "../src/app.js";
import { ARGON2_PARAMS } from "../src/auth/passwords.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";
import { seedMembers } from "../src/testing/seed.js";

const [kind, databaseUrl] = process.argv.slice(2);
/** PostgreSQL: the schema this run created, dropped when the server stops. */
let benchSchema: string | undefined;
let stopGatehouse: (() => Promise<void>) | undefined;

/** Stops the server (its connections would hold the schema's locks) and drops the schema. */
async function dropBenchSchema(): Promise<void> {
  const schema = benchSchema;
  if (!schema || !databaseUrl) return;
  // Five seconds for in-flight requests and jobs; the drop below waits for any locks still held.
  await Promise.race([stopGatehouse?.().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
  const pg = await import("pg");
  const c = new pg.default.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
    benchSchema = undefined;
  } finally {
    await c.end();
  }
}

async function bare() {
  const app = Fastify({ logger: false });
  app.get("/bare", async () => ({ id: "usr_0000000000000000000000", email: "bench@example.com", ok: true }));
  // The file benchmark's baseline: bytes from memory with the headers /files sends.
  const file = Buffer.alloc(Number(process.env.BARE_FILE_BYTES ?? 10_000), 7);
  app.get("/bare-file", async (_request, reply) =>
    reply
      .type("image/png")
      .headers({
        "cache-control": "public, max-age=31536000, immutable",
        "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff",
      })
      .send(file),
  );
  await app.listen({ port: 0, host: "127.0.0.1" });
  return app.server.address();
}

async function gatehouse() {
  const url = databaseUrl ?? `sqlite:${join(mkdtempSync(join(tmpdir(), "gatehouse-bench-")), "bench.db")}`;
  let schema: string | undefined;
  if (url.startsWith("postgres")) {
    const pg = await import("pg");
    schema = `bench_${randomBytes(4).toString("hex")}`;
    const c = new pg.default.Client({ connectionString: url });
    await c.connect();
    await c.query(`create schema ${schema}`);
    await c.end();
    benchSchema = schema;
  }
  const config = loadConfig({
    NODE_ENV: "production",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATABASE_URL: url,
    PORT: "0",
    // The enumeration benchmark varies X-Forwarded-For so per-IP limits do not skew it.
    TRUST_PROXY: process.env.TRUST_PROXY ?? "",
    // The mail benchmark's SMTP server; otherwise the development outbox.
    SMTP_URL: process.env.SMTP_URL ?? "",
    // The API-key benchmark lifts the plan's per-minute key limit so it measures the path, not 429s.
    BILLING_PLANS: process.env.BILLING_PLANS ?? "",
    // Uploaded files in a folder of their own (never the working tree), or STORAGE_URL's bucket.
    DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-bench-data-")),
    STORAGE_URL: process.env.STORAGE_URL ?? "",
    // bench/oidc.ts registers its client through a clients file.
    OIDC_CLIENTS: process.env.OIDC_CLIENTS ?? "",
    // bench/profile.ts sets info, so the cost of request logging shows; the other benchmarks stay at warn.
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  });
  const database = openDatabase(url, schema ? { schema } : {});
  await migrateToLatest(database);
  const log = pino(loggerOptions(config) as pino.LoggerOptions);
  const services = await createServices({ config, database, clock: createClock(), log });
  const app = await buildApp(config, services, { logger: log });
  stopGatehouse = async () => {
    await Promise.all([app.close(), services.jobs.stop()]);
    await services.close();
    await database.close();
  };
  await app.listen({ port: 0, host: "127.0.0.1" });
  services.jobs.start();
  // As main.ts does: buffered writes (API key last use and usage) every few seconds.
  services.writeBehind.start();
  // The benchmark user is made through the CLI's path (verified, no mail needed).
  const owner = await services.auth.createAccountWithRoot({
    email: "bench@example.com",
    password: "orchid-Lantern-Harbor-1",
    name: "Bench User",
    accountName: "Bench",
  });
  const members = Number(process.env.BENCH_MEMBERS ?? 0);
  if (members > 0) {
    await seedMembers(services.db, owner.accountId, members);
    // Fresh statistics on PostgreSQL, as autovacuum would have after a while. Never on SQLite: nothing
    // analyzes a Gatehouse SQLite file, and sqlite_stat4 makes hot statements re-plan per binding.
    if (database.dialect === "postgres") await sql`analyze`.execute(services.db);
  }
  // Users with an account of their own (for the enumeration benchmark): user0@bench.example, user1@…
  const users = Number(process.env.BENCH_USERS ?? 0);
  for (let i = 0; i < users; i++) {
    await services.auth.createAccountWithRoot({
      email: `user${i}@bench.example`,
      password: "orchid-Lantern-Harbor-1",
      name: "Bench Person",
      accountName: `Bench ${i}`,
    });
  }
  // The schema lets the caller drop it afterwards.
  return { ...(app.server.address() as object), account_id: owner.accountId, ...(schema ? { schema } : {}) };
}

/** Raw argon2id verifications per second with the server's parameters, `concurrency` at a time. */
async function argon2(seconds: number, concurrency: number) {
  const stored = await hash("orchid-Lantern-Harbor-1", ARGON2_PARAMS);
  let done = 0;
  const cpuBefore = process.cpuUsage();
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const start = performance.now();
        await verify(stored, "orchid-Lantern-Harbor-1");
        latencies.push(performance.now() - start);
        done++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  // CPU of the whole process (the verifying threads included) per verification, in µs.
  const cpu = process.cpuUsage(cpuBefore);
  return {
    per_second: done / seconds,
    p50: pick(0.5),
    p99: pick(0.99),
    cpu_us: (cpu.user + cpu.system) / Math.max(1, done),
  };
}

if (kind === "argon2") {
  const result = await argon2(Number(process.argv[3] ?? 10), Number(process.argv[4] ?? 4));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  const address = kind === "bare" ? await bare() : await gatehouse();
  process.stdout.write(`${JSON.stringify({ address })}\n`);
}

// Exit cleanly on a signal so `node --cpu-prof` can write its profile, dropping the benchmark's schema
// first (a schema left behind keeps its rows and tables in the database the benchmark was pointed at).
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    void dropBenchSchema().finally(() => process.exit(0));
  });
// Any other exit (an error while seeding…): the same, synchronously, in a short-lived helper process.
process.on("exit", () => {
  if (!benchSchema || !databaseUrl) return;
  spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import pg from "pg"; const c = new pg.Client({ connectionString: process.argv[1] }); await c.connect(); await c.query("drop schema if exists ${benchSchema} cascade"); await c.end();`,
      databaseUrl,
    ],
    { stdio: "ignore", timeout: 10_000 },
  );
});
