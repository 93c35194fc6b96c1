import type { Invalidator } from "../auth/session-cache.js";
import type { Db, Executor } from "../db/database.js";
import type { DomainsRepository } from "./domains.repository.js";
import { hostOfHeader } from "./hostnames.js";

type Entry = { accountId: string | null; cachedAt: number };

/** The message that drops a host name from every process's cache. */
const messageOf = (hostname: string) => `domain:${hostname}`;

/**
 * Host name → the account that verified it, for every request that asks (log-in, branding, Caddy's
 * TLS check). Answers are cached, unknown names too (most hosts are not custom domains), for at most
 * `ttlMs`; verifying, deleting or failing a domain publishes `domain:<hostname>` in its transaction,
 * which drops it in every process at commit (the invalidator of src/auth/session-cache.ts).
 */
export function createDomainHosts(
  deps: { db: Db; repository: DomainsRepository; invalidator: Invalidator; ownHosts: readonly string[] },
  options = { maxEntries: 10_000, ttlMs: 60_000 },
) {
  const { invalidator } = deps;
  const entries = new Map<string, Entry>();
  // Bumped by every invalidation about domains: a lookup that started before one is not cached.
  let generation = 0;
  invalidator.onInvalidate((message) => {
    if (message === "*") {
      generation++;
      entries.clear();
    } else if (message.startsWith("domain:")) {
      generation++;
      entries.delete(message.slice("domain:".length));
    }
  });

  return {
    /** The account whose verified custom domain `host` (a Host header, port allowed) is. */
    async accountForHost(host: string | undefined): Promise<string | undefined> {
      const hostname = hostOfHeader(host);
      if (!hostname || deps.ownHosts.includes(hostname)) return undefined;
      const hit = invalidator.healthy() ? entries.get(hostname) : undefined;
      if (hit && Date.now() - hit.cachedAt <= options.ttlMs) return hit.accountId ?? undefined;
      const startedAt = generation;
      const accountId = (await deps.repository.findVerified(deps.db, hostname))?.accountId ?? null;
      if (invalidator.healthy() && startedAt === generation) {
        if (entries.size >= options.maxEntries) entries.clear();
        entries.set(hostname, { accountId, cachedAt: Date.now() });
      }
      return accountId ?? undefined;
    },
    /** Inside the changing transaction: other processes hear it at commit; this one drops it after. */
    async publishChange(trx: Executor, afterCommit: (effect: () => unknown) => void, hostname: string) {
      await invalidator.publish(trx, messageOf(hostname));
      afterCommit(() => invalidator.deliverLocally(messageOf(hostname)));
    },
    size: () => entries.size,
  };
}

export type DomainHosts = ReturnType<typeof createDomainHosts>;
