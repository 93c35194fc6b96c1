import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Data exports (src/exports): requested through the API or by a schedule, written by the job loop
  // into storage; `file_key` is cleared when the file is purged (the row stays as history).
  await db.schema
    .createTable("exports")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("format", "text", (c) => c.notNull())
    .addColumn("date_from", "text")
    .addColumn("date_to", "text")
    /** JSON object of the type's filters. */
    .addColumn("filters", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("requested_by", "text", (c) => c.notNull())
    .addColumn("requested_by_key", "text")
    .addColumn("schedule_id", "text")
    .addColumn("rows_total", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("rows_done", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("file_key", "text")
    .addColumn("file_bytes", "integer")
    .addColumn("error", "text")
    .addColumn("heartbeat_at", "text")
    .addColumn("started_at", "text")
    .addColumn("finished_at", "text")
    .addColumn("file_deleted_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  // The list, newest first, per account.
  await db.schema
    .createIndex("exports_account_created_idx")
    .on("exports")
    .columns(["account_id", "created_at", "id"])
    .execute();
  // The runner's look for work, and the purge's look for files.
  await db.schema.createIndex("exports_status_idx").on("exports").columns(["status", "created_at"]).execute();
  await db.schema.createIndex("exports_file_idx").on("exports").columns(["file_key", "account_id"]).execute();

  await db.schema
    .createTable("export_schedules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("format", "text", (c) => c.notNull())
    .addColumn("filters", "text", (c) => c.notNull())
    .addColumn("frequency", "text", (c) => c.notNull())
    /** JSON list of user ids. */
    .addColumn("recipients", "text", (c) => c.notNull())
    .addColumn("paused", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_run_at", "text", (c) => c.notNull())
    .addColumn("last_run_at", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("export_schedules_account_created_idx")
    .on("export_schedules")
    .columns(["account_id", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("export_schedules_due_idx")
    .on("export_schedules")
    .columns(["paused", "next_run_at"])
    .execute();

  // Exports read members and invitations in (created_at, id) order, a batch at a time: with these each
  // batch is an index range, not a sort of the whole account (audit events go by their seq index).
  await db.schema
    .createIndex("memberships_account_created_idx")
    .on("memberships")
    .columns(["account_id", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("invitations_account_created_idx")
    .on("invitations")
    .columns(["account_id", "created_at", "id"])
    .execute();
}
