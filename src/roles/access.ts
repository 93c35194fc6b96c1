import type { KeyGrant } from "../api-keys/api-keys.repository.js";
import { createApiKeysRepository } from "../api-keys/api-keys.repository.js";
import type { Invalidator } from "../auth/session-cache.js";
import type { Executor } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import { AppError, notFound } from "../http/errors.js";
import { createGuardedCache } from "../lib/guarded-cache.js";
import { isApiKeyId } from "../lib/ids.js";
import type { MaybePromise } from "../lib/maybe-async.js";
import { type MemberStatus, memberStatusSql } from "../members/members.repository.js";

/**
 * What a principal may do in one account. For a user: their own role plus every role their teams
 * grant. For an API key (`keyId` set): the key's scopes that its creator (`userId`) holds right now,
 * with the creator's membership status, and never Root — so the grant rule binds it by its scopes.
 */
export type Access = {
  accountId: string;
  userId: string;
  /** Set when this is an API key's access. */
  keyId?: string;
  status: MemberStatus;
  roleId: string;
  roleKey: string;
  isRoot: boolean;
  permissions: ReadonlySet<string>;
};

/** A key acts for its creator: what they hold now, within its scopes (losing a permission shrinks it). */
export function keyAccess(key: KeyGrant, creator: Access | undefined): Access | undefined {
  if (!creator || creator.accountId !== key.accountId) return undefined;
  return {
    ...creator,
    keyId: key.id,
    isRoot: false,
    permissions: new Set(key.scopes.filter((scope) => holds(creator, scope))),
  };
}

const keysRepository = createApiKeysRepository();

/** A principal's access as stored now (inside a transaction: as that transaction sees it). */
export async function loadAccess(
  db: Executor,
  accountId: string,
  principalId: string,
): Promise<Access | undefined> {
  if (isApiKeyId(principalId)) {
    const key = await keysRepository.find(db, accountId, principalId);
    return key && keyAccess(key, await loadUserAccess(db, accountId, key.createdBy));
  }
  return loadUserAccess(db, accountId, principalId);
}

// Authorization on a cold cache: compiled once (src/db/prepared.ts).
const membershipGrant = prepared(2, (db, accountId: string, userId: string) =>
  db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .innerJoin("roles as r", (j) =>
      j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
    )
    .select([memberStatusSql().as("status"), "r.id as role_id", "r.key as role_key", "r.permissions"])
    .where("m.account_id", "=", accountId)
    .where("m.user_id", "=", userId),
);
const teamGrants = prepared(2, (db, accountId: string, userId: string) =>
  db
    .selectFrom("team_members as tm")
    .innerJoin("teams as t", (j) =>
      j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
    )
    .innerJoin("roles as r", (j) =>
      j.onRef("r.id", "=", "t.role_id").onRef("r.account_id", "=", "t.account_id"),
    )
    .select(["r.key", "r.permissions"])
    .where("tm.account_id", "=", accountId)
    .where("tm.user_id", "=", userId),
);

async function loadUserAccess(db: Executor, accountId: string, userId: string): Promise<Access | undefined> {
  const membership = await membershipGrant.first(db, accountId, userId);
  if (!membership) return undefined;
  const teamRoles = await teamGrants.all(db, accountId, userId);
  const { isRoot, permissions } = composeGrants([
    { key: membership.role_key, permissions: JSON.parse(membership.permissions) as string[] },
    ...teamRoles.map((r) => ({ key: r.key, permissions: JSON.parse(r.permissions) as string[] })),
  ]);
  return {
    accountId,
    userId,
    status: membership.status,
    roleId: membership.role_id,
    roleKey: membership.role_key,
    isRoot,
    permissions,
  };
}

/** Whether one role grants a permission: Root grants every one, also those registered after it was made. */
export function grants(role: Grant, permission: string): boolean {
  return role.key === "root" || role.permissions.includes(permission);
}

/**
 * What a member's roles (their own, then each of their teams') add up to — the one composition, so
 * anything showing where a permission comes from (`grants` per role) agrees with `holds`.
 */
export function composeGrants(roles: readonly Grant[]): { isRoot: boolean; permissions: Set<string> } {
  const permissions = new Set<string>();
  for (const role of roles) for (const p of role.permissions) permissions.add(p);
  return { isRoot: roles.some((r) => r.key === "root"), permissions };
}

