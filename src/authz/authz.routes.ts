import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sessionOf } from "../http/context.js";
import { errorResponses, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { AuthzCheck } from "./authz.service.js";

const Check = Type.Object(
  {
    account_id: Str(64, { minLength: 1 }),
    user_id: Str(64, { minLength: 1 }),
    permission: Str(80, { minLength: 1 }),
  },
  { additionalProperties: false },
);
const Result = Type.Object({ allowed: Type.Boolean(), reason: Type.String() });

export function registerAuthzRoutes(app: FastifyInstance, services: Services) {
  app.post(
    "/api/v1/authz/check",
    {
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
    async (request) => {
      const body = request.body as AuthzCheck | { checks: AuthzCheck[] };
      const callerId = sessionOf(request).userId;
      if ("checks" in body) return { results: await services.authz.check(callerId, body.checks) };
      const [result] = await services.authz.check(callerId, [body]);
      return result;
    },
  );
}
