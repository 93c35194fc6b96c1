import type { Kysely } from "kysely";

/** What the built-in roles gained with API keys (the catalog in src/roles/permissions.ts says the same). */
const GAINED: Record<string, string[]> = {
  root: ["webhooks:manage"],
  admin: ["webhooks:manage"],
  developer: ["api_keys:manage", "webhooks:manage"],
};

/**
 * API keys: one row per key of an account, holding only SHA-256 hashes of its secrets (the current one,
 * and the one a rotation left working until `previous_expires_at`). Audit events made with a key also
 * name the member it acts for. Existing accounts' built-in roles are stored rows: they gain the new
 * permissions here.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // PostgreSQL runs each migration in a transaction; SQLite does not, so a crash midway must not
  // leave built-in roles half updated.
  if (db.isTransaction) await apply(db);
  else await db.transaction().execute((trx) => apply(trx));
}

// biome-ignore lint/suspicious/noExplicitAny: see above
async function apply(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    // The member the key acts for; their keys are deleted when they leave the account.
    .addColumn("created_by", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    // `gh_…1a2b`: the last four characters of the current secret, to tell keys apart.
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("secret_hash", "text", (c) => c.notNull().unique())
    .addColumn("previous_secret_hash", "text")
    .addColumn("previous_expires_at", "text")
    // JSON arrays: permission keys, and normalized IPs/CIDRs (empty = the account's allowlist alone).
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("allowed_ips", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("expires_at", "text")
    .addColumn("last_used_at", "text")
    .addColumn("last_used_ip", "text")
    .addColumn("revoked_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("api_keys_account_created_idx")
    .on("api_keys")
    .columns(["account_id", "created_at", "id"])
    .execute();
  await db.schema
    .createIndex("api_keys_account_creator_idx")
    .on("api_keys")
    .columns(["account_id", "created_by"])
    .execute();
  await db.schema
    .createIndex("api_keys_previous_secret_idx")
    .on("api_keys")
    .column("previous_secret_hash")
    .execute();

  // The member a key acted for (its creator); null for every other kind of actor.
  await db.schema.alterTable("audit_events").addColumn("actor_user_id", "text").execute();

  const roles = await db
    .selectFrom("roles")
    .select(["id", "key", "permissions"])
    .where("builtin", "=", 1)
    .where("key", "in", Object.keys(GAINED))
    .execute();
  for (const role of roles as Array<{ id: string; key: string; permissions: string }>) {
    const permissions = JSON.parse(role.permissions) as string[];
    const added = (GAINED[role.key] ?? []).filter((p) => !permissions.includes(p));
    if (added.length === 0) continue;
    await db
      .updateTable("roles")
      .set({ permissions: JSON.stringify([...permissions, ...added]) })
      .where("id", "=", role.id)
      .execute();
  }
}
