import { type Kysely, sql } from "kysely";
import { type ChainedFields, chainHash, chainKeyOf, GENESIS_HASH } from "../../audit/audit-chain.js";

const BATCH = 500;

/**
 * Hash chain per account (and one for events without an account): every audit event gets its place
 * (`seq`), the previous event's hash and its own. `audit_chain_heads` holds each chain's last seq and
 * hash; writers advance it with one row-locking upsert, so concurrent writers queue instead of forking.
 * Events recorded before this migration are chained here, oldest first, so an upgraded database verifies.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // PostgreSQL runs each migration in a transaction; SQLite does not, so a crash midway must not
  // leave half-chained events behind.
  if (db.isTransaction) await chain(db);
  else await db.transaction().execute((trx) => chain(trx));
}

// biome-ignore lint/suspicious/noExplicitAny: see above
async function chain(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("audit_events")
    .addColumn("seq", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("audit_events")
    .addColumn("prev_hash", "text", (c) => c.notNull().defaultTo(""))
    .execute();
  await db.schema
    .alterTable("audit_events")
    .addColumn("hash", "text", (c) => c.notNull().defaultTo(""))
    .execute();

  await db.schema
    .createTable("audit_chain_heads")
    .addColumn("chain_key", "text", (c) => c.primaryKey())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();

  const chains = await db.selectFrom("audit_events").select("account_id").distinct().execute();
  for (const { account_id } of chains) await chainExisting(db, account_id as string | null);

  // Backstops: even a writer that bypassed the head could not give two events one place in a chain.
  await db.schema
    .createIndex("audit_events_account_seq_uq")
    .on("audit_events")
    .columns(["account_id", "seq"])
    .unique()
    .execute();
  await db.schema
    .createIndex("audit_events_installation_seq_uq")
    .on("audit_events")
    .column("seq")
    .unique()
    .where(sql<boolean>`account_id is null`)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see above
async function chainExisting(db: Kysely<any>, accountId: string | null): Promise<void> {
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let after: { created_at: string; id: string } | undefined;
  for (;;) {
    let query = db
      .selectFrom("audit_events")
      .selectAll()
      .where("account_id", accountId === null ? "is" : "=", accountId)
      .orderBy("created_at")
      .orderBy("id")
      .limit(BATCH);
    if (after) {
      const { created_at, id } = after;
      query = query.where((eb) =>
        eb.or([
          eb("created_at", ">", created_at),
          eb.and([eb("created_at", "=", created_at), eb("id", ">", id)]),
        ]),
      );
    }
    const rows = (await query.execute()) as ChainedFields[];
    for (const row of rows) {
      seq += 1;
      const hash = chainHash(prevHash, { ...row, seq });
      await db
        .updateTable("audit_events")
        .set({ seq, prev_hash: prevHash, hash })
        .where("id", "=", row.id)
        .execute();
      prevHash = hash;
    }
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    after = { created_at: last.created_at, id: last.id };
  }
  if (seq > 0) {
    await db
      .insertInto("audit_chain_heads")
      .values({ chain_key: chainKeyOf(accountId), seq, hash: prevHash })
      .execute();
  }
}
