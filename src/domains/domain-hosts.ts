import type { Invalidator } from "../auth/session-cache.js";
import type { Db, Executor } from "../db/database.js";
import { createGuardedCache } from "../lib/guarded-cache.js";
import type { DomainsRepository } from "./domains.repository.js";
import { hostOfHeader } from "./hostnames.js";

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
  // Unknown names are cached as null.
  const hosts = createGuardedCache<string | null>(invalidator, options);
  invalidator.onInvalidate((message) => {
    if (message === "*") hosts.clear();
    else if (message.startsWith("domain:")) hosts.forget(message.slice("domain:".length));
  });

  return {
    /** The account whose verified custom domain `host` (a Host header, port allowed) is. */
    async accountForHost(host: string | undefined): Promise<string | undefined> {
      const hostname = hostOfHeader(host);
      if (!hostname || deps.ownHosts.includes(hostname)) return undefined;
      const accountId = await hosts.get(
        hostname,
        async () => (await deps.repository.findVerified(deps.db, hostname))?.accountId ?? null,
      );
      return accountId ?? undefined;
    },
    /** Inside the changing transaction: other processes hear it at commit; this one drops it after. */
    async publishChange(trx: Executor, afterCommit: (effect: () => unknown) => void, hostname: string) {
      await invalidator.publish(trx, messageOf(hostname));
      afterCommit(() => invalidator.deliverLocally(messageOf(hostname)));
    },
  };
}

export type DomainHosts = ReturnType<typeof createDomainHosts>;
