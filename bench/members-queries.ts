// The member list's variants measured in-process (services.members.list, one call at a time), so the
// time of the queries shows even on a loaded machine where HTTP p99 mostly measures the queue.
// Usage: tsx bench/members-queries.ts [--members 50000 --calls 200 --database sqlite|postgres]
// PostgreSQL uses TEST_DATABASE_URL, in a schema of its own that is dropped at the end.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { createClock } from "../src/lib/clock.js";
import type { MemberListInput } from "../src/members/members.service.js";
import { createServices } from "../src/services.js";
import { seedMembers } from "../src/testing/seed.js";

const { values } = parseArgs({
  options: {
    members: { type: "string", default: "50000" },
    calls: { type: "string", default: "200" },
    database: { type: "string", default: "sqlite" },
    only: { type: "string", default: "" },
    // Prints each variant's list statement; --keep leaves the PostgreSQL schema or SQLite file for EXPLAIN.
    explain: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const memberCount = Number(values.members);
const postgres = values.database === "postgres";
const pgUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-members-"));
const url = postgres ? pgUrl : `sqlite:${join(dir, "bench.db")}`;
const schema = postgres ? `bench_${randomBytes(4).toString("hex")}` : undefined;

async function admin(statement: string) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(statement);
  await client.end();
}

if (schema) await admin(`create schema ${schema}`);
const database = openDatabase(
  url,
  schema
    ? { schema, ...(values.explain ? { recordQueries: true } : {}) }
    : values.explain
      ? { recordQueries: true }
      : {},
);
try {
  await migrateToLatest(database);
  const config = loadConfig({
    NODE_ENV: "production",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATABASE_URL: url,
    PORT: "0",
    DATA_DIR: dir,
  });
  const services = await createServices({
    config,
    database,
    clock: createClock(),
    log: pino({ level: "warn" }),
  });
  const owner = await services.auth.createAccountWithRoot({
    email: "bench@example.com",
    password: "orchid-Lantern-Harbor-1",
    name: "Bench User",
    accountName: "Bench",
  });
  const { userId, accountId } = owner;
  await seedMembers(services.db, accountId, memberCount);
  // PostgreSQL's planner needs statistics to choose the trigram index (autovacuum would gather them
  // a little later). SQLite gets none: sqlite_stat4 makes hot statements re-plan per binding.
  if (postgres) await sql`analyze`.execute(services.db);
  const actor = { type: "user" as const, id: userId, ip: null, userAgent: null, requestId: null };
  const seededId = (i: number) => `usr_bench${String(i).padStart(17, "0")}`;
  async function team(name: string, size: number) {
    const created = await services.teams.create(actor, accountId, { name });
    const step = Math.floor(memberCount / size);
    const ids = Array.from({ length: size }, (_, k) => seededId(k * step + 1));
    await services.teams.setMembers(actor, accountId, created.id, ids);
    return created.id;
  }
  const bigTeam = await team("Big team", 1000);
  const smallTeam = await team("Small team", 10);
  // Again with the teams in (autovacuum would have analysed them by now in a running system).
  if (postgres) await sql`analyze`.execute(services.db);
  const roles = await services.db
    .selectFrom("roles")
    .select(["id", "key"])
    .where("account_id", "=", accountId)
    .execute();
  const roleId = (key: string) => roles.find((r) => r.key === key)?.id ?? "";
  const list = (input: MemberListInput) => services.members.list(userId, accountId, input);
  async function cursorAfter(input: MemberListInput, pages: number) {
    let cursor: string | undefined;
    for (let p = 0; p < pages; p++)
      cursor = (await list({ ...input, ...(cursor ? { cursor } : {}) })).nextCursor ?? undefined;
    return cursor as string;
  }
  const variants: Array<[string, MemberListInput]> = [
    ["first page (50, by name)", { limit: 50 }],
    ["first page, 200 (max limit)", { limit: 200 }],
    ["first page, 1", { limit: 1 }],
    [
      "next page via cursor",
      { limit: 50, status: "active", cursor: await cursorAfter({ limit: 50, status: "active" }, 1) },
    ],
    ["page 200 via cursor (by name)", { limit: 50, cursor: await cursorAfter({ limit: 50 }, 200) }],
    [
      "page 100 via cursor (last login, desc)",
      {
        limit: 50,
        sort: "last_login_at",
        order: "desc",
        cursor: await cursorAfter({ limit: 50, sort: "last_login_at", order: "desc" }, 100),
      },
    ],
    ["by name, desc", { limit: 50, order: "desc" }],
    ["by email", { limit: 50, sort: "email" }],
    ["by email, desc", { limit: 50, sort: "email", order: "desc" }],
    ["by last login", { limit: 50, sort: "last_login_at" }],
    ["by last login, desc", { limit: 50, sort: "last_login_at", order: "desc" }],
    ["by joined", { limit: 50, sort: "joined_at" }],
    ["by joined, desc", { limit: 50, sort: "joined_at", order: "desc" }],
    ["status=active", { limit: 50, status: "active" }],
    ["status=active, by email", { limit: 50, status: "active", sort: "email" }],
    ["status=suspended", { limit: 50, status: "suspended" }],
    [
      "status=suspended, by joined desc",
      { limit: 50, status: "suspended", sort: "joined_at", order: "desc" },
    ],
    ["status=deactivated (none)", { limit: 50, status: "deactivated" }],
    ["status=pending (invitations)", { limit: 50, status: "pending" }],
    ["role=member (common)", { limit: 50, roleId: roleId("member") }],
    ["role=member, by last login", { limit: 50, roleId: roleId("member"), sort: "last_login_at" }],
    ["role=root (1 member)", { limit: 50, roleId: roleId("root") }],
    ["role=root, by email", { limit: 50, roleId: roleId("root"), sort: "email" }],
    ["team of 1,000", { limit: 50, teamId: bigTeam }],
    ["team of 10", { limit: 50, teamId: smallTeam }],
    ["team of 10, by joined desc", { limit: 50, teamId: smallTeam, sort: "joined_at", order: "desc" }],
    ["mfa=enabled (none)", { limit: 50, mfa: "enabled" }],
    ["mfa=disabled", { limit: 50, mfa: "disabled" }],
    ["no login for 30 days", { limit: 50, inactiveDays: 30 }],
    ["search q=hopper (5,000 match)", { limit: 50, q: "hopper" }],
    ["search q=member4711 (1 match)", { limit: 50, q: "member4711" }],
    ["search q=nobody (no match)", { limit: 50, q: "nobody" }],
    ["search q=ab (2 characters)", { limit: 50, q: "ab" }],
    ["search q=ho (2 characters, 10,000 match)", { limit: 50, q: "ho" }],
    ["search q=a (1 character, all match)", { limit: 50, q: "a" }],
    ["search q=z (1 character, no match)", { limit: 50, q: "z" }],
    ["search q=hopper, by email", { limit: 50, q: "hopper", sort: "email" }],
    ["search q=turing 1234 (name + number)", { limit: 50, q: "turing 1234" }],
  ];
  const rows: string[] = [];
  const calls = Number(values.calls);
  for (const [label, input] of variants) {
    if (values.only && !label.includes(values.only)) continue;
    for (let i = 0; i < 5; i++) await list(input);
    if (values.explain && database.statements) {
      database.statements.length = 0;
      await list(input);
      const listSql = database.statements.find((s) => s.includes("sort_key"));
      console.error(`-- ${label}\n${listSql}`);
    }
    const times: number[] = [];
    const until = Date.now() + 5_000;
    for (let i = 0; i < calls && Date.now() < until; i++) {
      const start = performance.now();
      await list(input);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const pick = (q: number) =>
      (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
    rows.push(
      `| ${label} | ${postgres ? "PostgreSQL" : "SQLite"} | ${times.length} | ${pick(0.5)} | ${pick(0.99)} |`,
    );
    console.error(rows.at(-1));
  }
  console.log(
    [
      `Run: ${new Date().toISOString().slice(0, 16)}Z, ${cpus().length} cores, Node ${process.version}, ${memberCount} members, in-process services.members.list one call at a time; load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}.`,
      "",
      "| variant | database | calls | p50 ms | p99 ms |",
      "| --- | --- | ---: | ---: | ---: |",
      ...rows,
    ].join("\n"),
  );
  await services.close?.();
} finally {
  await database.close();
  if (schema && values.keep) console.error(`kept schema ${schema}: drop it when done`);
  else if (schema) await admin(`drop schema ${schema} cascade`);
  if (values.keep && !schema) console.error(`kept ${join(dir, "bench.db")}: delete it when done`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
