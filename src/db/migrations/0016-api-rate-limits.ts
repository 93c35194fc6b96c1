import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * API rate and key limits: an operator's Enterprise values on the subscription (null = the plan's), and
 * the per-key, per-minute request counters that PostgreSQL keeps when there is no Redis (SQLite keeps
 * them in memory: one process). Old windows are deleted by the job loop.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("subscriptions").addColumn("api_rate_per_minute", "integer").execute();
  await db.schema.alterTable("subscriptions").addColumn("api_keys_limit", "integer").execute();
  await db.schema
    .createTable("api_rate_windows")
    // No foreign key: a counter must not cost a lookup of its key, and it is gone within minutes.
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("minute", "integer", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("api_rate_windows_pkey", ["key_id", "minute"])
    .execute();
  // The counters of a minute are worth no WAL flush per request: unlogged, a crash or a failover empties
  // them (a key gets at most one fresh minute) and the upsert each key request makes stays cheap. The
  // adapter is how Kysely itself tells dialects apart; SQLite never uses this table.
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table api_rate_windows set unlogged`.execute(db);
  }
  await db.schema
    .createIndex("api_rate_windows_minute_idx")
    .on("api_rate_windows")
    .column("minute")
    .execute();
}
