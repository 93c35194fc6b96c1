import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase } from "../testing/server-process.js";
import { openDatabase } from "./database.js";
import { migrateToLatest, migrationNames } from "./migrate.js";

const MIGRATION_TIMEOUT = 60_000;

describe.runIf(process.env.TEST_DATABASE_URL)(
  "migrating a PostgreSQL database that has other schemas",
  () => {
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
    beforeAll(async () => {
      scratch = await createScratchDatabase("postgres");
      // What a benchmark run used to leave behind: Kysely's bookkeeping tables in a schema of its own.
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      await client.query("create schema bench_leftover");
      await client.query(
        "create table bench_leftover.kysely_migration (name varchar(255) primary key, timestamp varchar(255) not null)",
      );
      await client.query(
        "create table bench_leftover.kysely_migration_lock (id varchar(255) primary key, is_locked integer not null default 0)",
      );
      await client.query("insert into bench_leftover.kysely_migration_lock values ('migration_lock', 0)");
      await client.end();
    });
    afterAll(() => scratch?.drop());

    it(
      "migrates the default schema (current_schema, here public)",
      async () => {
        const database = openDatabase(scratch.url);
        try {
          expect(await migrateToLatest(database)).toEqual(migrationNames());
          // Ours are in public; the leftover schema's are untouched.
          const { rows } = await sql<{ schema: string; n: number }>`
          select table_schema as schema, count(*)::int as n from information_schema.tables
          where table_name = 'kysely_migration' group by table_schema order by table_schema`.execute(
            database.db,
          );
          expect(rows).toEqual([
            { schema: "bench_leftover", n: 1 },
            { schema: "public", n: 1 },
          ]);
          expect(await migrateToLatest(database)).toEqual([]);
        } finally {
          await database.close();
        }
      },
      MIGRATION_TIMEOUT,
    );

    it(
      "migrates the schema the URL's search_path names",
      async () => {
        const admin = openDatabase(scratch.url);
        await sql`create schema app`.execute(admin.db);
        await admin.close();
        const url = new URL(scratch.url);
        url.searchParams.set("options", "-c search_path=app");
        const database = openDatabase(url.toString());
        try {
          expect(await migrateToLatest(database)).toEqual(migrationNames());
          const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from information_schema.tables
          where table_schema = 'app' and table_name in ('users', 'kysely_migration')`.execute(database.db);
          expect(rows[0]?.n).toBe(2);
        } finally {
          await database.close();
        }
      },
      MIGRATION_TIMEOUT,
    );
  },
);
