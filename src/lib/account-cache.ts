import type { Invalidator } from "../auth/session-cache.js";
import { createGuardedCache } from "./guarded-cache.js";
import type { MaybePromise } from "./maybe-async.js";

/**
 * A per-account value (member counts, an account's closure date…) cached until anything in the
 * account changes: the same `acct:<id>` messages that keep authorization fresh drop it in every
 * process. `ttlMs` bounds what changes without a message (invitations expiring with time).
 */
export function createAccountCache<T>(
  invalidator: Invalidator,
  options = { ttlMs: 30_000, maxEntries: 50_000 },
) {
  const cache = createGuardedCache<T>(invalidator, options);
  invalidator.onInvalidate((message) => {
    if (message === "*") cache.clear();
    else if (message.startsWith("acct:")) cache.forget(message.slice(5));
  });
  return {
    /** The cached value at once (no promise), else a promise of the loaded one. */
    get: (accountId: string, load: () => Promise<T>): MaybePromise<T> => cache.get(accountId, load),
  };
}
