import { type Static, Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { parseUserAgent } from "../users/user-agent.js";
import type { AuditEntry } from "./audit.repository.js";
import { AUDIT_CATEGORIES, auditCategoryOf } from "./audit-categories.js";
import { type AuditNames, changeNames, nameOf } from "./audit-names.js";

/** "Chrome on macOS": the browser without its version, and the system; null when neither is known. */
export function deviceLabel(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const device = parseUserAgent(userAgent);
  const browser = device.browser === "Unknown" ? null : device.browser.replace(/ \d+$/, "");
  const os = device.os === "Unknown" ? null : device.os;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os;
}

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
    category: Type.Optional(
      Type.Union(
        AUDIT_CATEGORIES.map((c) => Type.Literal(c)),
        { description: "Only events of this category (each event's `category`)" },
      ),
    ),
    from: Type.Optional(DateTime("Events at or after this time")),
    to: Type.Optional(DateTime("Events at or before this time")),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Str(200, { minLength: 1, description: "next_cursor of the previous page" })),
  },
  // A mistyped filter must not quietly widen what an auditor reads.
  { additionalProperties: false },
);

export const AuditEventSchema = Type.Object({
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
    name: Nullable(
      Type.String({
        description:
          "The person's name (or email when they have none), or the API key's name; null for the system and for people this account no longer names",
      }),
    ),
    avatar_url: Nullable(Type.String({ description: "The person's avatar, when they have one" })),
  }),
  target: Type.Object({
    type: Nullable(Type.String()),
    id: Nullable(Type.String()),
    name: Nullable(
      Type.String({ description: "The member, role, team or API key's name, when this account knows it" }),
    ),
  }),
  category: Type.Union(
    AUDIT_CATEGORIES.map((c) => Type.Literal(c)),
    { description: "What the action is about; the category= filter" },
  ),
  changes: Nullable(
    Type.Object({}, { additionalProperties: true, description: "Changed fields (names, non-secret values)" }),
  ),
  change_names: Nullable(
    Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          "The fields of changes that hold ids or role keys, with names instead (lists item by item, null where unknown)",
      },
    ),
  ),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  device: Nullable(Type.String({ description: 'The user agent read for people, e.g. "Chrome on macOS"' })),
  request_id: Nullable(Type.String()),
  created_at: Timestamp,
});

const AuditEventsPage = Type.Object({
  data: Type.Array(AuditEventSchema),
  next_cursor: Nullable(Type.String()),
});

export function auditEventView(event: AuditEntry, names: AuditNames): Static<typeof AuditEventSchema> {
  const person = names.people.get(event.actor.userId ?? "");
  const actorName =
    event.actor.type === "api_key"
      ? (names.apiKeys.get(event.actor.id ?? "") ?? null)
      : (person?.name ?? null);
  const target =
    event.target.type === "invitation" || event.target.type === "session" ? null : event.target.id;
  return {
    id: event.id,
    action: event.action,
    actor: {
      type: event.actor.type,
      id: event.actor.id,
      email: event.actor.email,
      user_id: event.actor.userId,
      name: actorName,
      avatar_url: event.actor.type === "user" ? (person?.avatarUrl ?? null) : null,
    },
    target: { ...event.target, name: nameOf(names, target) },
    category: auditCategoryOf(event.action),
    changes: event.changes,
    change_names: changeNames(names, event),
    ip: event.ip,
    user_agent: event.userAgent,
    device: deviceLabel(event.userAgent),
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
        category: query.category,
        from: query.from,
        to: query.to,
        limit: query.limit ?? 50,
        cursor: query.cursor,
      });
      return {
        data: page.events.map((event) => auditEventView(event, page.names)),
        next_cursor: page.nextCursor,
      };
    },
  );
}
