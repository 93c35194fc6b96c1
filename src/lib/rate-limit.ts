import { sql } from "kysely";
import { clientIp, normalizeIpEntry } from "../accounts/ip-allowlist.js";
import type { Db, Executor } from "../db/database.js";
import { addSeconds, type Clock } from "./clock.js";

/** At most `limit` hits per key in a window of `windowSeconds` (opened by the first hit after the last one closed). */
export type RateRule = { limit: number; windowSeconds: number };

export type RateDecision = { allowed: boolean; retryAfterSeconds: number };

/**
 * Whom a per-IP limit counts: an IPv4 client by its address, an IPv6 client by its /64 (one subscriber
 * gets a whole /64, so counting single IPv6 addresses would let one client rotate past any limit).
 */
export function ipSubject(ip: string | null | undefined): string {
  const address = clientIp(ip);
  if (!address) return "unknown";
  return address.includes(":") ? (normalizeIpEntry(`${address}/64`) ?? address) : address;
}

/**
 * The one counter behind every counting limit (mail per recipient and per IP, anonymous writes per IP):
 * a fixed window per key, kept in the shared `throttles` table (`failures` holds the hits) so every
 * process counts together. Keys start with `rate:`; the log-in throttle's start with `login:`.
 */
export function createRateLimiter(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  return {
    /**
     * Counts one hit on `key` and says whether it is within `rule`. One atomic upsert: concurrent hits
     * (from any process) cannot slip past the limit. Pass a transaction to count inside it.
     */
    async hit(key: string, rule: RateRule, executor: Executor = db): Promise<RateDecision> {
      const now = clock.now();
      const iso = now.toISOString();
      const windowStart = addSeconds(now, -rule.windowSeconds).toISOString();
      const row = await executor
        .insertInto("throttles")
        .values({
          key: `rate:${key}`,
          failures: 1,
          window_started_at: iso,
          locked_until: null,
          lock_level: 0,
          updated_at: iso,
        })
        .onConflict((oc) =>
          oc.column("key").doUpdateSet({
            failures: sql<number>`case when throttles.window_started_at <= ${windowStart} then 1 else throttles.failures + 1 end`,
            window_started_at: sql<string>`case when throttles.window_started_at <= ${windowStart} then ${iso} else throttles.window_started_at end`,
            updated_at: iso,
          }),
        )
        .returning(["failures", "window_started_at"])
        .executeTakeFirstOrThrow();
      const closes = Date.parse(row.window_started_at) + rule.windowSeconds * 1000;
      return {
        allowed: Number(row.failures) <= rule.limit,
        retryAfterSeconds: Math.max(1, Math.ceil((closes - now.getTime()) / 1000)),
      };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
