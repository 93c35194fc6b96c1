import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { principalIdOf } from "../http/context.js";
import { errorResponses, Str } from "../http/schemas.js";
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
        body: Type.Union([
          Check,
          Type.Object(
            { checks: Type.Array(Check, { minItems: 1, maxItems: 100 }) },
            { additionalProperties: false },
          ),
        ]),
        response: {
          200: Type.Union([Result, Type.Object({ results: Type.Array(Result) })]),
          ...errorResponses(400),
        },
      },
    },
    // Not async: a check decided from the caches answers without waiting.
    (request) => {
      const body = request.body as AuthzCheck | { checks: AuthzCheck[] };
      const batch = "checks" in body;
      const checks = batch ? body.checks : [body];
      const answer = batch ? asBatch : asSingle;
      if (request.oidcClientId) return services.authz.checkForClient(checks).then(answer);
      // The user asking, or the API key (which may ask about users of its own account only).
      const callerId = principalIdOf(request);
      const cached = services.authz.checkCached(callerId, checks);
      return cached ? answer(cached) : services.authz.check(callerId, checks).then(answer);
    },
  );
}
