import type { Kysely } from "kysely";

/**
 * Gatehouse as an OpenID Connect provider (src/oidc, oidc-provider):
 * - oidc_clients: relying parties registered by operators (CLI, OIDC_CLIENTS); the secret is sealed
 *   with SECRET_KEY (oidc-provider compares the presented secret with the plain one it is given).
 * - oidc_signing_keys: the provider's signing keys (private JWK sealed with SECRET_KEY); a key is
 *   published until `expires_at`, which is after every token it signed has expired.
 * - oidc_payloads: oidc-provider's storage (sessions, interactions, codes, tokens, grants…), one row per
 *   model instance, kept until `expires_at` and purged by the job loop.
 * - oidc_authorizations: what a user granted a client and for which Gatehouse account (one row per
 *   grant): Settings → Connected apps and back-channel logout read it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("oidc_clients")
    .addColumn("client_id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    /** AES-256-GCM of the client secret with SECRET_KEY; null for public clients (PKCE only). */
    .addColumn("secret_sealed", "text")
    /** "first" (consent skipped) or "third" (consent shown; listed under Connected apps). */
    .addColumn("party", "text", (c) => c.notNull())
    /** JSON arrays. */
    .addColumn("redirect_uris", "text", (c) => c.notNull())
    .addColumn("post_logout_redirect_uris", "text", (c) => c.notNull())
    .addColumn("grant_types", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("backchannel_logout_uri", "text")
    .addColumn("logo_uri", "text")
    /** "cli" or "file" (OIDC_CLIENTS): a file-managed client is replaced when the file changes. */
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("oidc_signing_keys")
    .addColumn("kid", "text", (c) => c.primaryKey())
    .addColumn("alg", "text", (c) => c.notNull())
    .addColumn("private_jwk_sealed", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    /** When it stopped signing (a newer key took over); null while it is the current key. */
    .addColumn("retired_at", "text")
    /** When it leaves the JWKS: retired_at plus the longest lifetime of a token it signed. */
    .addColumn("expires_at", "text")
    .execute();

  await db.schema
    .createTable("oidc_payloads")
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("id", "text", (c) => c.notNull())
    /** The model's JSON, as oidc-provider gave it. */
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("grant_id", "text")
    .addColumn("uid", "text")
    .addColumn("user_code", "text")
    .addColumn("expires_at", "text")
    .addColumn("consumed_at", "text")
    .addPrimaryKeyConstraint("oidc_payloads_pkey", ["kind", "id"])
    .execute();
  await db.schema.createIndex("oidc_payloads_grant_idx").on("oidc_payloads").column("grant_id").execute();
  await db.schema.createIndex("oidc_payloads_uid_idx").on("oidc_payloads").column("uid").execute();
  await db.schema.createIndex("oidc_payloads_expires_idx").on("oidc_payloads").column("expires_at").execute();

  await db.schema
    .createTable("oidc_authorizations")
    .addColumn("grant_id", "text", (c) => c.primaryKey())
    .addColumn("client_id", "text", (c) =>
      c.notNull().references("oidc_clients.client_id").onDelete("cascade"),
    )
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    /** The account the user chose to act in; null when the client asked for no account scope. */
    .addColumn("account_id", "text", (c) => c.references("accounts.id").onDelete("cascade"))
    /** The Gatehouse session the authorization was made in (its end triggers back-channel logout). */
    .addColumn("session_id", "text")
    /** The oidc-provider session id (`sid` in logout tokens). */
    .addColumn("sid", "text")
    /** Space-separated granted scopes. */
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("oidc_authorizations_account_idx")
    .on("oidc_authorizations")
    .columns(["account_id", "client_id"])
    .execute();
  await db.schema
    .createIndex("oidc_authorizations_user_idx")
    .on("oidc_authorizations")
    .columns(["user_id", "client_id"])
    .execute();
  await db.schema
    .createIndex("oidc_authorizations_session_idx")
    .on("oidc_authorizations")
    .column("session_id")
    .execute();
}
