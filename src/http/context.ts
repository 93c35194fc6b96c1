import type { FastifyRequest } from "fastify";
import type { ApiKeyPrincipal } from "../api-keys/key-authentication.js";
import type { Actor } from "../audit/audit.repository.js";
import type { Session } from "../auth/sessions.repository.js";
import { AppError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    session: Session | undefined;
    /** The API key the request authenticated with (`authorization: Bearer gh_…`); then no session. */
    apiKey: ApiKeyPrincipal | undefined;
  }
  interface FastifyContextConfig {
    /** "session" (default under /api/v1): a live session (or an API key, see `apiKeys`) is required; "none": public. */
    auth?: "session" | "none";
    /**
     * Whether an API key may call the route. Default: yes for routes under `/accounts/:account_id`
     * (the key's own account only), no elsewhere. A key on a route that refuses keys gets 403
     * `session_required`: routes acting on a person (their login, factors, sessions, profile), creating
     * API keys, and actions that need a fresh authentication by a person say `false`.
     */
    apiKeys?: boolean;
    /** Allowed while the user must first change an expired password. */
    allowDuringPasswordChange?: boolean;
    /** Allowed after the grace period for a required second factor ran out (so the user can enroll). */
    allowDuringMfaEnrollment?: boolean;
    /**
     * Skips the IP allowlist of the session's active account (so a blocked user can log out or switch
     * to another account); an account in the path is still checked.
     */
    allowOutsideIpAllowlist?: boolean;
  }
}

export function actorOf(request: FastifyRequest): Actor {
  const base = {
    ip: request.ip ?? null,
    userAgent: request.headers["user-agent"]?.slice(0, 512) ?? null,
    requestId: request.id,
    deviceToken: request.deviceToken ?? null,
  };
  if (request.apiKey)
    return { ...base, type: "api_key", id: request.apiKey.id, userId: request.apiKey.createdBy };
  return { ...base, type: request.session ? "user" : "system", id: request.session?.userId ?? null };
}

/** The session of a route that requires one; an API key here is 403 `session_required`. */
export function sessionOf(request: FastifyRequest): Session {
  if (request.apiKey) throw sessionRequired();
  if (!request.session) throw new AppError("unauthenticated", "Log in first");
  return request.session;
}

export function sessionRequired(): AppError {
  return new AppError(
    "session_required",
    "API keys cannot be used here: this acts on a person's login, or needs them to confirm it's them. Sign in instead.",
  );
}

/**
 * The id the access model knows the caller by — the API key's (`key_…`) or the session's user — without
 * building a whole actor (the authorization check's hot path records nothing).
 */
export function principalIdOf(request: FastifyRequest): string {
  return request.apiKey ? request.apiKey.id : sessionOf(request).userId;
}

/**
 * Who is acting, for services: the logged-in user, or the API key (`type: "api_key"`, `id: key_…`,
 * `userId`: the member it acts for). Services pass `id` to the access model, which answers for either;
 * where they store or compare a person, they use the access's `userId`.
 */
export function userActor(request: FastifyRequest): Actor & { id: string } {
  if (request.apiKey) return { ...actorOf(request), type: "api_key", id: request.apiKey.id };
  const session = sessionOf(request);
  return { ...actorOf(request), type: "user", id: session.userId };
}
