import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { principalIdOf } from "../http/context.js";
import { errorResponses, Str } from "../http/schemas.js";
import { andThen } from "../lib/maybe-async.js";
import type { Services } from "../services.js";
import type { AuthzCheck, AuthzResult } from "./authz.service.js";

const Check = Type.Object(
  {
    account_id: Str(64, { minLength: 1 }),
    user_id: Str(64, { minLength: 1 }),
    permission: Str(80, { minLength: 1 }),
  },
  { additionalProperties: false },
);
const Result = Type.Object({ allowed: Type.Boolean(), reason: Type.String() });

/** The route's body and answer (bench/hooks-ablation.ts measures its floor through the same schemas). */
export const AuthzCheckBody = Type.Union([
  Check,
  Type.Object({ checks: Type.Array(Check, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
]);
export const AuthzAnswer = Type.Union([Result, Type.Object({ results: Type.Array(Result) })]);

// Made once: a closure made per request costs a name definition each under tsx (esbuild's keepNames).
type Answer = { results: AuthzResult[] } | AuthzResult | undefined;
const asBatch = (results: AuthzResult[]): Answer => ({ results });
const asSingle = (results: AuthzResult[]): Answer => results[0];

export function registerAuthzRoutes(app: FastifyInstance, services: Services) {
  app.post(
    "/api/v1/authz/check",
    {
      // A host product's backend asks with an API key (scope members:read), about its own account.
      config: { apiKeys: true },
      schema: {
        tags: ["authz"],
        summary: "Allow or deny: one check, or a batch of up to 100",
        body: AuthzCheckBody,
        response: { 200: AuthzAnswer, ...errorResponses(400) },
      },
    },
    // Not async: a check decided from the caches answers without waiting.
    (request) => {
      const body = request.body as AuthzCheck | { checks: AuthzCheck[] };
      const batch = "checks" in body;
      const checks = batch ? body.checks : [body];
      const answer = batch ? asBatch : asSingle;
      if (request.oidcClientId) return andThen(services.authz.checkForClient(checks), answer);
      // The user asking, or the API key (which may ask about users of its own account only).
      return andThen(services.authz.check(principalIdOf(request), checks), answer);
    },
  );
}
