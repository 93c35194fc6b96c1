import { sql } from "kysely";
import type { Db, Executor } from "../db/database.js";
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
 * Passwords, three counters per attempt:
 * - email+IP: the guesser's own lane, locks quickly with doubling delays (1, 2, 4 … 15 min).
 * - IP: one address spraying many emails.
 * - email across IPs: a distributed attack on one person; it locks only strangers — an IP the user
 *   logged in from before is let through, so an attacker cannot keep the real user out.
 *
 * Everything guessed after the password step or inside a session (second factors at log-in,
 * re-authentication, password confirmations, enrollment codes), two counters:
 * - user, from every IP and across mfa_tokens and sessions: whoever guesses here already holds the
 *   password or a session, so the lock holds for everyone (1, 2, 4 … 60 min);
 * - IP: one address guessing for many users.
 * A correct password clears neither.
 *
 * OpenID Connect clients at the token, introspection and revocation endpoints (src/oidc/oidc.token-throttle.ts),
 * three counters per failure:
 * - client across IPs: wrong secrets for one client, a distributed attack on it; like the email lane it
 *   locks only strangers — an address the client authenticated from before is let through;
 * - client+IP: wrong secrets, and invalid codes or refresh tokens of a public client, from one address;
 * - IP: one address failing for many clients.
 */
export const THROTTLE_RULES = {
  emailIp: { threshold: 5, windowSeconds: 900, lockSeconds: 60, maxLockSeconds: 900 },
  ip: { threshold: 50, windowSeconds: 900, lockSeconds: 900, maxLockSeconds: 3600 },
  email: { threshold: 20, windowSeconds: 900, lockSeconds: 900, maxLockSeconds: 900 },
  factorUser: { threshold: 10, windowSeconds: 900, lockSeconds: 60, maxLockSeconds: 3600 },
  factorIp: { threshold: 50, windowSeconds: 900, lockSeconds: 900, maxLockSeconds: 3600 },
  oidcClient: { threshold: 50, windowSeconds: 900, lockSeconds: 300, maxLockSeconds: 3600 },
  oidcClientIp: { threshold: 20, windowSeconds: 900, lockSeconds: 60, maxLockSeconds: 900 },
  oidcIp: { threshold: 100, windowSeconds: 900, lockSeconds: 900, maxLockSeconds: 3600 },
} as const satisfies Record<string, Rule>;

/** How often a client's known address is marked again, so that the purge never forgets one in use. */
const KNOWN_CLIENT_REFRESH_SECONDS = 3600;

type Scope = keyof typeof THROTTLE_RULES;
type Lane = { scope: Scope; key: string };

export type AttemptKeys = { email: string; ip: string };
export type FactorKeys = { userId: string; ip: string };
/** The client a request names (Basic credentials or the body's `client_id`), if any, and its address. */
export type ClientKeys = { clientId: string | undefined; ip: string };
/** What a client failure counts against: a wrong secret, or an invalid code or refresh token. */
export type ClientFailure = "secret" | "grant";
/** A lock in force: the lane that holds it and the seconds left. */
export type Lock = { scope: Scope; retryAfter: number };
/** What a password attempt's check found: the counters that exist for it, locked or not. */
export type AttemptCounters = { readonly keys: ReadonlySet<string> };

const passwordLanes = (attempt: AttemptKeys): Lane[] => [
  { scope: "emailIp", key: `login:email_ip:${attempt.email}|${attempt.ip}` },
  { scope: "ip", key: `login:ip:${attempt.ip}` },
  { scope: "email", key: `login:email:${attempt.email}` },
];

const factorLanes = (who: FactorKeys): Lane[] => [
  { scope: "factorUser", key: `factor:user:${who.userId}` },
  { scope: "factorIp", key: `factor:ip:${who.ip}` },
];

const clientLanes = (who: ClientKeys, failure?: ClientFailure): Lane[] => [
  // Invalid codes and refresh tokens stay off the client-wide lane: anyone can send them in a public
  // client's name, and its users at every other address must not be locked out for it.
  ...(who.clientId !== undefined && failure !== "grant"
    ? [{ scope: "oidcClient" as const, key: `oidc:client:${who.clientId}` }]
    : []),
  ...(who.clientId !== undefined
    ? [{ scope: "oidcClientIp" as const, key: `oidc:client_ip:${who.clientId}|${who.ip}` }]
    : []),
  { scope: "oidcIp", key: `oidc:ip:${who.ip}` },
];

/** A row (never locked, no failures) saying that the client authenticated from this address. */
const knownClientKey = (who: ClientKeys) => `oidc:client_known:${who.clientId}|${who.ip}`;

/** The 429 every throttled attempt gets. */
export function rateLimited(lock: Lock, what = "failed attempts", then = "Try again"): AppError {
  return new AppError("rate_limited", `Too many ${what}. ${then} in ${lock.retryAfter} seconds.`, {
    headers: { "retry-after": String(lock.retryAfter) },
  });
}

