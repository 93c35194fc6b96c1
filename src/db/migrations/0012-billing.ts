import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // One row per paying (or once paying) account; no row = the Free plan.
  await db.schema
    .createTable("subscriptions")
    .addColumn("account_id", "text", (c) => c.primaryKey().references("accounts.id").onDelete("cascade"))
    .addColumn("plan", "text", (c) => c.notNull())
    .addColumn("interval", "text", (c) => c.notNull())
    // Cents per seat per month for this subscription (the catalog price when it started, or an
    // operator's custom Enterprise price); an annual period bills 12 × this.
    .addColumn("unit_price", "integer", (c) => c.notNull())
    // Enterprise: the operator's seat limit; null = the plan's.
    .addColumn("seat_limit", "integer")
    .addColumn("anchor_day", "integer", (c) => c.notNull())
    .addColumn("period_start", "text", (c) => c.notNull())
    .addColumn("period_end", "text", (c) => c.notNull())
    // The highest seat count billed in this period (removals do not lower it).
    .addColumn("billed_seats", "integer", (c) => c.notNull())
    // What happens at period end: "free" for a downgrade or a cancellation; null = renew.
    .addColumn("ends_with", "text")
    // Unused value of an earlier plan (a downgrade mid-period) that later invoices consume first.
    .addColumn("credit_balance", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("auto_pay", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("subscriptions_period_end_idx")
    .on("subscriptions")
    .column("period_end")
    .execute();

  await db.schema
    .createTable("invoices")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    // Sequential per account (`ACME-0001`); unique within the account, see the index below.
    .addColumn("number", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("period_start", "text", (c) => c.notNull())
    .addColumn("period_end", "text", (c) => c.notNull())
    .addColumn("subtotal", "integer", (c) => c.notNull())
    .addColumn("total", "integer", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    .addColumn("payment_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_payment_at", "text")
    .addColumn("last_payment_error", "text")
    .addColumn("paid_at", "text")
    .addColumn("voided_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("invoices_account_idx")
    .on("invoices")
    .columns(["account_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("invoices_account_number_idx")
    .on("invoices")
    .columns(["account_id", "number"])
    .unique()
    .execute();
  await db.schema
    .createIndex("invoices_retry_idx")
    .on("invoices")
    .columns(["status", "next_payment_at"])
    .execute();

  await db.schema
    .createTable("invoice_lines")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("invoice_id", "text", (c) => c.notNull().references("invoices.id").onDelete("cascade"))
    .addColumn("position", "integer", (c) => c.notNull())
    // "seats", "proration" or "credit".
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("quantity", "integer", (c) => c.notNull())
    .addColumn("unit_amount", "integer", (c) => c.notNull())
    .addColumn("amount", "integer", (c) => c.notNull())
    .addColumn("period_start", "text", (c) => c.notNull())
    .addColumn("period_end", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("invoice_lines_invoice_idx")
    .on("invoice_lines")
    .columns(["invoice_id", "position"])
    .execute();

  await db.schema
    .createTable("payment_methods")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    // "card" or "ach".
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    // The provider's reference for charging (the offline provider keeps its test token).
    .addColumn("provider_ref", "text", (c) => c.notNull())
    .addColumn("brand", "text")
    .addColumn("bank_name", "text")
    .addColumn("last4", "text", (c) => c.notNull())
    .addColumn("exp_month", "integer")
    .addColumn("exp_year", "integer")
    .addColumn("is_default", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("payment_methods_account_idx")
    .on("payment_methods")
    .column("account_id")
    .execute();

  // Usage this month, counted by later features (API calls, storage).
  await db.schema
    .createTable("usage_counters")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("month", "text", (c) => c.notNull())
    .addColumn("api_calls", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("storage_bytes", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("usage_counters_pk", ["account_id", "month"])
    .execute();
}
