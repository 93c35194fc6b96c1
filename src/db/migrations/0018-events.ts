import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // The event stream (src/events): one row per meaningful change, written in the change's transaction
  // (a transactional outbox). The fan-out job hands each event once to webhooks and notifications and
  // stamps `fanned_out_at`.
  await db.schema
    .createTable("events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("occurred_at", "text", (c) => c.notNull())
    // The resource as the API shows it, JSON.
    .addColumn("data", "text", (c) => c.notNull())
    // Who caused it: "user" | "api_key" | "system", and their id.
    .addColumn("actor_type", "text", (c) => c.notNull())
    .addColumn("actor_id", "text")
    .addColumn("fanned_out_at", "text")
    .execute();
  await db.schema
    .createIndex("events_pending_idx")
    .on("events")
    .columns(["fanned_out_at", "occurred_at"])
    .execute();
  await db.schema
    .createIndex("events_account_idx")
    .on("events")
    .columns(["account_id", "occurred_at"])
    .execute();
}
