import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Webhook endpoints (src/webhooks): where an account's events are POSTed, signed with the endpoint's
  // secret (AES-256-GCM under SECRET_KEY: signing needs it in the clear). After a rotation the previous
  // secret signs alongside until `previous_secret_expires_at`.
  await db.schema
    .createTable("webhook_endpoints")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    // JSON array of event types, or ["*"].
    .addColumn("events", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("secret_enc", "text", (c) => c.notNull())
    .addColumn("previous_secret_enc", "text")
    .addColumn("previous_secret_expires_at", "text")
    // The first failed attempt since the last success (null: the last attempt succeeded, or none yet).
    .addColumn("failing_since", "text")
    .addColumn("disabled_reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_endpoints_account_idx")
    .on("webhook_endpoints")
    .columns(["account_id", "created_at"])
    .execute();

  // One row per (event, endpoint): the body is frozen when the event is fanned out, and `id` is the
  // `webhook-id` of every attempt. `status`: pending → sending (claimed until `next_attempt_at`) →
  // succeeded | failed, or back to pending with the next attempt's time.
  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("endpoint_id", "text", (c) =>
      c.notNull().references("webhook_endpoints.id").onDelete("cascade"),
    )
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("last_attempt_at", "text")
    .addColumn("response_status", "integer")
    .addColumn("response_body", "text")
    .addColumn("duration_ms", "integer")
    .addColumn("error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_due_idx")
    .on("webhook_deliveries")
    .columns(["status", "next_attempt_at"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_endpoint_idx")
    .on("webhook_deliveries")
    .columns(["account_id", "endpoint_id", "created_at"])
    .execute();

  // Every attempt of a delivery, as it went.
  await db.schema
    .createTable("webhook_delivery_attempts")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("delivery_id", "text", (c) =>
      c.notNull().references("webhook_deliveries.id").onDelete("cascade"),
    )
    .addColumn("account_id", "text", (c) => c.notNull())
    .addColumn("attempted_at", "text", (c) => c.notNull())
    .addColumn("response_status", "integer")
    .addColumn("response_body", "text")
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .addColumn("error", "text")
    .execute();
  await db.schema
    .createIndex("webhook_delivery_attempts_delivery_idx")
    .on("webhook_delivery_attempts")
    .columns(["delivery_id", "attempted_at"])
    .execute();

  // Enterprise: the operator's limit of webhook endpoints; null = the plan's.
  await db.schema.alterTable("subscriptions").addColumn("webhooks_limit", "integer").execute();
}
