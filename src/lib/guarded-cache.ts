import type { Invalidator } from "../auth/session-cache.js";
import type { MaybePromise } from "./maybe-async.js";

export type GuardedCacheOptions<V> = {
  /** How long an entry answers without a load; bounds what changes without a message. */
  ttlMs: number;
  /** Past this many entries the oldest goes. */
  maxEntries: number;
  /** Groups an entry belongs to (accounts, say), so `forgetGroup` drops all of a group's entries. */
  groupsOf?: (key: string, value: V) => Iterable<string>;
};

/**
 * The shape every cache on the request path shares: a hit answers at once (no promise) while it is
 * younger than `ttlMs` and the invalidation channel is healthy; a miss loads, and the loaded value is
 * kept only if nothing was forgotten meanwhile (a generation counter: a load that started before an
 * invalidation may hold what the invalidation was about). Nothing is trusted or kept while the channel
 * is down. The owner maps its invalidation messages to `forget`, `forgetGroup` and `clear`.
 */
export function createGuardedCache<V>(invalidator: Invalidator, options: GuardedCacheOptions<V>) {
  const entries = new Map<string, { value: V; cachedAt: number; groups: string[] }>();
  const keysByGroup = new Map<string, Set<string>>();
  let generation = 0;

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    for (const group of entry.groups) {
      const keys = keysByGroup.get(group);
      keys?.delete(key);
      if (keys?.size === 0) keysByGroup.delete(group);
    }
  };
  const store = (key: string, value: V) => {
    remove(key);
    if (entries.size >= options.maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) remove(oldest);
    }
    const groups = options.groupsOf ? [...options.groupsOf(key, value)] : [];
    entries.set(key, { value, cachedAt: Date.now(), groups });
    for (const group of groups) {
      const keys = keysByGroup.get(group) ?? new Set<string>();
      keys.add(key);
      keysByGroup.set(group, keys);
    }
  };

  return {
    /** The cached value at once, else a promise of `load()`'s (kept unless invalidated meanwhile). */
    get(key: string, load: () => Promise<V>): MaybePromise<V> {
      const hit = invalidator.healthy() ? entries.get(key) : undefined;
      if (hit && Date.now() - hit.cachedAt <= options.ttlMs) return hit.value;
      const startedAt = generation;
      return load().then((value) => {
        if (invalidator.healthy() && startedAt === generation) store(key, value);
        return value;
      });
    },
    /** Drops `key`; a load of it (or of anything) already under way is not kept. */
    forget(key: string) {
      generation++;
      remove(key);
    },
    forgetGroup(group: string) {
      generation++;
      for (const key of [...(keysByGroup.get(group) ?? [])]) remove(key);
    },
    clear() {
      generation++;
      entries.clear();
      keysByGroup.clear();
    },
    size: () => entries.size,
  };
}
