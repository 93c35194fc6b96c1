import type { FastifyBaseLogger } from "fastify";
import type Provider from "oidc-provider";
import type { KoaContextWithOIDC } from "oidc-provider";
import { isConnectionLoss } from "../db/database.js";
import { RETRY_AFTER_CONNECTION_LOSS_SECONDS } from "../http/error-handler.js";

/**
 * The provider's unexpected errors, as the rest of the API treats them: a database that is restarting,
 * failing over or out of reach answers 503 with retry-after (`temporarily_unavailable`, RFC 6749's code
 * for it) instead of oidc-provider's 500 `server_error`; anything else stays a 500 and is logged (the
 * provider itself only emits an event).
 */
export function answerServerErrors(provider: Provider, log: FastifyBaseLogger) {
  /** Logs `error` and marks a lost connection on the request; answers whether it was one. */
  const classify = (ctx: KoaContextWithOIDC, error: unknown): boolean => {
    if (!isConnectionLoss(error)) {
      log.error({ err: error, path: ctx.path }, "unhandled error (OpenID Connect provider)");
      return false;
    }
    log.warn({ err: error, path: ctx.path }, "database connection lost (OpenID Connect provider)");
    ctx.state.databaseUnavailable = true;
    return true;
  };
  provider.on("server_error", (ctx: KoaContextWithOIDC, error: unknown) => {
    classify(ctx, error);
  });
  // Around every endpoint: the provider's own error handling has already answered by the time `next`
  // returns, and only that answer is replaced. Middleware added after this one (the token throttle) runs
  // outside that handling: what it throws is answered here, in the same shapes.
  provider.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!classify(ctx, error)) {
        ctx.status = 500;
        ctx.type = "json";
        ctx.body = { error: "server_error", error_description: "Something went wrong on our side." };
        return;
      }
    }
    if (!ctx.state.databaseUnavailable) return;
    ctx.status = 503;
    ctx.set("retry-after", String(RETRY_AFTER_CONNECTION_LOSS_SECONDS));
    ctx.set("cache-control", "no-store");
    ctx.type = "json";
    ctx.body = {
      error: "temporarily_unavailable",
      error_description: "The database is unreachable; try again in a moment.",
    };
  });
}
