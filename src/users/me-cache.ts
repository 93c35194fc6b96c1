import type { Invalidator } from "../auth/session-cache.js";
import { afterCommitOf, type Executor } from "../db/database.js";
import type { MaybePromise } from "../lib/maybe-async.js";
import type { Me } from "./users.service.js";

/**
 * Tells every process's caches that something changed, inside the changing transaction (other
 * processes hear it when it commits) and in this process once it has committed. Messages: a user id
 * (sessions), `me:<userId>` (what /me shows of a user), `acct:<id>` (anything about an account).
 */
export async function announceChange(invalidator: Invalidator, executor: Executor, message: string) {
  await invalidator.publish(executor, message);
  afterCommitOf(executor, () => invalidator.deliverLocally(message));
}

/** What repositories that write data shown by /me and /session call: see `announceChange`. */
export type ChangeFeed = {
  user(executor: Executor, userId: string): Promise<void>;
  account(executor: Executor, accountId: string): Promise<void>;
};

export function createChangeFeed(invalidator: Invalidator): ChangeFeed {
  return {
    user: (executor, userId) => announceChange(invalidator, executor, `me:${userId}`),
    account: (executor, accountId) => announceChange(invalidator, executor, `acct:${accountId}`),
  };
}

/** For repositories made outside the composition root (scripts, tests): changes go nowhere. */
export const NO_CHANGE_FEED: ChangeFeed = { user: async () => {}, account: async () => {} };

type MeEntry = { me: Me; cachedAt: number };
type ClosureEntry = { deleteAt: string | null; cachedAt: number };

/**
 * What GET /me and GET /session show beyond the session — the user, their memberships (with account and
 * role names), whether MFA is on, and the active account's closure date — so a warm read costs no
 * query. Entries live at most `ttlMs` and are dropped in every process when a change commits:
 * `me:<userId>` or a bare user id (sessions revoked) drops that user's view, `acct:<id>` every view that
 * lists a membership in that account and its closure date, `*` everything. Nothing is trusted while the
 * invalidation channel is down, and a load that started before an invalidation is not kept after it.
 * Only views read from this: decisions (passwords, MFA, access) read the database or their own caches.
 */
export function createMeCache(invalidator: Invalidator, options = { maxEntries: 50_000, ttlMs: 30_000 }) {
  const views = new Map<string, MeEntry>();
  const usersByAccount = new Map<string, Set<string>>();
  const closures = new Map<string, ClosureEntry>();
  let generation = 0;

  const forgetUser = (userId: string) => {
    const entry = views.get(userId);
    if (!entry) return;
    views.delete(userId);
    for (const m of entry.me.memberships) {
      const users = usersByAccount.get(m.accountId);
      users?.delete(userId);
      if (users?.size === 0) usersByAccount.delete(m.accountId);
    }
  };
  const forgetAccount = (accountId: string) => {
    for (const userId of [...(usersByAccount.get(accountId) ?? [])]) forgetUser(userId);
    usersByAccount.delete(accountId);
    closures.delete(accountId);
  };
  invalidator.onInvalidate((message) => {
    if (message === "*") {
      generation++;
      views.clear();
      usersByAccount.clear();
      closures.clear();
    } else if (message.startsWith("acct:")) {
      generation++;
      forgetAccount(message.slice(5));
    } else if (message.startsWith("me:")) {
      generation++;
      forgetUser(message.slice(3));
    } else if (!message.includes(":")) {
      generation++;
      forgetUser(message);
    }
  });

  const fresh = (cachedAt: number) => Date.now() - cachedAt <= options.ttlMs;

  return {
    /** The cached view at once (no promise: the warm path of GET /me and /session), else a load's. */
    me(userId: string, load: () => Promise<Me>): MaybePromise<Me> {
      const hit = invalidator.healthy() ? views.get(userId) : undefined;
      if (hit && fresh(hit.cachedAt)) return hit.me;
      const startedAt = generation;
      return load().then((me) => {
        if (!invalidator.healthy() || startedAt !== generation) return me;
        forgetUser(userId);
        if (views.size >= options.maxEntries) {
          const oldest = views.keys().next().value;
          if (oldest !== undefined) forgetUser(oldest);
        }
        views.set(userId, { me, cachedAt: Date.now() });
        for (const m of me.memberships) {
          const users = usersByAccount.get(m.accountId) ?? new Set<string>();
          users.add(userId);
          usersByAccount.set(m.accountId, users);
        }
        return me;
      });
    },

    /** The account's closure date (null: none), at once when cached, else a load's. */
    closureDeleteAt(accountId: string, load: () => Promise<string | null>): MaybePromise<string | null> {
      const hit = invalidator.healthy() ? closures.get(accountId) : undefined;
      if (hit && fresh(hit.cachedAt)) return hit.deleteAt;
      const startedAt = generation;
      return load().then((deleteAt) => {
        if (!invalidator.healthy() || startedAt !== generation) return deleteAt;
        if (closures.size >= options.maxEntries) closures.clear();
        closures.set(accountId, { deleteAt, cachedAt: Date.now() });
        return deleteAt;
      });
    },

    size: () => ({ views: views.size, closures: closures.size }),
  };
}

export type MeCache = ReturnType<typeof createMeCache>;
