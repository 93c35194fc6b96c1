import { type Kysely, PostgresAdapter, sql } from "kysely";

/**
 * Member search (`q`) on SQLite: an FTS5 trigram index over memberships.sort_name, SQLite's counterpart
 * of PostgreSQL's pg_trgm index (migration 0029). The member list uses it to find the few memberships
 * a rare term matches instead of walking the account's name index (src/members/members.repository.ts).
 *
 * The FTS table's rowid must identify a membership for good, and memberships has only an implicit rowid,
 * which VACUUM (and so a `VACUUM INTO` copy) may renumber: `member_search_rows` gives each membership an
 * INTEGER PRIMARY KEY of its own (never renumbered) that the FTS rows use. Triggers keep both in step
 * with every insert, rename and delete, whichever code path makes it. `case_sensitive 1`: sort_name is
 * already lower-cased (in JavaScript, for every alphabet) and so is the term.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`create table member_search_rows (
    id integer primary key,
    membership_id text not null unique
  )`.execute(db);
  await sql`create virtual table member_search using fts5(sort_name, tokenize = 'trigram case_sensitive 1')`.execute(
    db,
  );
  await sql`create trigger member_search_insert after insert on memberships begin
    insert into member_search_rows (membership_id) values (new.id);
    insert into member_search (rowid, sort_name)
      select r.id, new.sort_name from member_search_rows r where r.membership_id = new.id;
  end`.execute(db);
  await sql`create trigger member_search_update after update of sort_name on memberships
    when new.sort_name is not old.sort_name begin
    update member_search set sort_name = new.sort_name
      where rowid = (select r.id from member_search_rows r where r.membership_id = new.id);
  end`.execute(db);
  await sql`create trigger member_search_delete after delete on memberships begin
    delete from member_search where rowid = (select r.id from member_search_rows r where r.membership_id = old.id);
    delete from member_search_rows where membership_id = old.id;
  end`.execute(db);
  await sql`insert into member_search_rows (membership_id) select id from memberships order by id`.execute(
    db,
  );
  await sql`insert into member_search (rowid, sort_name)
    select r.id, m.sort_name from member_search_rows r join memberships m on m.id = r.membership_id`.execute(
    db,
  );
}
