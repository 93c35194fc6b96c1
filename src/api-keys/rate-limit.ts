import type { Invalidator } from "../auth/session-cache.js";
import { type ApiLimits, apiLimitsOf } from "../billing/plan-limits.js";
import type { Plan } from "../billing/plans.js";
import type { Db } from "../db/database.js";
import { AppError } from "../http/errors.js";
import { createAccountCache } from "../lib/account-cache.js";
import type { Clock } from "../lib/clock.js";
import type { ApiKeyPrincipal } from "./key-authentication.js";
import type { RateLimitStore } from "./rate-limit-stores.js";

const WINDOW_MS = 60_000;

/** One request's place in its key's window. */
export type RateDecision = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets (1–60). */
  resetSeconds: number;
};

/**
 * Requests per API key per fixed one-minute window (aligned to the clock's minutes), by the account's
 * plan. Each request is counted once in the shared store, over the limit or not; the account's limit
 * is cached per process (dropped by `acct:<id>` messages, which plan changes publish).
 */
export function createKeyRateLimit(deps: {
  db: Db;
  clock: Clock;
  plans: readonly Plan[];
  store: RateLimitStore;
  invalidator: Invalidator;
}) {
  const { clock, store } = deps;
  const limits = createAccountCache<ApiLimits>(deps.invalidator);
  return {
    async hit(key: ApiKeyPrincipal): Promise<RateDecision> {
      const { ratePerMinute } = await limits.get(key.accountId, () =>
        apiLimitsOf(deps.db, deps.plans, key.accountId),
      );
      const now = clock.now().getTime();
      const minute = Math.floor(now / WINDOW_MS);
      const count = await store.hit(key.id, minute);
      return {
        allowed: count <= ratePerMinute,
        limit: ratePerMinute,
        remaining: Math.max(0, ratePerMinute - count),
        resetSeconds: Math.ceil(((minute + 1) * WINDOW_MS - now) / 1000),
      };
    },
    store,
  };
}

export type KeyRateLimit = ReturnType<typeof createKeyRateLimit>;

/** The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers), on every answer to a key. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}

export function rateLimitedError(decision: RateDecision): AppError {
  return new AppError(
    "rate_limited",
    `This API key made more than ${decision.limit} requests this minute. Try again in ${decision.resetSeconds} seconds.`,
    { headers: { "retry-after": String(decision.resetSeconds) } },
  );
}
