import type { Invalidator } from "../auth/session-cache.js";
import type { Executor } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";

/** What a user may do in one account: their own role plus every role their teams grant. */
export type Access = {
  accountId: string;
  userId: string;
  status: "active" | "suspended";
  roleId: string;
  roleKey: string;
  isRoot: boolean;
  permissions: ReadonlySet<string>;
};

export async function loadAccess(
  db: Executor,
  accountId: string,
  userId: string,
): Promise<Access | undefined> {
  const membership = await db
    .selectFrom("memberships as m")
    .innerJoin("roles as r", (j) =>
      j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
    )
    .select(["m.status", "r.id as role_id", "r.key as role_key", "r.permissions"])
    .where("m.account_id", "=", accountId)
    .where("m.user_id", "=", userId)
    .executeTakeFirst();
  if (!membership) return undefined;
  const teamRoles = await db
    .selectFrom("team_members as tm")
    .innerJoin("teams as t", (j) =>
      j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
    )
    .innerJoin("roles as r", (j) =>
      j.onRef("r.id", "=", "t.role_id").onRef("r.account_id", "=", "t.account_id"),
    )
    .select(["r.key", "r.permissions"])
    .where("tm.account_id", "=", accountId)
    .where("tm.user_id", "=", userId)
    .execute();
  const permissions = new Set<string>(JSON.parse(membership.permissions) as string[]);
  for (const role of teamRoles) for (const p of JSON.parse(role.permissions) as string[]) permissions.add(p);
  return {
    accountId,
    userId,
    status: membership.status === "active" ? "active" : "suspended",
    roleId: membership.role_id,
    roleKey: membership.role_key,
    isRoot: membership.role_key === "root" || teamRoles.some((r) => r.key === "root"),
    permissions,
  };
}

type Entry = { access: Access | null; cachedAt: number };

/**
 * Access by (account, user), for authorization checks that must not cost a query each. Any change to
 * an account's roles, memberships or teams publishes `acct:<id>`, which drops that account's entries in
 * every process (the same channel as session revocations).
 */
export function createAccessCache(
  invalidator: Invalidator,
  options = { maxEntries: 100_000, ttlMs: 30_000 },
) {
  const entries = new Map<string, Entry>();
  const keysByAccount = new Map<string, Set<string>>();
  // Bumped on every invalidation: a load that started before one must not be cached after it.
  let generation = 0;

  const dropAccount = (accountId: string) => {
    generation++;
    for (const key of keysByAccount.get(accountId) ?? []) entries.delete(key);
    keysByAccount.delete(accountId);
  };
  invalidator.onInvalidate((message) => {
    if (message === "*") {
      generation++;
      entries.clear();
      keysByAccount.clear();
    } else if (message.startsWith("acct:")) dropAccount(message.slice(5));
  });

  return {
    async get(db: Executor, accountId: string, userId: string): Promise<Access | undefined> {
      const key = `${accountId}|${userId}`;
      const hit = invalidator.healthy() ? entries.get(key) : undefined;
      if (hit && Date.now() - hit.cachedAt <= options.ttlMs) return hit.access ?? undefined;
      const startedAt = generation;
      const access = await loadAccess(db, accountId, userId);
      if (invalidator.healthy() && generation === startedAt) {
        if (entries.size >= options.maxEntries) entries.clear();
        entries.set(key, { access: access ?? null, cachedAt: Date.now() });
        const keys = keysByAccount.get(accountId) ?? new Set<string>();
        keys.add(key);
        keysByAccount.set(accountId, keys);
      }
      return access;
    },
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
  if (!holds(active, permission)) throw new AppError("forbidden", `Your role does not include ${permission}`);
  return active;
}

/** Granting is limited to what the granter holds: no escalation through roles, invitations or teams. */
export function assertCanGrant(access: Access, role: { key: string; permissions: readonly string[] }) {
  if (role.key === "root" && !access.isRoot)
    throw new AppError("root_only", "Only a Root member can grant the Root role");
  const missing = role.permissions.filter((p) => !holds(access, p));
  if (missing.length) {
    throw new AppError(
      "privilege_escalation",
      `You cannot grant permissions you do not hold: ${missing.join(", ")}`,
    );
  }
}
