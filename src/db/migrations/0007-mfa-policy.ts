import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // When a second factor first became required for the user: the grace period counts from here.
  await db.schema.alterTable("users").addColumn("mfa_required_since", "text").execute();
  await db.schema.alterTable("sessions").addColumn("mfa_enrollment_due_at", "text").execute();
}
