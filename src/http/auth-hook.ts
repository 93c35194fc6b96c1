import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { IpAllowlistGuard } from "../accounts/ip-allowlist.js";
import type { KeyAuthentication } from "../api-keys/key-authentication.js";
import { type KeyRateLimit, rateLimitedError, rateLimitHeaders } from "../api-keys/rate-limit.js";
import { SECRET_PREFIX } from "../api-keys/secrets.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { hmac, safeEqual } from "../lib/crypto.js";
import { andThen, type MaybePromise } from "../lib/maybe-async.js";
import type { AccessTokenVerifier, VerifiedAccessToken } from "../oidc/oidc.access-tokens.js";
import { sessionRequired } from "./context.js";
import { AppError, notFound } from "./errors.js";

export const SESSION_COOKIE = "gatehouse_session";

declare module "fastify" {
  interface FastifyRequest {
    /** The OIDC client of a client credentials access token (POST /api/v1/authz/check only). */
    oidcClientId: string | undefined;
  }
}
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The CSRF token is derived from the session, so it needs no storage and dies with the session. */
export function csrfTokenFor(secret: Buffer, tokenHash: string): string {
  return hmac(secret, `csrf:${tokenHash}`);
}

/** The session's CSRF token: the one its cache entry carries, else computed now. */
export function csrfTokenOf(secret: Buffer, session: Session): string {
  return session.csrfToken ?? csrfTokenFor(secret, session.tokenHash);
}

/** For public routes that act on the caller's session when there is one (accepting an invitation). */
export function assertCsrf(request: FastifyRequest, secret: Buffer) {
  const session = request.session;
  if (!session) return;
  const header = request.headers["x-csrf-token"];
  if (typeof header !== "string" || !safeEqual(header, csrfTokenOf(secret, session))) {
    throw new AppError("csrf_failed", "Missing or wrong x-csrf-token header");
  }
}

/** The credential of `authorization: Bearer <credential>`; undefined without a Bearer header. */
function bearerCredential(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer(?:\s+(.*))?$/i.exec(header.trim());
  return match ? (match[1] ?? "").trim() : undefined;
}

/** Routes outside accounts that take a user's access token too (account routes and authz/check do). */
const ACCESS_TOKEN_ROUTES = new Set(["GET /api/v1/me"]);

/**
 * The request's session when it came with a user's access token: the user, acting in the token's
 * account, for this request only (no CSRF token: a browser never attaches one on its own; never fresh
 * enough for sensitive actions, which ask to confirm it's you).
 */
function accessTokenSession(token: Extract<VerifiedAccessToken, { kind: "user" }>, now: Date): Session {
  const iso = now.toISOString();
  return {
    id: `oidc:${token.jti}`,
    tokenHash: "",
    userId: token.userId,
    accountId: token.accountId,
    createdAt: iso,
    lastSeenAt: iso,
    idleExpiresAt: iso,
    expiresAt: iso,
    idleMinutes: 0,
    ip: null,
    userAgent: null,
    passwordChangeRequired: false,
    reauthUntil: null,
    mfaEnrollmentDueAt: null,
    revokedAt: null,
  };
}

/** An account route takes API keys unless it says otherwise; other routes only when they say so. */
function acceptsApiKeys(route: FastifyRequest["routeOptions"]): boolean {
  return route.config.apiKeys ?? /\/:account_id(\/|$)/.test(route.url ?? "");
}

/**
 * Resolves the credential for every /api/v1 route before the body is read — an API key from
 * `authorization: Bearer` (counted against its per-minute rate limit), else the session cookie — then applies the route's `auth` and `apiKeys`
 * settings, the CSRF rule for cookie requests with unsafe methods, the accounts' IP allowlists and the
 * "change your password first" restriction. A key needs no CSRF token (a browser never attaches one
 * on its own) and acts only in its own account.
 */
