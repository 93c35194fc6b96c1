import { sql } from "kysely";
import type { DatabaseHandle, Executor } from "./database.js";

/**
 * Every table of the schema that has an `account_id` column, read from the database itself (not from
 * the TypeScript types), so a table added by a later migration is covered without being listed here.
 */
export async function tablesWithAccountId(
  db: Executor,
  dialect: DatabaseHandle["dialect"],
): Promise<string[]> {
  if (dialect === "postgres") {
    const rows = await sql<{ table_name: string }>`
      select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema() and c.column_name = 'account_id' and t.table_type = 'BASE TABLE'
      order by c.table_name`.execute(db);
    return rows.rows.map((r) => r.table_name);
  }
  const rows = await sql<{ name: string }>`
    select m.name from sqlite_master m, pragma_table_info(m.name) p
    where m.type = 'table' and p.name = 'account_id'
    order by m.name`.execute(db);
  return rows.rows.map((r) => r.name);
}
