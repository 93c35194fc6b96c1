import { type Kysely, sql } from "kysely";

/**
 * Member lists of 50,000 must page in index order. The name, email and last log-in they sort and
 * filter by live on users, so each membership carries a copy, kept in step by the users repository.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("memberships")
    .addColumn("sort_name", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("memberships")
    .addColumn("email_normalized", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema.alterTable("memberships").addColumn("last_login_at", "text").execute();
  await sql`
    update memberships set
      sort_name = (select lower(u.first_name || ' ' || u.last_name || ' ' || u.email_normalized) from users u where u.id = memberships.user_id),
      email_normalized = (select u.email_normalized from users u where u.id = memberships.user_id),
      last_login_at = (select u.last_login_at from users u where u.id = memberships.user_id)
  `.execute(db);
  for (const [name, columns] of [
    ["memberships_sort_name_idx", ["account_id", "sort_name", "user_id"]],
    ["memberships_status_name_idx", ["account_id", "status", "sort_name", "user_id"]],
    ["memberships_sort_email_idx", ["account_id", "email_normalized", "user_id"]],
    ["memberships_joined_idx", ["account_id", "created_at", "user_id"]],
  ] as const) {
    await db.schema
      .createIndex(name)
      .on("memberships")
      .columns([...columns])
      .execute();
  }
  // The list sorts by last log-in with never-logged-in members as '' (same order on both databases).
  await sql`create index memberships_last_login_idx on memberships (account_id, (coalesce(last_login_at, '')), user_id)`.execute(
    db,
  );
}
