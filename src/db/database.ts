import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SQLite from "better-sqlite3";
import {
  type AliasedRawBuilder,
  Kysely,
  type LogEvent,
  PostgresAdapter,
  PostgresDialect,
  type QueryCreator,
  SqliteDialect,
  sql,
  type Transaction,
} from "kysely";
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
  /**
   * With `recordQueries`: every SQL statement run through Kysely, in order (tests count them: the
   * query budgets of hot endpoints). Undefined otherwise, and then recording costs nothing.
   */
  statements?: string[];
};

export type OpenOptions = {
  /** PostgreSQL only: the schema to work in (tests give each worker its own). */
  schema?: string;
  poolSize?: number;
  /** PostgreSQL only: shown in pg_stat_activity; default `gatehouse` unless the URL names one. */
  applicationName?: string;
  /** Tests: keep every statement in `statements` (see DatabaseHandle). */
  recordQueries?: boolean;
};

/** How long a request waits for a PostgreSQL connection (a new one, or a free one from the pool). */
export const CONNECT_TIMEOUT_MS = 5000;

export function openDatabase(url: string, options: OpenOptions = {}): DatabaseHandle {
  const statements = options.recordQueries ? ([] as string[]) : undefined;
  const log = statements && ((event: LogEvent) => void statements.push(event.query.sql));
  const handle = url.startsWith("sqlite:")
    ? openSqlite(url.slice("sqlite:".length), log)
    : openPostgres(url, options, log);
  return statements ? { ...handle, statements } : handle;
}

type QueryLog = ((event: LogEvent) => void) | undefined;

function openSqlite(path: string, log: QueryLog): DatabaseHandle {
  const file = path === ":memory:" ? path : resolve(path);
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  // Savepoints journal the pages they change; in memory, rolling one back (sign-up with a taken address)
  // costs what committing does instead of a temporary file's writes.
  sqlite.pragma("temp_store = MEMORY");
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
    ...(log ? { log } : {}),
  });
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

function openPostgres(url: string, options: OpenOptions, log: QueryLog): DatabaseHandle {
  const pgConfig: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(options.applicationName
      ? { application_name: options.applicationName }
      : { fallback_application_name: "gatehouse" }),
  };
  if (options.schema) pgConfig.options = `-c search_path=${options.schema}`;
  const pool = new pg.Pool({ ...pgConfig, max: options.poolSize ?? 10 });
  // A connection that dies (restart, failover, terminated backend) emits 'error'; unheard, that kills
  // the process. The pool hears it for idle clients; a checked-out client is heard here, and its query
  // fails (a 503 for the request, see isConnectionLoss); the pool drops it when it is released.
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
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

/** SQLSTATE classes and codes of a lost or refused connection (class 08; admin/crash shutdown; starting up; full). */
const CONNECTION_LOSS_SQLSTATE = /^(08...|57P0[123]|53300)$/;
const CONNECTION_LOSS_ERRNO = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
// pg's own messages for a connection that ended, never came, or broke earlier.
const CONNECTION_LOSS_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

/**
 * True when a query failed because the database connection was lost or could not be made: the
 * database restarts, fails over or is out of reach. The request may succeed if retried shortly.
 */
export function isConnectionLoss(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_LOSS_SQLSTATE.test(code) || CONNECTION_LOSS_ERRNO.has(code)))
      return true;
    if (CONNECTION_LOSS_MESSAGE.test(e.message)) return true;
  }
  return false;
}

/** Unique violation, serialization failure, deadlock (PostgreSQL); constraint and busy codes (SQLite). */
const CONCURRENT_CONFLICT_CODE =
  /^(23505|40001|40P01|SQLITE_CONSTRAINT_UNIQUE|SQLITE_CONSTRAINT_PRIMARYKEY|SQLITE_BUSY(_\w+)?)$/;

/**
 * True when a write lost a race with another transaction (two requests creating the same name at
 * once): the transaction rolled back and the request can be tried again. Checks that read before
 * writing catch the usual case; this is the backstop for the race between the read and the write.
 */
export function isConcurrentConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && CONCURRENT_CONFLICT_CODE.test(code);
}

export type Effects = {
  /** Runs after the transaction commits (mail, cache eviction); never for a rolled-back one. */
  afterCommit(effect: () => unknown): void;
};

/** Notifications a transact() transaction on PostgreSQL holds back to send with a later statement. */
type Notes = Array<{ channel: string; message: string }>;

// The effects of each open transact() transaction, so code that only has the executor (a repository
// announcing a change to the caches) can still act after the commit; on PostgreSQL, its held-back notes.
const openTransactions = new WeakMap<Trx, { effects: Effects; notes?: Notes }>();

/** One user action = one transaction; side effects wait for the commit. */
export async function transact<T>(db: Db, work: (trx: Trx, effects: Effects) => Promise<T>): Promise<T> {
  const pending: Array<() => unknown> = [];
  const effects: Effects = { afterCommit: (e) => pending.push(e) };
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const result = await db.transaction().execute(async (trx) => {
    openTransactions.set(trx, postgres ? { effects, notes: [] } : { effects });
    const done = await work(trx, effects);
    // Notifications no statement took along: in one statement before the commit.
    const rest = notesAlong(trx);
    if (rest) await rest.creator.selectFrom(rest.source).selectAll().execute();
    return done;
  });
  for (const effect of pending) await effect();
  return result;
}

/**
 * `pg_notify(channel, message)`, inside transact() held back to go with the transaction's next
 * statement that takes notes along (`notesAlong`: the audit chain head's upsert, the log-in's
 * bookkeeping) or, when none comes, sent in one statement before the commit: a notification is
 * delivered at the commit whenever it was issued, and takes no row lock, so only a round trip changes.
 * At once outside transact().
 */
export async function notifyAlong(executor: Executor, channel: string, message: string): Promise<void> {
  const notes = executor.isTransaction ? openTransactions.get(executor as Trx)?.notes : undefined;
  if (notes) notes.push({ channel, message });
  else await sql`select pg_notify(${channel}, ${message})`.execute(executor);
}

/**
 * For a statement that takes the held-back notifications along: `creator` (the executor with them as a
 * WITH query) to build the statement on, and `source`, a one-row subquery over that WITH query that the
 * statement must read (its FROM) — a WITH query that only selects runs only when read. Empties the
 * transaction's list; undefined when nothing is held back.
 */
export function notesAlong(
  executor: Executor,
): { creator: QueryCreator<Database>; source: AliasedRawBuilder<{ notified: number }, "along"> } | undefined {
  const open = executor.isTransaction ? openTransactions.get(executor as Trx) : undefined;
  if (!open?.notes || open.notes.length === 0) return undefined;
  const calls = sql.join(open.notes.map((n) => sql`pg_notify(${n.channel}, ${n.message})`));
  open.notes = [];
  const creator = executor.with("along_notes", () => sql`(select ${calls})` as never) as unknown;
  return {
    creator: creator as QueryCreator<Database>,
    source: sql<{ notified: number }>`(select count(*) as notified from along_notes)`.as("along"),
  };
}

/**
 * Runs `effect` once what `executor` wrote is committed: after the commit of a transact() transaction,
 * at once for the database itself (each statement commits on its own). A transaction opened some other
 * way also runs it at once (before its commit: a reload in between may see the old data).
 */
export function afterCommitOf(executor: Executor, effect: () => unknown): void {
  const effects = executor.isTransaction ? openTransactions.get(executor as Trx)?.effects : undefined;
  if (effects) effects.afterCommit(effect);
  else effect();
}
