import type { Kysely } from "kysely";

/** The industries of the organization profile (src/accounts/organization.ts holds the same list). */
const INDUSTRIES = [
  "software",
  "fintech",
  "healthcare",
  "education",
  "ecommerce",
  "media",
  "manufacturing",
  "government",
  "nonprofit",
  "professional_services",
];

/**
 * Organization profile, uploaded images and stored files (issue 14):
 * - accounts gain the profile fields; `billing_email` starts as the contact email; a free-text
 *   industry that names one of the list ("Software", "professional services") becomes that entry,
 *   any other becomes `other` with the text kept in `industry_other`.
 * - `logo_url` and `avatar_url` (free URLs, shown in mails: tracking pixels or phishing) give way to
 *   the keys of uploaded files; the URLs are derived from the keys. Existing free URLs are dropped.
 * - `stored_files`: every stored file with its owner and size (storage usage, clean-up).
 * - invoices keep who was billed (`bill_to`) as it was when issued; existing ones get today's.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // PostgreSQL runs each migration in a transaction; SQLite does not, so a crash midway must not
  // leave accounts half migrated.
  if (db.isTransaction) await apply(db);
  else await db.transaction().execute((trx) => apply(trx));
}

// biome-ignore lint/suspicious/noExplicitAny: see above
async function apply(db: Kysely<any>): Promise<void> {
  for (const column of ["legal_name", "website", "industry_other", "phone", "address", "billing_email"])
    await db.schema.alterTable("accounts").addColumn(column, "text").execute();
  await db.schema
    .alterTable("accounts")
    .addColumn("certifications", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema.alterTable("accounts").addColumn("logo_key", "text").execute();
  await db.schema.alterTable("accounts").addColumn("logo_small_key", "text").execute();
  await db.schema.alterTable("accounts").dropColumn("logo_url").execute();
  await db.schema.alterTable("users").addColumn("avatar_key", "text").execute();
  await db.schema.alterTable("users").addColumn("avatar_small_key", "text").execute();
  await db.schema.alterTable("users").dropColumn("avatar_url").execute();

  await db
    .updateTable("accounts")
    .set((eb) => ({ billing_email: eb.ref("contact_email") }))
    .execute();
  const industries = await db
    .selectFrom("accounts")
    .select(["id", "industry"])
    .where("industry", "is not", null)
    .execute();
  for (const { id, industry } of industries as Array<{ id: string; industry: string }>) {
    const text = industry.trim();
    const key = text
      .toLowerCase()
      .replace(/[\s-]+/g, "_")
      .replace(/&/g, "and");
    const values =
      text === ""
        ? { industry: null, industry_other: null }
        : INDUSTRIES.includes(key)
          ? { industry: key, industry_other: null }
          : { industry: "other", industry_other: text.slice(0, 100) };
    await db.updateTable("accounts").set(values).where("id", "=", id).execute();
  }

  await db.schema
    .createTable("stored_files")
    .addColumn("key", "text", (c) => c.primaryKey())
    // The account whose storage it counts toward; null for a person's own files (avatars).
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("cascade"))
    // The person whose own file it is (avatars); null for account files.
    .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("bytes", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("stored_files_account_idx")
    .on("stored_files")
    .columns(["account_id"])
    .execute();
  await db.schema.createIndex("stored_files_user_idx").on("stored_files").columns(["user_id"]).execute();

  await db.schema.alterTable("invoices").addColumn("bill_to", "text").execute();
  const accounts = await db.selectFrom("accounts").select(["id", "name", "tax_id"]).execute();
  for (const account of accounts as Array<{ id: string; name: string; tax_id: string | null }>) {
    const billTo = JSON.stringify({ legal_name: account.name, address: null, tax_id: account.tax_id });
    await db
      .updateTable("invoices")
      .set({ bill_to: billTo })
      .where("account_id", "=", account.id)
      .where("bill_to", "is", null)
      .execute();
  }
}