export function createLoginThrottle(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  /** The longest lock in force among these lanes' counters (rows of every lane, locked or not). */
  function longestLock(lanes: Lane[], rows: Array<{ key: string; locked_until: string | null }>) {
    const now = clock.now();
    let longest: Lock | undefined;
    for (const row of rows) {
      const lane = lanes.find((l) => l.key === row.key);
      if (!lane || row.locked_until === null || Date.parse(row.locked_until) <= now.getTime()) continue;
      const retryAfter = Math.max(1, Math.ceil((Date.parse(row.locked_until) - now.getTime()) / 1000));
      if (!longest || retryAfter > longest.retryAfter) longest = { scope: lane.scope, retryAfter };
    }
    return longest;
  }

  /** The longest lock in force on these lanes. */
  async function lockOn(lanes: Lane[]): Promise<Lock | undefined> {
    const rows = await db
      .selectFrom("throttles")
      .select(["key", "locked_until"])
      .where(
        "key",
        "in",
        lanes.map((l) => l.key),
      )
      .where("locked_until", ">", clock.now().toISOString())
      .execute();
    return longestLock(lanes, rows);
  }

  /**
   * Counts a failure on every lane atomically (concurrent guesses cannot slip past the threshold) and
   * locks those that are due. Returns the locks this very failure started: of concurrent failures
   * past a threshold, exactly one starts the lock.
   */
  async function count(lanes: Lane[]): Promise<Lock[]> {
    const now = clock.now();
    const iso = now.toISOString();
    const started: Lock[] = [];
    for (const { scope, key } of lanes) {
      const rule: Rule = THROTTLE_RULES[scope];
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
      const locked = await db
        .updateTable("throttles")
        .set({
          failures: 0,
          window_started_at: iso,
          locked_until: addSeconds(now, seconds).toISOString(),
          lock_level: row.lock_level + 1,
          updated_at: iso,
        })
        .where("key", "=", key)
        .where("lock_level", "=", row.lock_level)
        .executeTakeFirst();
      if (Number(locked.numUpdatedRows) > 0) started.push({ scope, retryAfter: seconds });
    }
    return started;
  }

  async function clear(lanes: Lane[], executor: Executor = db): Promise<void> {
    if (lanes.length === 0) return;
    await executor
      .deleteFrom("throttles")
      .where(
        "key",
        "in",
        lanes.map((l) => l.key),
      )
      .execute();
  }

  return {
    /**
     * Throws 429 with retry-after when a lock applies. `knownIp`: the user logged in from here before.
     * Answers which of the attempt's counters exist, so that a success clears only those (usually none).
     */
    async check(attempt: AttemptKeys, knownIp: boolean): Promise<AttemptCounters> {
      const all = passwordLanes(attempt);
      // Every lane's row, locked or not: one read tells the lock and what a success has to clear.
      const rows = await db
        .selectFrom("throttles")
        .select(["key", "locked_until"])
        .where(
          "key",
          "in",
          all.map((l) => l.key),
        )
        .execute();
      const lock = longestLock(
        all.filter((l) => !(knownIp && l.scope === "email")),
        rows,
      );
      if (lock) throw rateLimited(lock);
      return { keys: new Set(rows.map((r) => r.key)) };
    },

    async fail(attempt: AttemptKeys): Promise<void> {
      await count(passwordLanes(attempt));
    },

    /**
     * A correct password clears the counters that concern this person (not the IP's), in the log-in's
     * transaction: those `check` found. A failure counted after that check (a concurrent wrong guess)
     * stays counted, which only errs on the strict side.
     */
    async succeed(attempt: AttemptKeys, found: AttemptCounters, executor: Executor = db): Promise<void> {
      await clear(
        passwordLanes(attempt).filter((l) => l.scope !== "ip" && found.keys.has(l.key)),
        executor,
      );
    },

    /** The lock in force on a user's (or the IP's) second-factor guessing, if any. */
    factorLock(who: FactorKeys): Promise<Lock | undefined> {
      return lockOn(factorLanes(who));
    },

    /** Counts a wrong second factor; returns the locks it started (`factorUser` first). */
    failFactor(who: FactorKeys): Promise<Lock[]> {
      return count(factorLanes(who));
    },

    /**
     * The lock in force on a client's lanes at this address (the client-wide one spares addresses the
     * client authenticated from), and whether such an address is marked recently enough.
     */
    async clientLock(who: ClientKeys): Promise<{ lock: Lock | undefined; known: boolean }> {
      const lanes = clientLanes(who);
      const knownKey = knownClientKey(who);
      const rows = await db
        .selectFrom("throttles")
        .select(["key", "locked_until", "updated_at"])
        .where("key", "in", [...lanes.map((l) => l.key), ...(who.clientId === undefined ? [] : [knownKey])])
        .execute();
      const known = rows.find((r) => r.key === knownKey);
      const lock = longestLock(
        lanes.filter((l) => !(known && l.scope === "oidcClient")),
        rows,
      );
      const fresh = addSeconds(clock.now(), -KNOWN_CLIENT_REFRESH_SECONDS).toISOString();
      return { lock, known: known !== undefined && known.updated_at > fresh };
    },

    /** Counts a client's failure on its lanes. */
    async failClient(who: ClientKeys, failure: ClientFailure): Promise<void> {
      await count(clientLanes(who, failure));
    },

    /** The client authenticated from this address: its client-wide lane no longer locks it here. */
    async knownClient(who: ClientKeys & { clientId: string }): Promise<void> {
      const iso = clock.now().toISOString();
      await db
        .insertInto("throttles")
        .values({
          key: knownClientKey(who),
          failures: 0,
          window_started_at: iso,
          locked_until: null,
          lock_level: 0,
          updated_at: iso,
        })
        .onConflict((oc) => oc.column("key").doUpdateSet({ updated_at: iso }))
        .execute();
    },

    /** A right second factor (or re-authentication) clears the user's counter, not the IP's. */
    async succeedFactor(userId: string): Promise<void> {
      await clear(factorLanes({ userId, ip: "" }).filter((l) => l.scope === "factorUser"));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
