import { type CompiledAllowlist, compileAllowlist } from "../accounts/ip-allowlist.js";
import type { Invalidator } from "../auth/session-cache.js";
import type { Db, Executor } from "../db/database.js";
import type { KeyGrants } from "../roles/access.js";
import type { ApiKey, ApiKeysRepository, KeyGrant } from "./api-keys.repository.js";

/** A key as the per-request check needs it, its IP restriction compiled once. */
export type CachedKey = { key: ApiKey; allowedIps: CompiledAllowlist };

type Entry = CachedKey & { cachedAt: number };
type HashEntry = { id: string; previous: boolean; cachedAt: number };

/**
 * Unrevoked API keys by secret hash (the per-request lookup) and by id (the access model), so a warm
 * key costs no query. Entries live at most `ttlMs`; any change to a key (revocation, rotation, new
 * scopes or IPs, deletion with its creator) publishes `key:<id>` in its transaction, which drops it in
 * every process at commit. Unknown hashes are not cached: each costs one indexed query.
 */
export function createKeyCache(
  deps: { db: Db; keys: ApiKeysRepository; invalidator: Invalidator },
  options = { maxEntries: 50_000, ttlMs: 30_000 },
) {
  const { keys, invalidator } = deps;
  const byId = new Map<string, Entry>();
  const byHash = new Map<string, HashEntry>();
  const hashesById = new Map<string, Set<string>>();
  // Bumped on every invalidation: a load that started before one must not be cached after it.
  let generation = 0;

  const drop = (keyId: string) => {
    byId.delete(keyId);
    for (const hash of hashesById.get(keyId) ?? []) byHash.delete(hash);
    hashesById.delete(keyId);
  };
  // Only messages about keys count: others (sessions, notifications) share the channel and must not
  // keep a key from being cached because they happened to arrive while it was loading.
  invalidator.onInvalidate((message) => {
    if (message === "*") {
      generation++;
      byId.clear();
      byHash.clear();
      hashesById.clear();
    } else if (message.startsWith("key:")) {
      generation++;
      drop(message.slice(4));
    }
  });

  const fresh = (cachedAt: number) => invalidator.healthy() && Date.now() - cachedAt <= options.ttlMs;

  const remember = (key: ApiKey, startedAt: number): Entry => {
    const entry = { key, allowedIps: compileAllowlist(key.allowedIps), cachedAt: Date.now() };
    if (!invalidator.healthy() || startedAt !== generation) return entry;
    if (byId.size >= options.maxEntries) {
      byId.clear();
      byHash.clear();
      hashesById.clear();
    }
    byId.set(key.id, entry);
    return entry;
  };

  async function byIdCached(db: Executor, keyId: string): Promise<CachedKey | undefined> {
    const hit = byId.get(keyId);
    if (hit && fresh(hit.cachedAt)) return hit;
    const startedAt = generation;
    const key = await keys.findById(db, keyId);
    return key && remember(key, startedAt);
  }

  const grants: KeyGrants = {
    async find(db, accountId, keyId): Promise<KeyGrant | undefined> {
      const found = await byIdCached(db, keyId);
      return found?.key.accountId === accountId ? found.key : undefined;
    },
  };

  return {
    /** The unrevoked key one of whose secrets hashes to this (`previous`: the one a rotation replaced). */
    async findBySecretHash(secretHash: string): Promise<(CachedKey & { previous: boolean }) | undefined> {
      const hit = byHash.get(secretHash);
      const entry = hit && fresh(hit.cachedAt) ? byId.get(hit.id) : undefined;
      if (hit && entry && fresh(entry.cachedAt)) return { ...entry, previous: hit.previous };
      const startedAt = generation;
      const found = await keys.findBySecretHash(deps.db, secretHash);
      if (!found) return undefined;
      const remembered = remember(found.key, startedAt);
      if (invalidator.healthy() && startedAt === generation) {
        byHash.set(secretHash, { id: found.key.id, previous: found.previous, cachedAt: Date.now() });
        const hashes = hashesById.get(found.key.id) ?? new Set<string>();
        hashes.add(secretHash);
        hashesById.set(found.key.id, hashes);
      }
      return { ...remembered, previous: found.previous };
    },
    /** For the access cache (src/roles/access.ts). */
    grants,
    /** Inside the changing transaction: other processes hear it at commit; this one drops it after. */
    async publishKeyChange(trx: Executor, afterCommit: (effect: () => unknown) => void, keyId: string) {
      await invalidator.publish(trx, `key:${keyId}`);
      afterCommit(() => invalidator.deliverLocally(`key:${keyId}`));
    },
    size: () => byId.size,
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;
