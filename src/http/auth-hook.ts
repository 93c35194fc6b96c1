import type { FastifyInstance, FastifyRequest } from "fastify";
import type { IpAllowlistGuard } from "../accounts/ip-allowlist.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { hmac, safeEqual } from "../lib/crypto.js";
import { AppError } from "./errors.js";

export const SESSION_COOKIE = "gatehouse_session";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The CSRF token is derived from the session, so it needs no storage and dies with the session. */
export function csrfTokenFor(secret: Buffer, tokenHash: string): string {
  return hmac(secret, `csrf:${tokenHash}`);
}

/** For public routes that act on the caller's session when there is one (accepting an invitation). */
export function assertCsrf(request: FastifyRequest, secret: Buffer) {
  const session = request.session;
  if (!session) return;
  const header = request.headers["x-csrf-token"];
  if (typeof header !== "string" || !safeEqual(header, csrfTokenFor(secret, session.tokenHash))) {
    throw new AppError("csrf_failed", "Missing or wrong x-csrf-token header");
  }
}

/**
 * Resolves the session cookie for every /api/v1 route before the body is read, then applies the route's
 * `auth` setting, the CSRF rule for unsafe methods, the accounts' IP allowlists and the "change your
 * password first" restriction.
 */
export function registerAuthHook(
  app: FastifyInstance,
  deps: { sessions: SessionsService; secret: Buffer; now: () => Date; ipAllowlist: IpAllowlistGuard },
) {
  app.decorateRequest("session", undefined);
  app.addHook("onRequest", async (request: FastifyRequest) => {
    // Unknown routes fall through to the 404 handler whether or not the caller is logged in.
    if (!request.url.startsWith("/api/") || request.routeOptions.url === undefined) return;
    const config = request.routeOptions.config;
    const token = request.cookies[SESSION_COOKIE];
    if (token) request.session = await deps.sessions.authenticate(token);
    if (config.auth === "none") return;
    const session = request.session;
    if (!session) throw new AppError("unauthenticated", "Log in to continue");
    if (UNSAFE.has(request.method)) assertCsrf(request, deps.secret);
    await deps.ipAllowlist.assertRequest({
      userId: session.userId,
      activeAccountId: session.accountId,
      pathAccountId: (request.params as { account_id?: string } | undefined)?.account_id,
      ip: request.ip,
      checkActive: !config.allowOutsideIpAllowlist,
    });
    if (
      session.mfaEnrollmentDueAt &&
      session.mfaEnrollmentDueAt <= deps.now().toISOString() &&
      !config.allowDuringMfaEnrollment
    ) {
      throw new AppError(
        "mfa_enrollment_required",
        "Your account requires two-factor authentication: set it up to continue",
      );
    }
    if (session.passwordChangeRequired && !config.allowDuringPasswordChange) {
      throw new AppError(
        "password_change_required",
        "Your password has expired or was reset: choose a new one first",
      );
    }
  });
}
