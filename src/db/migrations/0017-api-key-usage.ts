import type { Kysely } from "kysely";

/**
 * API key usage: requests per key per UTC day by status class, and a request log per key (kept 30
 * days). Both go with their key (deleted with the member who created it, or with the account). The
 * account's monthly total lives in `usage_counters.api_calls` (0012), fed by the same flush.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("api_key_usage_days")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("key_id", "text", (c) => c.notNull().references("api_keys.id").onDelete("cascade"))
    // YYYY-MM-DD, UTC.
    .addColumn("day", "text", (c) => c.notNull())
    // 1xx and 3xx answers count with 2xx: the key's request was not refused.
    .addColumn("status_2xx", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("status_4xx", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("status_5xx", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("api_key_usage_days_pk", ["account_id", "key_id", "day"])
    .execute();

  await db.schema
    .createTable("api_key_request_logs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("key_id", "text", (c) => c.notNull().references("api_keys.id").onDelete("cascade"))
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    // The route pattern (`/api/v1/accounts/:account_id/members`): never concrete ids or a query string.
    .addColumn("route", "text", (c) => c.notNull())
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("ip", "text")
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("api_key_request_logs_key_at_idx")
    .on("api_key_request_logs")
    .columns(["account_id", "key_id", "at", "id"])
    .execute();
  // The retention purge deletes by age across all accounts.
  await db.schema
    .createIndex("api_key_request_logs_at_idx")
    .on("api_key_request_logs")
    .column("at")
    .execute();
  // Deleting a key cascades here; without an index led by key_id each cascade would scan.
  await db.schema
    .createIndex("api_key_request_logs_key_idx")
    .on("api_key_request_logs")
    .column("key_id")
    .execute();
  await db.schema
    .createIndex("api_key_usage_days_key_idx")
    .on("api_key_usage_days")
    .column("key_id")
    .execute();
}
