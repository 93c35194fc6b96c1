import type { FastifyRequest } from "fastify";
import type { Actor } from "../audit/audit.repository.js";
import type { Session } from "../auth/sessions.repository.js";
import { AppError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    session: Session | undefined;
  }
  interface FastifyContextConfig {
    /** "session" (default under /api/v1): a live session is required; "none": public. */
    auth?: "session" | "none";
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
  return {
    type: request.session ? "user" : "system",
    id: request.session?.userId ?? null,
    ip: request.ip ?? null,
    userAgent: request.headers["user-agent"]?.slice(0, 512) ?? null,
    requestId: request.id,
    deviceToken: request.deviceToken ?? null,
  };
}

/** The session of a route that requires one (the auth hook has already refused requests without). */
export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new AppError("unauthenticated", "Log in first");
  return request.session;
}

export function userActor(request: FastifyRequest): Actor & { id: string } {
  const session = sessionOf(request);
  return { ...actorOf(request), type: "user", id: session.userId };
}
