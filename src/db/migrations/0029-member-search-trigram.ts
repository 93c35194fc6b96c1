import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Member search (`q`, a substring of the lower-cased "first last email" in memberships.sort_name) on
 * PostgreSQL answers from a trigram index instead of walking the account's memberships until a page
 * is full (one pass over all of them for a rare term). SQLite has no trigram index and keeps walking.
 * Also the indexes other member-list filters start from.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // The member list's status=deactivated starts from the (few) logins turned off, on both databases.
  await sql`create index users_deactivated_idx on users (id) where deactivated_at is not null`.execute(db);
  // A role or status filter with any sort walks its own slice of the account in sort order: a rare role
  // (one Root among 50,000) is then a short seek, not a walk over every membership. SQLite has no
  // statistics to tell it which filter is rare (ANALYZE is left out, see README), so the index decides.
  for (const filter of ["role_id", "status"] as const) {
    const prefix = filter === "role_id" ? "role" : "status";
    for (const [sort, key] of [
      ["name", "sort_name"],
      ["email", "email_normalized"],
      ["joined", "created_at"],
      ["last_login", "(coalesce(last_login_at, ''))"],
    ] as const) {
      // memberships_status_name_idx exists since 0004.
      if (prefix === "status" && sort === "name") continue;
      await sql`create index ${sql.id(`memberships_${prefix}_${sort}_idx`)} on memberships (account_id, ${sql.id(filter)}, ${sql.raw(key)}, user_id)`.execute(
        db,
      );
    }
  }
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  const schema = await ensureTrigramExtension(db);
  await sql`create index memberships_sort_name_trgm_idx on memberships using gin (sort_name ${sql.id(schema)}.gin_trgm_ops)`.execute(
    db,
  );
}

/** Any constant: only this migration takes it, in whichever schema it runs. */
const EXTENSION_LOCK = 290_029;

/**
 * Creates pg_trgm (in public) unless it exists, and returns the schema that holds it. Processes or
 * test workers migrating their own schemas at once would collide on CREATE EXTENSION (a unique
 * violation in the catalog): they take turns under a transaction-scoped advisory lock. Schemas
 * migrate with search_path set to themselves only, so the operator class is always schema-qualified.
 */
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function ensureTrigramExtension(db: Kysely<any>): Promise<string> {
  await sql`select pg_advisory_xact_lock(${EXTENSION_LOCK})`.execute(db);
  try {
    await sql`create extension if not exists pg_trgm with schema public`.execute(db);
  } catch (error) {
    // Deliberately an error, not a skipped index: every installation ends with the same schema, and
    // a search that silently scans is the slowness this migration exists to remove.
    if ((error as { code?: unknown }).code === "42501")
      throw new Error(
        "Migration 0029 needs the pg_trgm extension and this database user may not create it. " +
          "Run `CREATE EXTENSION pg_trgm WITH SCHEMA public` once as the database owner (pg_trgm is a " +
          "trusted extension since PostgreSQL 13) or a superuser, then start Gatehouse again.",
        { cause: error },
      );
    throw error;
  }
  // An installation may have created it earlier in another schema (IF NOT EXISTS then leaves it there).
  const { rows } = await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pg_trgm'`.execute(db);
  return rows[0]?.schema ?? "public";
}
