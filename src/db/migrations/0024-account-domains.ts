import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // Custom domains (src/domains): an account proves a host name with a TXT record, then its login and
  // app are served there. `verification_token` is published in DNS, so it is no secret.
  await db.schema
    .createTable("account_domains")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("hostname", "text", (c) => c.notNull())
    .addColumn("verification_token", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("verified_at", "text")
    .addColumn("last_checked_at", "text")
    .addColumn("failure_reason", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  // An account lists a host name once.
  await db.schema
    .createIndex("account_domains_account_hostname_uq")
    .on("account_domains")
    .columns(["account_id", "hostname"])
    .unique()
    .execute();
  // A host name is verified by at most one account (the host → account lookup of every request on it).
  await db.schema
    .createIndex("account_domains_verified_hostname_uq")
    .on("account_domains")
    .column("hostname")
    .unique()
    .where(sql<boolean>`status = 'verified'`)
    .execute();
}
