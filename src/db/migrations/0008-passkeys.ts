import type { Kysely } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // A passkey is an mfa_factors row of type "passkey" (label, created/last used, confirmation) plus its
  // WebAuthn credential here; removing the factor removes the credential.
  await db.schema
    .createTable("passkey_credentials")
    .addColumn("factor_id", "text", (c) => c.primaryKey().references("mfa_factors.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    // base64url, as the browser reports it; unique across all users.
    .addColumn("credential_id", "text", (c) => c.notNull().unique())
    // COSE public key, base64url.
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("sign_count", "integer", (c) => c.notNull().defaultTo(0))
    // JSON array of transport hints ("internal", "usb", "hybrid"…).
    .addColumn("transports", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("backed_up", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("device_type", "text", (c) => c.notNull())
    .addColumn("aaguid", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("passkey_credentials_user_idx")
    .on("passkey_credentials")
    .column("user_id")
    .execute();

  // Server-side WebAuthn challenges: single use, five minutes. Only a hash of the challenge is kept.
  await db.schema
    .createTable("webauthn_challenges")
    .addColumn("id", "text", (c) => c.primaryKey())
    // "register" (bound to a session), "login" (passwordless, anonymous), "mfa" (bound to an mfa_token).
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("session_id", "text")
    .addColumn("mfa_challenge_id", "text")
    .addColumn("challenge_hash", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webauthn_challenges_expiry_idx")
    .on("webauthn_challenges")
    .column("expires_at")
    .execute();
}
