import type { FastifyInstance, FastifyRequest } from "fastify";
import { ipSubject, type RateLimiter, type RateRule } from "../lib/rate-limit.js";
import { AppError } from "./errors.js";

/**
 * Public routes that write (rows, counters, mail) before anyone has proven who they are: how often one
 * client address may call each. Generous for people (a whole office behind one address), not for scripts.
 */
export const ANONYMOUS_WRITE_LIMITS = {
  signup: { limit: 50, windowSeconds: 3600 },
  password_forgot: { limit: 60, windowSeconds: 15 * 60 },
  // Only reads, but a look-up anyone can cause: the same budget as asking for a link.
  password_reset_check: { limit: 60, windowSeconds: 15 * 60 },
  passkey_options: { limit: 300, windowSeconds: 15 * 60 },
  // The log-in page's public branding: counted only when the answer is not cached (src/branding).
  branding_lookup: { limit: 300, windowSeconds: 15 * 60 },
  // The mailed link that cancels an account closure (src/closure).
  closure_cancel: { limit: 60, windowSeconds: 15 * 60 },
} as const satisfies Record<string, RateRule>;

export type AnonymousWriteLane = keyof typeof ANONYMOUS_WRITE_LIMITS;

declare module "fastify" {
  interface FastifyContextConfig {
    /** A public route that writes: counted per client address against this lane's limit (429 beyond). */
    anonymousWrites?: AnonymousWriteLane;
  }
}

/** Register before the routes: only a route with `config.anonymousWrites` gets the (asynchronous) hook. */
export function registerAnonymousWriteLimits(app: FastifyInstance, limiter: RateLimiter) {
  app.addHook("onRoute", (route) => {
    const lane = route.config?.anonymousWrites;
    if (!lane) return;
    const limit = async (request: FastifyRequest) => {
      const key = `anon:${lane}:${ipSubject(request.ip)}`;
      const decision = await limiter.hit(key, ANONYMOUS_WRITE_LIMITS[lane]);
      if (decision.allowed) return;
      throw new AppError(
        "rate_limited",
        `Too many requests from your network. Try again in ${decision.retryAfterSeconds} seconds.`,
        { headers: { "retry-after": String(decision.retryAfterSeconds) } },
      );
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), limit];
  });
}
