import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from "kysely";
import pg from "pg";
import type { Database } from "./tables.js";

export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
/** Either the database or an open transaction: repositories accept both. */
export type Executor = Db | Trx;

export type DatabaseHandle = {
  db: Db;
  dialect: "sqlite" | "postgres";
  /** PostgreSQL connection settings, for the LISTEN connection of the cache invalidator. */
  pgConfig?: pg.ClientConfig;
  /** PostgreSQL only: the schema everything lives in, when not the default. */
  schema?: string;
  ping(): Promise<void>;
  close(): Promise<void>;
};

export type OpenOptions = {
  /** PostgreSQL only: the schema to work in (tests give each worker its own). */
  schema?: string;
  poolSize?: number;
};

export function openDatabase(url: string, options: OpenOptions = {}): DatabaseHandle {
  return url.startsWith("sqlite:") ? openSqlite(url.slice("sqlite:".length)) : openPostgres(url, options);
}

function openSqlite(path: string): DatabaseHandle {
  const file = path === ":memory:" ? path : resolve(path);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    dialect: "sqlite",
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * Kysely prepares every query afresh; preparing is the biggest single cost of a small SQLite query.
 * better-sqlite3 runs statements synchronously, so one prepared statement per SQL text can be reused.
 */
function withStatementCache(sqlite: SQLite.Database, maxStatements = 500) {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      let statement = statements.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

function openPostgres(url: string, options: OpenOptions): DatabaseHandle {
  const pgConfig: pg.ClientConfig = { connectionString: url };
  if (options.schema) pgConfig.options = `-c search_path=${options.schema}`;
  const pool = new pg.Pool({ ...pgConfig, max: options.poolSize ?? 10 });
  // A dropped idle connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: "postgres",
    pgConfig,
    ...(options.schema ? { schema: options.schema } : {}),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

export type Effects = {
  /** Runs after the transaction commits (mail, cache eviction); never for a rolled-back one. */
  afterCommit(effect: () => unknown): void;
};

/** One user action = one transaction; side effects wait for the commit. */
export async function transact<T>(db: Db, work: (trx: Trx, effects: Effects) => Promise<T>): Promise<T> {
  const pending: Array<() => unknown> = [];
  const result = await db.transaction().execute((trx) => work(trx, { afterCommit: (e) => pending.push(e) }));
  for (const effect of pending) await effect();
  return result;
}
