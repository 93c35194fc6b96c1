// Child-process servers for the benchmark, so the load generator never shares their event loop.
// Usage: tsx bench/servers.ts bare|gatehouse|argon2 [database-url]
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hash, verify } from "@node-rs/argon2";
import Fastify from "fastify";
import { type Insertable, sql } from "kysely";
import pino from "pino";
import { memberSortName } from "../src/accounts/accounts.repository.js";
import { buildApp } from "../src/app.js";
import { ARGON2_PARAMS } from "../src/auth/passwords.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import type { MembershipsTable, UsersTable } from "../src/db/tables.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";

const [kind, databaseUrl] = process.argv.slice(2);

async function bare() {
  const app = Fastify({ logger: false });
  app.get("/bare", async () => ({ id: "usr_0000000000000000000000", email: "bench@example.com", ok: true }));
  await app.listen({ port: 0, host: "127.0.0.1" });
  return app.server.address();
}

/** 50,000 members in one account, made straight in the database (no password hashing needed). */
async function seedMembers(
  services: Awaited<ReturnType<typeof createServices>>,
  accountId: string,
  count: number,
) {
  const db = services.db;
  const roles = await db
    .selectFrom("roles")
    .select(["id", "key"])
    .where("account_id", "=", accountId)
    .execute();
  const roleIds = roles.filter((r) => r.key !== "root").map((r) => r.id);
  const first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"];
  const last = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Berners-Lee",
  ];
  const start = Date.parse("2026-01-01T00:00:00.000Z");
  for (let offset = 0; offset < count; offset += 500) {
    const users: Insertable<UsersTable>[] = [];
    const memberships: Insertable<MembershipsTable>[] = [];
    for (let i = offset; i < Math.min(count, offset + 500); i++) {
      const id = `usr_bench${String(i).padStart(17, "0")}`;
      const at = new Date(start + i * 60_000).toISOString();
      users.push({
        id,
        email: `member${i}@bench.example`,
        email_normalized: `member${i}@bench.example`,
        email_verified_at: at,
        password_hash: null,
        password_changed_at: null,
        must_change_password: 0,
        username: null,
        first_name: first[i % 10] as string,
        last_name: `${last[Math.floor(i / 10) % 10]} ${i}`,
        mobile: null,
        timezone: "UTC",
        locale: "en",
        avatar_url: null,
        preferences: null,
        last_login_at: i % 3 === 0 ? null : at,
        last_login_ip: null,
        last_account_id: accountId,
        deactivated_at: null,
        created_at: at,
        updated_at: at,
      });
      memberships.push({
        id: `mem_bench${String(i).padStart(17, "0")}`,
        account_id: accountId,
        user_id: id,
        role_id: roleIds[i % roleIds.length] as string,
        status: i % 20 === 0 ? "suspended" : "active",
        sort_name: memberSortName(
          first[i % 10] as string,
          `${last[Math.floor(i / 10) % 10]} ${i}`,
          `member${i}@bench.example`,
        ),
        email_normalized: `member${i}@bench.example`,
        last_login_at: i % 3 === 0 ? null : at,
        created_at: at,
        updated_at: at,
      });
    }
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(users).execute();
      await trx.insertInto("memberships").values(memberships).execute();
    });
  }
  // Fresh statistics, as the database's own maintenance would have after a while.
  await sql`analyze`.execute(db);
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
  }
  const config = loadConfig({
    NODE_ENV: "production",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATABASE_URL: url,
    PORT: "0",
  });
  const database = openDatabase(url, schema ? { schema } : {});
  await migrateToLatest(database);
  const log = pino({ level: "warn" });
  const services = await createServices({ config, database, clock: createClock(), log });
  const app = await buildApp(config, services, { logger: log });
  await app.listen({ port: 0, host: "127.0.0.1" });
  // The benchmark user is made through the CLI's path (verified, no mail needed).
  const owner = await services.auth.createAccountWithRoot({
    email: "bench@example.com",
    password: "orchid-Lantern-Harbor-1",
    name: "Bench User",
    accountName: "Bench",
  });
  const members = Number(process.env.BENCH_MEMBERS ?? 0);
  if (members > 0) await seedMembers(services, owner.accountId, members);
  return { ...(app.server.address() as object), account_id: owner.accountId };
}

/** Raw argon2id verifications per second with the server's parameters, `concurrency` at a time. */
async function argon2(seconds: number, concurrency: number) {
  const stored = await hash("orchid-Lantern-Harbor-1", ARGON2_PARAMS);
  let done = 0;
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
  return { per_second: done / seconds, p50: pick(0.5), p99: pick(0.99) };
}

if (kind === "argon2") {
  const result = await argon2(Number(process.argv[3] ?? 10), Number(process.argv[4] ?? 4));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  const address = kind === "bare" ? await bare() : await gatehouse();
  process.stdout.write(`${JSON.stringify({ address })}\n`);
}

// Exit cleanly on a signal so `node --cpu-prof` can write its profile.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
