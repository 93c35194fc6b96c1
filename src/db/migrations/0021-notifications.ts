import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // In-app notifications (src/notifications): one row per recipient of an event, read or not.
  await db.schema
    .createTable("notifications")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("cascade"))
    .addColumn("event_id", "text")
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("link", "text")
    .addColumn("read_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("notifications_user_idx")
    .on("notifications")
    .columns(["user_id", "created_at", "id"])
    .execute();
  // Only the choices that differ from the defaults are stored: one row per (user, category) chosen.
  await db.schema
    .createTable("notification_preferences")
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("email", "integer", (c) => c.notNull())
    .addColumn("in_app", "integer", (c) => c.notNull())
    .addColumn("sms", "integer", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("notification_preferences_pk", ["user_id", "category"])
    .execute();
  // The profile's mobile number, proven by a texted code; changing the number clears it.
  await db.schema.alterTable("users").addColumn("mobile_verified_at", "text").execute();
  await db.schema
    .createTable("mobile_codes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // The number the code was sent to: a code proves that number only.
    .addColumn("mobile", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("mobile_codes_user_idx")
    .on("mobile_codes")
    .columns(["user_id", "created_at"])
    .execute();
  // Extra mail headers (List-Unsubscribe), JSON.
  await db.schema.alterTable("mail_queue").addColumn("headers", "text").execute();
}
