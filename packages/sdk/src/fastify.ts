import type {
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  preHandlerAsyncHookHandler,
} from "fastify";
import {
  createGatehouseAuth,
  type GatehouseAuth,
  type GatehouseAuthOptions,
  type GatehouseIdentity,
} from "./auth.js";
import { bindRequest, guard, problem } from "./guard.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The Gatehouse caller (access token or session cookie); null when the request carried neither. */
    gatehouse: GatehouseIdentity | null;
  }
}

/**
 * An onRequest hook: `request.gatehouse` from `authorization: Bearer <access token>` or the Gatehouse
 * session cookie; 401 `invalid_token` when what was sent does not verify.
 *   app.addHook("onRequest", gatehouseFastify({ gatehouseUrl }))
 */
export function gatehouseFastify(options: GatehouseAuthOptions | GatehouseAuth): onRequestAsyncHookHandler {
  const auth = "authenticate" in options ? options : createGatehouseAuth(options);
  return async (request: FastifyRequest, reply: FastifyReply) => {
    request.gatehouse = null;
    const authentication = await auth.authenticate({
      authorization: request.headers.authorization,
      cookie: request.headers.cookie,
    });
    if (authentication.kind === "invalid") {
      const detail = "The access token or session is not valid; sign in again.";
      return reply
        .code(401)
        .type("application/problem+json")
        .send(problem(401, authentication.reason, detail));
    }
    if (authentication.kind === "ok") {
      request.gatehouse = authentication.identity;
      bindRequest(request, { auth, authentication });
    }
  };
}

/** A preHandler: 401 without a Gatehouse caller, 403 `forbidden` without `permission` in their account. */
export function requirePermission(permission: string): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const answer = await guard(request, permission);
    if (answer.status !== 200) {
      return reply.code(answer.status).type("application/problem+json").send(answer.body);
    }
  };
}