/** Where the access cache finds an account's unrevoked API keys (cached by the API keys module). */
export type KeyGrants = {
  find(db: Executor, accountId: string, keyId: string): Promise<KeyGrant | undefined>;
};

/**
 * Access by (account, principal), for authorization checks that must not cost a query each. Any change
 * to an account's roles, memberships or teams publishes `acct:<id>`, which drops that account's entries
 * in every process (the same channel as session revocations). An API key's access is composed on each
 * call from its (cached) grant and its creator's cached access, so each stays as fresh as its own cache.
 */
export function createAccessCache(
  invalidator: Invalidator,
  keys: KeyGrants,
  options = { maxEntries: 100_000, ttlMs: 30_000 },
) {
  const users = createGuardedCache<Access | undefined>(invalidator, {
    ...options,
    // Keys are `<accountId>|<userId>`: an account's change drops all of its users' entries.
    groupsOf: (key) => [key.slice(0, key.indexOf("|"))],
  });
  invalidator.onInvalidate((message) => {
    if (message === "*") users.clear();
    else if (message.startsWith("acct:")) users.forgetGroup(message.slice(5));
  });

  /** A user's access at once when cached (no promise), else a load's; an API key's always a promise. */
  function get(db: Executor, accountId: string, principalId: string): MaybePromise<Access | undefined> {
    if (isApiKeyId(principalId)) return keyGet(db, accountId, principalId);
    return users.get(`${accountId}|${principalId}`, () => loadUserAccess(db, accountId, principalId));
  }

  async function keyGet(db: Executor, accountId: string, keyId: string): Promise<Access | undefined> {
    const grant = await keys.find(db, accountId, keyId);
    return grant && keyAccess(grant, await get(db, accountId, grant.createdBy));
  }

  return {
    /** A user's (`usr_…`) or an API key's (`key_…`) access to the account; undefined: none. */
    get,
    /** Inside the changing transaction: other processes hear it at commit; this one drops it after. */
    async publishAccountChange(
      trx: Executor,
      afterCommit: (effect: () => unknown) => void,
      accountId: string,
    ) {
      await invalidator.publish(trx, `acct:${accountId}`);
      afterCommit(() => invalidator.deliverLocally(`acct:${accountId}`));
    },
  };
}

export type AccessCache = ReturnType<typeof createAccessCache>;

/** The caller's active access to an account, or 404 (never reveal that an account exists). */
export function requireActive(access: Access | undefined, what = "Account"): Access {
  if (access?.status !== "active") throw notFound(what);
  return access;
}

/** Root holds every permission, including ones registered after its role was created. */
export function holds(access: Access, permission: string): boolean {
  return access.isRoot || access.permissions.has(permission);
}

export function requirePermission(access: Access | undefined, permission: string): Access {
  const active = requireActive(access);
  if (holds(active, permission)) return active;
  throw new AppError(
    "forbidden",
    active.keyId
      ? `This API key does not have the scope ${permission} (or the member who created it no longer holds it)`
      : `Your role does not include ${permission}`,
  );
}

/** The permissions of `wanted` that `access` does not hold, in the order given. */
export function missingPermissions(access: Access, wanted: readonly string[]): string[] {
  return [...new Set(wanted)].filter((p) => !holds(access, p));
}

/** A role as the grant rule sees it: its key (Root is special) and its permissions. */
export type Grant = { key: string; permissions: readonly string[] };

/** Everything a member holds in an account, as one grant: taking it away is subject to the same rule. */
export function heldGrant(access: Access): Grant {
  return { key: access.isRoot ? "root" : access.roleKey, permissions: [...access.permissions] };
}

/**
 * The one rule for every path that changes who may do what — a member's role, an invitation, a team's
 * role, who is in a team, a role's permissions, deleting a team or role, acting on a member: the caller
 * may give or take away only roles made of permissions they hold themselves, and only Root may give or
 * take away Root. `null`/`undefined` entries (no role) pass.
 */
export function assertCanAssign(caller: Access, roles: ReadonlyArray<Grant | null | undefined>) {
  const missing = new Set<string>();
  for (const role of roles) {
    if (!role) continue;
    if (role.key === "root" && !caller.isRoot)
      throw new AppError("root_only", "Only a Root member can give or take away the Root role");
    for (const p of missingPermissions(caller, role.permissions)) missing.add(p);
  }
  if (missing.size) {
    throw new AppError(
      "privilege_escalation",
      `You cannot give or take away permissions you do not hold: ${[...missing].join(", ")}`,
    );
  }
}
