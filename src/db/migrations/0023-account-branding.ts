import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // An account's branding (src/branding): one row once it sets anything; null fields are the defaults.
  // The logo is `accounts.logo_url` (set by upload), not repeated here.
  await db.schema
    .createTable("account_branding")
    .addColumn("account_id", "text", (c) => c.primaryKey().references("accounts.id").onDelete("cascade"))
    .addColumn("primary_color", "text")
    .addColumn("login_message", "text")
    .addColumn("support_url", "text")
    .addColumn("support_email", "text")
    .addColumn("privacy_url", "text")
    .addColumn("terms_url", "text")
    // Overrides of the invitation and welcome mails: account-written text with {{variables}}, never
    // compiled as a template (src/branding/mail-variables.ts).
    .addColumn("invitation_subject", "text")
    .addColumn("invitation_intro", "text")
    .addColumn("welcome_subject", "text")
    .addColumn("welcome_intro", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}
