import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Credit and proration lines were stored as "N seats × the full price" with a prorated amount, so
  // quantity × unit_amount did not give the amount. Such a line becomes quantity 1 of its amount (the
  // seat count stays in its description); amounts and totals do not change.
  await db
    .updateTable("invoice_lines")
    .set({ quantity: 1, unit_amount: sql`amount` })
    .where(sql`cast(quantity as bigint) * unit_amount`, "<>", sql`amount`)
    .execute();
}
