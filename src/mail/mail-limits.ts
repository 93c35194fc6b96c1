import type { FastifyBaseLogger } from "fastify";
import type { Executor } from "../db/database.js";
import { ipSubject, type RateLimiter, type RateRule } from "../lib/rate-limit.js";

/**
 * Mail that anyone can cause without proving who they are (password reset, sign-up, the sign-up notice
 * to a taken address) or that a user can repeat at will (verification resends).
 */
export const MAIL_LIMITS = {
  perAddress: { limit: 3, windowSeconds: 15 * 60 },
  perIp: { limit: 20, windowSeconds: 15 * 60 },
} as const satisfies Record<string, RateRule>;

export type MailLimits = ReturnType<typeof createMailLimits>;

export function createMailLimits(deps: { limiter: RateLimiter; log: FastifyBaseLogger }) {
  const { limiter, log } = deps;
  return {
    /**
     * Counts one such mail to `to` asked for from `ip`; false when either limit is spent. Silent by
     * design: the caller answers exactly as if the mail went out (the refusal is only logged). Both
     * counters always count, so every path through a caller does the same writes.
     */
    async allow(executor: Executor, to: string, ip: string | null, mail: string): Promise<boolean> {
      const address = to.trim().toLowerCase();
      const byAddress = await limiter.hit(`mail:to:${address}`, MAIL_LIMITS.perAddress, executor);
      const byIp = await limiter.hit(`mail:ip:${ipSubject(ip)}`, MAIL_LIMITS.perIp, executor);
      if (byAddress.allowed && byIp.allowed) return true;
      log.warn(
        { to: address, ip, mail, limit: byAddress.allowed ? "per_ip" : "per_address" },
        "mail limit reached: not sent",
      );
      return false;
    },
  };
}
