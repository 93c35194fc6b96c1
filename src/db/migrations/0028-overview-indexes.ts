import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // The overview's "sessions" metric counts the sessions an account started per day; without this it
  // reads every session of the installation.
  await db.schema
    .createIndex("sessions_account_created_idx")
    .on("sessions")
    .columns(["account_id", "created_at"])
    .execute();
}
