import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { DatabaseHandle, Executor } from "../db/database.js";
import { ensureTrigramExtension } from "../db/migrations/0029-member-search-trigram.js";
import type { Database } from "../db/tables.js";
import { BackupError } from "./backup-error.js";
import { findPgTool, pgConnection, runPgTool } from "./pg-tools.js";

/** What a snapshot of the database holds besides the dump itself, read at the snapshot's moment. */
export type SnapshotFacts = {
  migrations: string[];
  tables: Record<string, number>;
  /** The `stored_files` rows: the files this snapshot names (with their content types). */
  storedFiles: Array<{ key: string; contentType: string }>;
  postgres?: { schema: string; server_version: string; pg_dump_version: string };
};

const execFileAsync = promisify(execFile);

/** Tables that hold no installation data: Kysely's bookkeeping and the job loop's state. */
const BOOKKEEPING = new Set(["kysely_migration", "kysely_migration_lock", "jobs"]);

/**
 * The SQLite tables that hold data: not SQLite's own, and neither a virtual table nor its shadow
 * tables (the member search index, migration 0032: its configuration rows exist in an empty database,
 * and its content is derived from memberships).
 */
const SQLITE_TABLES =
  "select name from pragma_table_list where schema = 'main' and type = 'table' and name not like 'sqlite_%' order by name";

/** Whether anything is restored over: the tables with rows (bookkeeping aside). */
export async function tablesWithRows(database: DatabaseHandle): Promise<Record<string, number>> {
  const counts = await countRows(database.db, await listTables(database), database.dialect);
  return Object.fromEntries(Object.entries(counts).filter(([name, n]) => n > 0 && !BOOKKEEPING.has(name)));
}

async function listTables(database: DatabaseHandle): Promise<{ schema: string | null; names: string[] }> {
  if (database.dialect === "sqlite") {
    const rows = await sql<{ name: string }>`${sql.raw(SQLITE_TABLES)}`.execute(database.db);
    return { schema: null, names: rows.rows.map((r) => r.name) };
  }
  const schema = await postgresSchema(database);
  const rows = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = ${schema} and table_type = 'BASE TABLE' order by table_name
  `.execute(database.db);
  return { schema, names: rows.rows.map((r) => r.name) };
}

async function countRows(
  db: Executor,
  tables: { schema: string | null; names: string[] },
  dialect: DatabaseHandle["dialect"],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const name of tables.names) {
    const table = tables.schema && dialect === "postgres" ? sql.id(tables.schema, name) : sql.id(name);
    const row = await sql<{ n: number | string }>`select count(*) as n from ${table}`.execute(db);
    counts[name] = Number(row.rows[0]?.n ?? 0);
  }
  return counts;
}

/** The schema Gatehouse's tables live in: the one the handle was opened on, else the search path's. */
export async function postgresSchema(database: DatabaseHandle): Promise<string> {
  if (database.schema) return database.schema;
  const row = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(database.db);
  const schema = row.rows[0]?.schema;
  if (!schema) throw new BackupError("The database's search_path names no existing schema.");
  return schema;
}

async function serverMajor(database: DatabaseHandle): Promise<number> {
  const row = await sql<{ v: string }>`select current_setting('server_version_num') as v`.execute(
    database.db,
  );
  return Math.floor(Number(row.rows[0]?.v) / 10_000);
}

/** The facts of a snapshot, read through `db` (which sees exactly the snapshot). */
async function readFacts(
  db: Executor,
  tables: { schema: string | null; names: string[] },
  dialect: DatabaseHandle["dialect"],
): Promise<Omit<SnapshotFacts, "postgres">> {
  const counts = await countRows(db, tables, dialect);
  const migrations = tables.names.includes("kysely_migration")
    ? (
        await db
          .selectFrom("kysely_migration" as never)
          .select("name" as never)
          .execute()
      ).map((r) => (r as { name: string }).name)
    : [];
  const storedFiles = tables.names.includes("stored_files")
    ? (await db.selectFrom("stored_files").select(["key", "content_type"]).execute()).map((r) => ({
        key: r.key,
        contentType: r.content_type,
      }))
    : [];
  return { migrations: migrations.sort(), tables: counts, storedFiles };
}

/** The file of a SQLite database handle (undefined for an in-memory one). */
async function sqliteFile(database: DatabaseHandle): Promise<string | undefined> {
  const row = await sql<{ file: string }>`
    select file from pragma_database_list where name = 'main'
  `.execute(database.db);
  return row.rows[0]?.file || undefined;
}

/**
 * Writes a consistent snapshot of the database to `target` while it stays in use, and returns what it
 * holds. SQLite: the online backup API, copying every page in one step (one read transaction, so one
 * moment; WAL lets writers go on meanwhile). PostgreSQL: `pg_dump --format=custom` inside a
 * repeatable-read transaction whose snapshot it imports (`--snapshot`), so the counts and the file
 * list read here describe exactly what it dumps.
 */
export async function snapshotDatabase(
  database: DatabaseHandle,
  target: string,
  options: { pgBinDir?: string | undefined },
): Promise<SnapshotFacts> {
  if (database.dialect === "sqlite") {
    const file = await sqliteFile(database);
    if (!file) throw new BackupError("An in-memory SQLite database cannot be backed up.");
    const source = new SQLite(file, { fileMustExist: true });
    try {
      source.pragma("busy_timeout = 5000");
      // After the first (empty) step, every remaining page in one step: a write by another connection
      // between steps would restart the copy, so small steps could starve under constant writes.
      await source.backup(target, { progress: () => 0x7fffffff });
    } finally {
      source.close();
    }
    const copy = new SQLite(target, { fileMustExist: true });
    // One self-contained file (no -wal beside it), whatever the live database's journal mode.
    copy.pragma("journal_mode = DELETE");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: copy }) });
    try {
      const names = copy.prepare(SQLITE_TABLES).pluck().all() as string[];
      return await readFacts(db, { schema: null, names }, "sqlite");
    } finally {
      await db.destroy();
    }
  }

  const major = await serverMajor(database);
  const pgDump = await findPgTool("pg_dump", major, options.pgBinDir);
  const tables = await listTables(database);
  const schema = tables.schema as string;
  const connection = pgConnection(database.pgConfig?.connectionString as string);
  const version = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(
    database.db,
  );
  return database.db
    .transaction()
    .setIsolationLevel("repeatable read")
    .setAccessMode("read only")
    .execute(async (trx) => {
      const exported = await sql<{ id: string }>`select pg_export_snapshot() as id`.execute(trx);
      const dump = runPgTool(
        pgDump,
        [
          "--format=custom",
          `--snapshot=${exported.rows[0]?.id}`,
          // A quoted pattern matches the name exactly.
          `--schema="${schema.replaceAll('"', '""')}"`,
          "--file",
          target,
          "--dbname",
          connection.dbname,
        ],
        connection.env,
      );
      // Read while pg_dump runs; a failed dump must not leave this promise unheard.
      const facts = await readFacts(trx, tables, "postgres").catch(async (error: unknown) => {
        await dump.catch(() => {});
        throw error;
      });
      await dump;
      return {
        ...facts,
        postgres: {
          schema,
          server_version: version.rows[0]?.v ?? String(major),
          pg_dump_version: pgDump.version,
        },
      };
    });
}