export function registerAuthHook(
  app: FastifyInstance,
  deps: {
    sessions: SessionsService;
    apiKeys: KeyAuthentication;
    keyRateLimit: KeyRateLimit;
    secret: Buffer;
    now: () => Date;
    ipAllowlist: IpAllowlistGuard;
    /** Gatehouse access tokens (`authorization: Bearer` values that are not API keys); docs/oidc.md. */
    accessTokens?: AccessTokenVerifier;
  },
) {
  app.decorateRequest("session", undefined);
  app.decorateRequest("apiKey", undefined);
  app.decorateRequest("oidcClientId", undefined);

  type Route = FastifyRequest["routeOptions"];

  async function bearerRequest(request: FastifyRequest, reply: FastifyReply, route: Route, bearer: string) {
    if (bearer && deps.accessTokens && !bearer.startsWith(SECRET_PREFIX)) {
      const token = await deps.accessTokens.verify(bearer);
      if (token.kind === "client") {
        if (route.url !== "/api/v1/authz/check" || request.method !== "POST")
          throw new AppError(
            "forbidden",
            "A client credentials token is only accepted by POST /api/v1/authz/check",
          );
        request.oidcClientId = token.clientId;
        return;
      }
      if (!acceptsApiKeys(route) && !ACCESS_TOKEN_ROUTES.has(`${request.method} ${route.url}`))
        throw new AppError("forbidden", "Access tokens cannot be used here: sign in to Gatehouse instead");
      const pathAccountId = (request.params as { account_id?: string } | undefined)?.account_id;
      if (pathAccountId !== undefined && pathAccountId !== token.accountId) throw notFound("Account");
      request.session = accessTokenSession(token, deps.now());
      await deps.ipAllowlist.assertRequest({
        userId: token.userId,
        activeAccountId: token.accountId,
        pathAccountId,
        ip: request.ip,
        checkActive: true,
      });
      return;
    }
    const key = await deps.apiKeys.authenticate(bearer, request.ip);
    // Counted before anything else is decided, so every answer to a key (errors too) says where it
    // stands; over the limit nothing else runs.
    const rate = await deps.keyRateLimit.hit(key);
    reply.headers(rateLimitHeaders(rate));
    if (!rate.allowed) throw rateLimitedError(rate);
    if (!acceptsApiKeys(route)) throw sessionRequired();
    const pathAccountId = (request.params as { account_id?: string } | undefined)?.account_id;
    // Another account's id looks exactly like one that does not exist.
    if (pathAccountId !== undefined && pathAccountId !== key.accountId) throw notFound("Account");
    request.apiKey = key;
  }

  /** What a session request must pass after its IP allowlists: enrollment and password deadlines. */
  function sessionDeadlines(session: Session, config: Route["config"]) {
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
  }

  /** The session's checks; waits only when an allowlist is not cached. */
  function sessionChecks(request: FastifyRequest, config: Route["config"]): MaybePromise<void> {
    if (config.auth === "none") return;
    const session = request.session;
    if (!session) throw new AppError("unauthenticated", "Log in to continue");
    if (UNSAFE.has(request.method)) assertCsrf(request, deps.secret);
    const pathAccountId = (request.params as { account_id?: string } | undefined)?.account_id;
    const checkActive = !config.allowOutsideIpAllowlist;
    // No list applies (GET /session, the account list…): the client's address is not even worked out.
    if (!pathAccountId && !(checkActive && session.accountId)) return sessionDeadlines(session, config);
    const allowed = deps.ipAllowlist.assertRequest({
      userId: session.userId,
      activeAccountId: session.accountId,
      pathAccountId,
      ip: request.ip,
      checkActive,
    });
    return andThen(allowed, () => sessionDeadlines(session, config));
  }

  /**
   * Undefined when the request was decided without waiting — the warm path of every cookie request:
   * session and allowlists cached — else a promise. Throws (or rejects) with the refusal.
   */
  function authenticateRequest(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
    // Unknown routes fall through to the 404 handler whether or not the caller is logged in.
    if (!request.url.startsWith("/api/")) return;
    // Read once: Fastify builds this object anew on every read.
    const route = request.routeOptions;
    if (route.url === undefined) return;
    const config = route.config;
    const bearer = config.auth === "none" ? undefined : bearerCredential(request.headers.authorization);
    if (bearer !== undefined) return bearerRequest(request, reply, route, bearer);
    const token = request.cookies[SESSION_COOKIE];
    if (!token) return sessionChecks(request, config);
    return andThen(deps.sessions.authenticate(token), (session) => {
      request.session = session;
      return sessionChecks(request, config);
    });
  }

  // A callback hook: a request decided from the caches passes without a promise or a microtask.
  app.addHook("onRequest", (request, reply, done) => {
    let pending: void | Promise<void>;
    try {
      pending = authenticateRequest(request, reply);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (pending) pending.then(() => done(), done);
    else done();
  });
}
