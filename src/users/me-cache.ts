import type { Invalidator } from "../auth/session-cache.js";
import { afterCommitOf, type Executor } from "../db/database.js";
import { createAccountCache } from "../lib/account-cache.js";
import { createGuardedCache } from "../lib/guarded-cache.js";
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

/**
 * What GET /me and GET /session show beyond the session — the user, their memberships (with account and
 * role names), whether MFA is on, and the active account's closure date — so a warm read costs no
 * query. Entries live at most `ttlMs` and are dropped in every process when a change commits:
 * `me:<userId>` or a bare user id (sessions revoked) drops that user's view, `acct:<id>` every view that
 * lists a membership in that account and its closure date, `*` everything. Nothing is trusted while the
 * invalidation channel is down, and a load that started before an invalidation is not kept after it
 * (src/lib/guarded-cache.ts). Only views read from this: decisions (passwords, MFA, access) read the
 * database or their own caches.
 */
export function createMeCache(invalidator: Invalidator, options = { maxEntries: 50_000, ttlMs: 30_000 }) {
  const views = createGuardedCache<Me>(invalidator, {
    ...options,
    groupsOf: (_userId, me) => me.memberships.map((m) => m.accountId),
  });
  const closures = createAccountCache<string | null>(invalidator, options);
  invalidator.onInvalidate((message) => {
    if (message === "*") views.clear();
    else if (message.startsWith("acct:")) views.forgetGroup(message.slice(5));
    else if (message.startsWith("me:")) views.forget(message.slice(3));
    else if (!message.includes(":")) views.forget(message);
  });

  return {
    /** The cached view at once (no promise: the warm path of GET /me and /session), else a load's. */
    me: (userId: string, load: () => Promise<Me>): MaybePromise<Me> => views.get(userId, load),
    /** The account's closure date (null: none), at once when cached, else a load's. */
    closureDeleteAt: (accountId: string, load: () => Promise<string | null>): MaybePromise<string | null> =>
      closures.get(accountId, load),
  };
}

export type MeCache = ReturnType<typeof createMeCache>;
