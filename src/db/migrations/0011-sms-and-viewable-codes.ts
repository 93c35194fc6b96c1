import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // The development SMS outbox, like mail_outbox: every process sees it, nothing leaves the machine.
  await db.schema
    .createTable("sms_outbox")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("to_number", "text", (c) => c.notNull())
    .addColumn("text_body", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  // An AES-256-GCM sealed copy of a recovery code, kept only so an account admin can show it to a
  // locked-out member; null for Root users, whose codes nobody else may see.
  await db.schema.alterTable("recovery_codes").addColumn("code_enc", "text").execute();
}
