import { sql } from "kysely";
import type { Db } from "../db/database.js";
import { AppError } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";

type Rule = {
  /** Failures within the window that trigger a lock. */
  threshold: number;
  windowSeconds: number;
  /** First lock; each further lock doubles, up to `maxLockSeconds`. */
  lockSeconds: number;
  maxLockSeconds: number;
};

/**
 * Three counters per attempt:
 * - email+IP: the guesser's own lane, locks quickly with doubling delays (1, 2, 4 … 15 min).
 * - IP: one address spraying many emails.
 * - email across IPs: a distributed attack on one person; it locks only strangers — an IP the user
 *   logged in from before is let through, so an attacker cannot keep the real user out.
 */
export const THROTTLE_RULES = {
  emailIp: { threshold: 5, windowSeconds: 900, lockSeconds: 60, maxLockSeconds: 900 },
  ip: { threshold: 50, windowSeconds: 900, lockSeconds: 900, maxLockSeconds: 3600 },
  email: { threshold: 20, windowSeconds: 900, lockSeconds: 900, maxLockSeconds: 900 },
} as const satisfies Record<string, Rule>;

type Scope = keyof typeof THROTTLE_RULES;

export type AttemptKeys = { email: string; ip: string };

function keyFor(scope: Scope, attempt: AttemptKeys): string {
  if (scope === "emailIp") return `login:email_ip:${attempt.email}|${attempt.ip}`;
  if (scope === "ip") return `login:ip:${attempt.ip}`;
  return `login:email:${attempt.email}`;
}

export function createLoginThrottle(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function lockedUntil(key: string): Promise<string | null> {
    const row = await db
      .selectFrom("throttles")
      .select("locked_until")
      .where("key", "=", key)
      .executeTakeFirst();
    return row?.locked_until ?? null;
  }

  return {
    /** Throws 429 with retry-after when a lock applies. `knownIp`: the user logged in from here before. */
    async check(attempt: AttemptKeys, knownIp: boolean): Promise<void> {
      const now = clock.now().toISOString();
      const scopes: Scope[] = knownIp ? ["emailIp", "ip"] : ["emailIp", "ip", "email"];
      let until: string | null = null;
      for (const scope of scopes) {
        const locked = await lockedUntil(keyFor(scope, attempt));
        if (locked && locked > now && (!until || locked > until)) until = locked;
      }
      if (!until) return;
      const retryAfter = Math.max(1, Math.ceil((Date.parse(until) - Date.parse(now)) / 1000));
      throw new AppError("rate_limited", `Too many failed attempts. Try again in ${retryAfter} seconds.`, {
        headers: { "retry-after": String(retryAfter) },
      });
    },

    /** Counts a failure atomically (concurrent guesses cannot slip past the threshold) and locks when due. */
    async fail(attempt: AttemptKeys): Promise<void> {
      const now = clock.now();
      const iso = now.toISOString();
      for (const scope of Object.keys(THROTTLE_RULES) as Scope[]) {
        const rule: Rule = THROTTLE_RULES[scope];
        const key = keyFor(scope, attempt);
        const windowStart = addSeconds(now, -rule.windowSeconds).toISOString();
        const row = await db
          .insertInto("throttles")
          .values({
            key,
            failures: 1,
            window_started_at: iso,
            locked_until: null,
            lock_level: 0,
            updated_at: iso,
          })
          .onConflict((oc) =>
            oc.column("key").doUpdateSet({
              failures: sql<number>`case when throttles.window_started_at < ${windowStart} then 1 else throttles.failures + 1 end`,
              window_started_at: sql<string>`case when throttles.window_started_at < ${windowStart} then ${iso} else throttles.window_started_at end`,
              updated_at: iso,
            }),
          )
          .returning(["failures", "lock_level"])
          .executeTakeFirstOrThrow();
        if (row.failures < rule.threshold) continue;
        const seconds = Math.min(rule.maxLockSeconds, rule.lockSeconds * 2 ** Math.min(row.lock_level, 20));
        await db
          .updateTable("throttles")
          .set({
            failures: 0,
            window_started_at: iso,
            locked_until: addSeconds(now, seconds).toISOString(),
            lock_level: row.lock_level + 1,
            updated_at: iso,
          })
          .where("key", "=", key)
          .execute();
      }
    },

    /** A correct password clears the counters that concern this person (not the IP's). */
    async succeed(attempt: AttemptKeys): Promise<void> {
      await db
        .deleteFrom("throttles")
        .where("key", "in", [keyFor("emailIp", attempt), keyFor("email", attempt)])
        .execute();
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
