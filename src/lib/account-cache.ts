import type { Invalidator } from "../auth/session-cache.js";

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
  const peek = (accountId: string): T | undefined => {
    const hit = invalidator.healthy() ? entries.get(accountId) : undefined;
    return hit && Date.now() - hit.at <= ttlMs ? hit.value : undefined;
  };
  return {
    /** The cached value without waiting; undefined when only a load can tell. */
    peek,
    async get(accountId: string, load: () => Promise<T>): Promise<T> {
      const hit = peek(accountId);
      if (hit !== undefined) return hit;
      const startedAt = generation;
      const value = await load();
      if (invalidator.healthy() && startedAt === generation)
        entries.set(accountId, { value, at: Date.now() });
      return value;
    },
    drop(accountId: string) {
      generation++;
      entries.delete(accountId);
    },
  };
}
