import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // What the account chose (src/retention). A null day count is "the default"; `audit_log_forever` is
  // Enterprise's "keep forever" (a null count alone would be the plan's default).
  await db.schema
    .createTable("account_retention")
    .addColumn("account_id", "text", (c) => c.primaryKey().references("accounts.id").onDelete("cascade"))
    .addColumn("audit_log_days", "integer")
    .addColumn("audit_log_forever", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("export_files_days", "integer")
    .addColumn("deleted_member_days", "integer")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  // The limit in force per setting (min of the choice and the plan) and since when. A lowered or newly
  // introduced limit applies in full only from `grace_until`; until then `days_before` (null: nothing)
  // governs, so history kept under the old terms is not purged early.
  await db.schema
    .createTable("retention_limits")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("setting", "text", (c) => c.notNull())
    .addColumn("days", "integer")
    .addColumn("since", "text", (c) => c.notNull())
    .addColumn("grace_until", "text", (c) => c.notNull())
    .addColumn("days_before", "integer")
    .addPrimaryKeyConstraint("retention_limits_pk", ["account_id", "setting"])
    .execute();

  // Where an account's audit chain now starts: the last purged event (its seq, id and hash), signed
  // with a key derived from SECRET_KEY so a forged or edited cut does not verify. One row per account.
  await db.schema
    .createTable("audit_checkpoints")
    .addColumn("account_id", "text", (c) => c.primaryKey().references("accounts.id").onDelete("cascade"))
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("purged_count", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("mac", "text", (c) => c.notNull())
    .execute();

  // People who left an account, so their personal data there is anonymised `deleted_member_days` later.
  await db.schema
    .createTable("retention_departures")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("left_at", "text", (c) => c.notNull())
    .addColumn("anonymised_at", "text")
    .addPrimaryKeyConstraint("retention_departures_pk", ["account_id", "user_id"])
    .execute();

  // Personal data an audit event mentions (emails, names) lives outside the hashed fields, so it can be
  // erased without breaking the chain. Events recorded before keep theirs in `changes`.
  await db.schema.alterTable("audit_events").addColumn("personal", "text").execute();
}