/**
 * Puts the dumped database `file` into `database`, which must hold no data (checked by the caller).
 * SQLite: the backup API copies the snapshot's pages over the database file. PostgreSQL: pg_restore
 * in one transaction into the same schema (tables an empty migration made there are dropped first).
 */
export async function restoreDatabase(
  database: DatabaseHandle,
  file: string,
  dumped: { postgres?: { schema: string; pg_dump_version: string } | undefined },
  options: { pgBinDir?: string | undefined; stagingDir: string },
): Promise<void> {
  if (database.dialect === "sqlite") {
    const target = await sqliteFile(database);
    if (!target) throw new BackupError("Restoring into an in-memory SQLite database is pointless.");
    const source = new SQLite(file, { fileMustExist: true });
    try {
      await source.backup(target, { progress: () => 0x7fffffff });
    } finally {
      source.close();
    }
    return;
  }

  const schema = await postgresSchema(database);
  if (dumped.postgres && dumped.postgres.schema !== schema)
    throw new BackupError(
      `The backup holds the PostgreSQL schema "${dumped.postgres.schema}", but this database works in "${schema}". ` +
        `Restore into a database whose search_path starts with "${dumped.postgres.schema}".`,
    );
  const dumpMajor = Number.parseInt(dumped.postgres?.pg_dump_version ?? "0", 10);
  const pgRestore = await findPgTool(
    "pg_restore",
    Math.max(await serverMajor(database), dumpMajor),
    options.pgBinDir,
  );
  const tables = await listTables(database);
  if (tables.names.length > 0)
    await database.db.transaction().execute(async (trx) => {
      for (const name of tables.names)
        await sql`drop table if exists ${sql.id(schema, name)} cascade`.execute(trx);
      // The migrations' own function (0033) too: the dump creates it again, or a migration does.
      await sql`drop function if exists ${sql.id(schema, "member_grams")}(text)`.execute(trx);
    });
  const schemaExists = await sql<{ n: number }>`
    select count(*)::int as n from information_schema.schemata where schema_name = ${schema}
  `.execute(database.db);
  const connection = pgConnection(database.pgConfig?.connectionString as string);
  // The archive creates its schema; one that exists already (public, always) is left out of the list.
  const list = `${options.stagingDir}/restore.list`;
  const { stdout } = await execFileAsync(pgRestore.path, ["--list", file], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: unknown) => {
    throw new BackupError(
      `pg_restore could not read the dump: ${String((error as { stderr?: unknown }).stderr ?? error)}`,
    );
  });
  const exists = Number(schemaExists.rows[0]?.n) > 0;
  const kept = stdout
    .split("\n")
    .filter((line) => !(exists && / (SCHEMA - |COMMENT - SCHEMA )\S+ /.test(line)))
    .join("\n");
  await writeFile(list, kept);
  // The dump's member-search index names pg_trgm's operator class; a schema dump never carries the
  // extension itself, so a new database gets it here (migration 0029's step).
  await database.db.transaction().execute((trx) => ensureTrigramExtension(trx));
  await runPgTool(
    pgRestore,
    [
      "--no-owner",
      "--no-privileges",
      "--exit-on-error",
      "--single-transaction",
      "--use-list",
      list,
      "--dbname",
      connection.dbname,
      file,
    ],
    connection.env,
  );
}

/** Rows per table now (bookkeeping included): a restore compares them with the manifest's. */
export async function currentCounts(database: DatabaseHandle): Promise<Record<string, number>> {
  return countRows(database.db, await listTables(database), database.dialect);
}
