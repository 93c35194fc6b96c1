import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Member search (`q`) with one or two characters on PostgreSQL: pg_trgm (migration 0029) has no trigram
 * in so short a term, so the list walked or scanned the account's memberships and tested each (a rare
 * pair among 50,000: 30–50 ms). This index holds every character and every pair of characters of
 * memberships.sort_name (already lower-cased, as the term is), so a short term is an index lookup too;
 * the `LIKE` stays the test of a match. Typing in the member search sends one and two characters first.
 *
 * `member_grams` only calls pg_catalog's functions (always searched first), so it means the same under
 * any search_path, pg_restore's empty one included. It costs 18–25 µs for a 45-character name; SQL
 * variants (generate_series, regexp_split_to_array) measured 18–37 µs, none clearly less. It runs on
 * every insert and update of a membership, and on each row a walk of the name index lets through.
 * Duplicates are left in: GIN keeps each key once per row. A restore drops the function with the
 * tables (src/backups/database-dump.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`create function member_grams(t text) returns text[]
    language plpgsql immutable strict parallel safe as $$
    declare
      grams text[] := '{}';
      n int := length(t);
    begin
      for i in 1..n loop
        grams := grams || substr(t, i, 1);
        if i < n then grams := grams || substr(t, i, 2); end if;
      end loop;
      return grams;
    end
    $$`.execute(db);
  await sql`create index memberships_sort_name_grams_idx on memberships using gin (member_grams(sort_name))`.execute(
    db,
  );
}
