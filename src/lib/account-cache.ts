import type { Invalidator } from "../auth/session-cache.js";
import type { MaybePromise } from "./maybe-async.js";

/**
 * A per-account value (member counts…) cached until anything in the account changes: the same
 * `acct:<id>` messages that keep authorization fresh drop it in every process. `ttlMs` bounds what
 * changes without a message (invitations expiring with time).
 */
export function createAccountCache<T>(invalidator: Invalidator, ttlMs = 30_000) {
  const entries = new Map<string, { value: T; at: number }>();
  let generation = 0;
  invalidator.onInvalidate((message) => {
    generation++;
    if (message === "*") entries.clear();
    else if (message.startsWith("acct:")) entries.delete(message.slice(5));
  });
  return {
    /** The cached value at once (no promise), else a promise of the loaded one. */
    get(accountId: string, load: () => Promise<T>): MaybePromise<T> {
      const hit = invalidator.healthy() ? entries.get(accountId) : undefined;
      if (hit && Date.now() - hit.at <= ttlMs) return hit.value;
      const startedAt = generation;
      return load().then((value) => {
        if (invalidator.healthy() && startedAt === generation)
          entries.set(accountId, { value, at: Date.now() });
        return value;
      });
    },
    drop(accountId: string) {
      generation++;
      entries.delete(accountId);
    },
  };
}
