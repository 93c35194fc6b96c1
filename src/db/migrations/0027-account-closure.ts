import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // A scheduled closure (src/closure): at most one per account; the job loop deletes the account at
  // `delete_at`. `subscription_canceled` says the closure set the subscription to end, so cancelling
  // the closure can undo exactly that.
  await db.schema
    .createTable("account_closures")
    .addColumn("account_id", "text", (c) => c.primaryKey().references("accounts.id").onDelete("cascade"))
    .addColumn("requested_by", "text", (c) => c.notNull())
    .addColumn("requested_at", "text", (c) => c.notNull())
    .addColumn("delete_at", "text", (c) => c.notNull())
    .addColumn("subscription_canceled", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("account_closures_delete_at_idx")
    .on("account_closures")
    .column("delete_at")
    .execute();
  // The mailed cancel links: one per Root and Admin, stored as hashes, dying with the closure.
  await db.schema
    .createTable("account_closure_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) =>
      c.notNull().references("account_closures.account_id").onDelete("cascade"),
    )
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("account_closure_tokens_account_idx")
    .on("account_closure_tokens")
    .column("account_id")
    .execute();
  // Invoices of deleted accounts, kept for the legal retention period without any account reference
  // (by design there is no account_id here); `purge_after` is when the purge job deletes them.
  await db.schema
    .createTable("retained_invoices")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("number", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("issued_at", "text", (c) => c.notNull())
    .addColumn("period_start", "text", (c) => c.notNull())
    .addColumn("period_end", "text", (c) => c.notNull())
    .addColumn("subtotal", "integer", (c) => c.notNull())
    .addColumn("total", "integer", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("paid_at", "text")
    .addColumn("legal_name", "text", (c) => c.notNull())
    .addColumn("address", "text")
    .addColumn("tax_id", "text")
    .addColumn("lines", "text", (c) => c.notNull())
    .addColumn("retained_at", "text", (c) => c.notNull())
    .addColumn("purge_after", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("retained_invoices_purge_after_idx")
    .on("retained_invoices")
    .column("purge_after")
    .execute();
}
