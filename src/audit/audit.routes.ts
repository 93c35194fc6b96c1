import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { AuditEntry } from "./audit.repository.js";

const AccountParams = Type.Object({ account_id: Str(64) });

const DateTime = (description: string) => Type.String({ format: "date-time", maxLength: 40, description });

const AuditEventsQuery = Type.Object(
  {
    actor_id: Type.Optional(
      Str(64, {
        minLength: 1,
        description: "Only events by this actor: a user id, or an API key id (key_…)",
      }),
    ),
    action: Type.Optional(
      Str(100, {
        pattern: "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*(\\.\\*)?$",
        description: 'Exact action, or a prefix ending in ".*" (e.g. "member.*")',
      }),
    ),
    target_id: Type.Optional(Str(64, { minLength: 1, description: "Only events about this target" })),
    from: Type.Optional(DateTime("Events at or after this time")),
    to: Type.Optional(DateTime("Events at or before this time")),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Str(200, { minLength: 1, description: "next_cursor of the previous page" })),
  },
  // A mistyped filter must not quietly widen what an auditor reads.
  { additionalProperties: false },
);

const AuditEventSchema = Type.Object({
  id: Type.String(),
  action: Type.String(),
  actor: Type.Object({
    type: Type.String({ description: "user, system or api_key" }),
    id: Nullable(Type.String({ description: "The user's id, or the API key's (key_…)" })),
    email: Nullable(
      Type.String({ description: "The email of the member who acted (for a key, its creator)" }),
    ),
    user_id: Nullable(
      Type.String({ description: "The member who acted: the user, or the member the API key acts for" }),
    ),
  }),
  target: Type.Object({ type: Nullable(Type.String()), id: Nullable(Type.String()) }),
  changes: Nullable(
    Type.Object({}, { additionalProperties: true, description: "Changed fields (names, non-secret values)" }),
  ),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  request_id: Nullable(Type.String()),
  created_at: Timestamp,
});

const AuditEventsPage = Type.Object({
  data: Type.Array(AuditEventSchema),
  next_cursor: Nullable(Type.String()),
});

function auditEventView(event: AuditEntry): Static<typeof AuditEventSchema> {
  return {
    id: event.id,
    action: event.action,
    actor: {
      type: event.actor.type,
      id: event.actor.id,
      email: event.actor.email,
      user_id: event.actor.userId,
    },
    target: event.target,
    changes: event.changes,
    ip: event.ip,
    user_agent: event.userAgent,
    request_id: event.requestId,
    created_at: event.createdAt,
  };
}

/** GET /api/v1/accounts/{id}/audit-events — see docs/api-accounts.md. */
export function registerAuditRoutes(app: FastifyInstance, services: Services) {
  const { audit } = services;

  app.get(
    "/api/v1/accounts/:account_id/audit-events",
    {
      schema: {
        tags: ["audit"],
        summary: "The account's audit log, newest first",
        description: "Needs the audit:read permission. Events are hash-chained per account.",
        params: AccountParams,
        querystring: AuditEventsQuery,
        response: { 200: AuditEventsPage, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      const query = request.query as Static<typeof AuditEventsQuery>;
      const page = await audit.listEvents(userActor(request).id, account_id, {
        actorId: query.actor_id,
        action: query.action,
        targetId: query.target_id,
        from: query.from,
        to: query.to,
        limit: query.limit ?? 50,
        cursor: query.cursor,
      });
      return { data: page.events.map(auditEventView), next_cursor: page.nextCursor };
    },
  );
}
