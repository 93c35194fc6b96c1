import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { clientIp } from "../accounts/ip-allowlist.js";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { KEY_USAGE } from "./usage.service.js";

const KeyParams = Type.Object({ account_id: Str(64), key_id: Str(64) });
const DateParam = (description: string) =>
  Str(10, { minLength: 1, pattern: "^\\d{4}-\\d{2}-\\d{2}$", description });

const UsageDaySchema = Type.Object({
  date: Type.String({ description: "A UTC day, YYYY-MM-DD" }),
  requests: Type.Integer(),
  status_2xx: Type.Integer({ description: "Answers below 400 (1xx and 3xx count here too)" }),
  status_4xx: Type.Integer(),
  status_5xx: Type.Integer(),
});

const RequestLogSchema = Type.Object({
  at: Timestamp,
  method: Type.String(),
  route: Type.String({ description: "The route pattern, e.g. /api/v1/accounts/:account_id/members" }),
  status: Type.Integer(),
  ip: Nullable(Type.String()),
  duration_ms: Type.Integer(),
});

/**
 * Records every request an API key authenticated, at its answer and whatever its status (a 403, 404 or
 * 429 after authentication counts as a 4xx): in memory only, written by the write-behind flush.
 */
export function registerKeyUsageHook(app: FastifyInstance, services: Services) {
  const { keyUsageRecorder, clock } = services;
  // A callback hook: every answer passes here, and most are no key's (no promise for those).
  app.addHook("onResponse", (request, reply, done) => {
    const key = request.apiKey;
    if (key) {
      keyUsageRecorder.record({
        accountId: key.accountId,
        keyId: key.id,
        at: clock.now().toISOString(),
        method: request.method,
        route: request.routeOptions.url ?? "",
        status: reply.statusCode,
        ip: clientIp(request.ip) ?? null,
        durationMs: Math.round(reply.elapsedTime),
      });
    }
    done();
  });
}

/** A key's usage and request log (see docs/api-keys.md, "Usage and request logs"). */
export function registerApiKeyUsageRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { apiKeyUsage } = services;
  const tags = ["api-keys"];

  app.get(
    "/api/v1/accounts/:account_id/api-keys/:key_id/usage",
    {
      schema: {
        tags,
        summary: `Requests an API key made per UTC day by status class, days without any included (api_keys:manage; the last ${KEY_USAGE.defaultDays} days unless asked, at most ${KEY_USAGE.maxDays}; a few seconds behind)`,
        params: KeyParams,
        querystring: Type.Object(
          {
            from: Type.Optional(DateParam("First day (UTC), YYYY-MM-DD")),
            to: Type.Optional(DateParam("Last day (UTC), YYYY-MM-DD; on or after from")),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(UsageDaySchema) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const days = await apiKeyUsage.days(
        userActor(request).id,
        request.params.account_id,
        request.params.key_id,
        request.query,
      );
      return {
        data: days.map((d) => ({
          date: d.date,
          requests: d.requests,
          status_2xx: d.status2xx,
          status_4xx: d.status4xx,
          status_5xx: d.status5xx,
        })),
      };
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/api-keys/:key_id/logs",
    {
      schema: {
        tags,
        summary: `An API key's requests, newest first (api_keys:manage; kept ${KEY_USAGE.logRetentionDays} days; a few seconds behind)`,
        params: KeyParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(Str(512, { minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(RequestLogSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const page = await apiKeyUsage.logs(
        userActor(request).id,
        request.params.account_id,
        request.params.key_id,
        {
          limit: request.query.limit ?? 50,
          cursor: request.query.cursor,
        },
      );
      return {
        data: page.entries.map((e) => ({
          at: e.at,
          method: e.method,
          route: e.route,
          status: e.status,
          ip: e.ip,
          duration_ms: e.durationMs,
        })),
        next_cursor: page.nextCursor,
      };
    },
  );
}
