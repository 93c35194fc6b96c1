// The peer in the request-path benchmark: better-auth 1.7 as its docs set it up, in its own process so
// the load generator never shares its event loop (like bench/servers.ts). Email and password sign-in,
// its Kysely adapter on SQLite (a better-sqlite3 file in a temporary folder) or PostgreSQL (a pg Pool
// on a schema of its own, created here and dropped at exit), its rate limiter and logger off, served by
// its recommended Node handler (`toNodeHandler` from better-auth/node on a bare node:http server),
// NODE_ENV=production. Tables come from its own migration API (`getMigrations`).
// Usage: tsx bench/better-auth-server.ts [postgres-url]   → prints {"address":{"port":…}} on stdout
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BetterAuthOptions, betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import Database from "better-sqlite3";
import pg from "pg";

process.env.NODE_ENV = "production";
const databaseUrl = process.argv[2];

/** Undone at exit, in reverse order: the schema or temporary folder, the pool. */
const cleanups: Array<() => Promise<void> | void> = [];
let exiting = false;
async function exit(code: number) {
  if (exiting) return;
  exiting = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      process.stderr.write(`better-auth bench server cleanup: ${String(error)}\n`);
    }
  }
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void exit(0));

/** The database option as better-auth's adapter docs show it: a pg Pool or a better-sqlite3 Database. */
async function openDatabase(): Promise<BetterAuthOptions["database"]> {
  if (databaseUrl?.startsWith("postgres")) {
    // A schema of its own, dropped at exit: a leftover schema of better-auth tables is nothing a later
    // Gatehouse start on the same database should have to step around.
    const schema = `bench_ba_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    });
    const pool = new pg.Pool({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
    cleanups.push(() => pool.end());
    return pool;
  }
  const folder = mkdtempSync(join(tmpdir(), "better-auth-bench-"));
  cleanups.push(() => rmSync(folder, { recursive: true, force: true }));
  const sqlite = new Database(join(folder, "auth.db"));
  // As a production SQLite deployment would run (Gatehouse does the same).
  sqlite.pragma("journal_mode = WAL");
  cleanups.push(() => {
    sqlite.close();
  });
  return sqlite;
}

async function start() {
  const database = await openDatabase();
  // Listen first: better-auth wants its public URL (the port) in its options.
  let handler: ReturnType<typeof toNodeHandler> | undefined;
  const server = createServer((request, response) => {
    if (handler) return void handler(request, response);
    response.statusCode = 503;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const options = {
    baseURL: `http://127.0.0.1:${port}`,
    secret: randomBytes(32).toString("hex"),
    database,
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    logger: { disabled: true },
    telemetry: { enabled: false },
  } satisfies BetterAuthOptions;
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  handler = toNodeHandler(betterAuth(options));
  process.stdout.write(`${JSON.stringify({ address: { port } })}\n`);
}

start().catch((error: unknown) => {
  process.stderr.write(`better-auth bench server: ${error instanceof Error ? error.stack : String(error)}\n`);
  void exit(1);
});
