import type { Executor } from "../db/database.js";
import { loadAccess } from "../roles/access.js";
import { fileUrlFor } from "../storage/file-urls.js";

/** Which scope releases which claims (oidc-provider's `claims` setting). */
export const SCOPE_CLAIMS = {
  openid: ["sub"],
  email: ["email", "email_verified"],
  profile: ["name", "picture"],
  "gatehouse:account": ["account_id", "account_name", "role", "permissions"],
  "gatehouse:accounts": ["accounts"],
} as const;

export type MembershipSummary = {
  account_id: string;
  account_name: string;
  role: { key: string; name: string };
};

/** The user's active memberships (suspended ones and deactivated users give none). */
export async function activeMemberships(db: Executor, userId: string): Promise<MembershipSummary[]> {
  const rows = await db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .innerJoin("accounts as a", "a.id", "m.account_id")
    .innerJoin("roles as r", (j) =>
      j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
    )
    .select(["a.id", "a.name", "r.key", "r.name as role_name"])
    .where("m.user_id", "=", userId)
    .where("m.status", "=", "active")
    .where("u.deactivated_at", "is", null)
    .orderBy("a.name")
    .execute();
  return rows.map((r) => ({
    account_id: r.id,
    account_name: r.name,
    role: { key: r.key, name: r.role_name },
  }));
}

export type AuthorizationRecord = {
  grantId: string;
  clientId: string;
  userId: string;
  accountId: string | null;
  sessionId: string | null;
  sid: string | null;
  scopes: string[];
};

export async function findAuthorization(
  db: Executor,
  grantId: string,
): Promise<AuthorizationRecord | undefined> {
  const row = await db
    .selectFrom("oidc_authorizations")
    .selectAll()
    .where("grant_id", "=", grantId)
    .executeTakeFirst();
  return (
    row && {
      grantId: row.grant_id,
      clientId: row.client_id,
      userId: row.user_id,
      accountId: row.account_id,
      sessionId: row.session_id,
      sid: row.sid,
      scopes: row.scopes.split(" ").filter(Boolean),
    }
  );
}

export async function saveAuthorization(db: Executor, record: AuthorizationRecord, now: Date): Promise<void> {
  const iso = now.toISOString();
  const values = {
    client_id: record.clientId,
    user_id: record.userId,
    account_id: record.accountId,
    session_id: record.sessionId,
    sid: record.sid,
    scopes: record.scopes.join(" "),
    updated_at: iso,
  };
  await db
    .insertInto("oidc_authorizations")
    .values({ grant_id: record.grantId, created_at: iso, ...values })
    .onConflict((oc) => oc.column("grant_id").doUpdateSet(values))
    .execute();
}

/**
 * The claims of a user for one grant, computed now from the database: a role change shows in the next
 * token, and a user who lost the grant's account (suspended, removed, deactivated) gets none — the
 * provider then refuses the refresh ("account not found").
 */
export async function loadClaims(
  db: Executor,
  publicUrl: string,
  userId: string,
  grantId: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  const user = await db
    .selectFrom("users")
    .select(["id", "email", "email_verified_at", "first_name", "last_name", "avatar_key", "deactivated_at"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!user || user.deactivated_at !== null) return undefined;
  const claims: Record<string, unknown> = {
    sub: user.id,
    email: user.email,
    email_verified: user.email_verified_at !== null,
    name: `${user.first_name} ${user.last_name}`.trim(),
    picture: user.avatar_key ? fileUrlFor(publicUrl)(user.avatar_key) : null,
  };
  const authorization = grantId ? await findAuthorization(db, grantId) : undefined;
  if (authorization && authorization.userId !== userId) return undefined;
  const memberships = await activeMemberships(db, userId);
  claims.accounts = memberships;
  const accountId = authorization?.accountId;
  if (accountId) {
    const membership = memberships.find((m) => m.account_id === accountId);
    const access = await loadAccess(db, accountId, userId);
    if (!membership || !access || access.status !== "active") return undefined;
    claims.account_id = membership.account_id;
    claims.account_name = membership.account_name;
    claims.role = membership.role;
    claims.permissions = [...access.permissions].sort();
  }
  return claims;
}
