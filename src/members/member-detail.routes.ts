import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import { createMfaRepository } from "../mfa/mfa.repository.js";
import type { Services } from "../services.js";
import { parseUserAgent } from "../users/user-agent.js";
import { createMemberDetailRepository } from "./member-detail.repository.js";
import { createMemberDetailService } from "./member-detail.service.js";

const MemberParams = Type.Object({ account_id: Str(64), user_id: Str(64) });
const Device = Type.Object({
  browser: Type.String({ description: 'e.g. "Chrome 140"; "Unknown" when unrecognised' }),
  os: Type.String({ description: 'e.g. "macOS"' }),
  type: Type.String({ description: "desktop | mobile | tablet | unknown" }),
});

const MemberSessionSchema = Type.Object({
  id: Type.String(),
  created_at: Timestamp,
  last_seen_at: Timestamp,
  expires_at: Timestamp,
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  device: Device,
});

const MemberLoginSchema = Type.Object({
  id: Type.String({ description: "The audit event's id" }),
  at: Timestamp,
  succeeded: Type.Boolean(),
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  device: Device,
  method: Nullable(
    Type.String({ description: "The second factor used or passkey, when the event records one" }),
  ),
});

const MemberMfaSchema = Type.Object({
  enabled: Type.Boolean(),
  factors: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String({ description: "totp | email | sms | passkey" }),
      label: Type.String(),
      created_at: Timestamp,
      last_used_at: Nullable(Timestamp),
    }),
  ),
  recovery_codes_remaining: Type.Integer(),
});

/** The member detail page's reads (sessions, sign-ins, second factors) and per-session revoke. */
export function registerMemberDetailRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const detail = createMemberDetailService({
    db: services.db,
    clock: services.clock,
    access: services.access,
    members: services.members,
    detail: createMemberDetailRepository(),
    mfa: createMfaRepository(),
    sessions: services.sessions,
  });
  const tags = ["members"];

  app.get(
    "/api/v1/accounts/:account_id/members/:user_id/sessions",
    {
      schema: {
        tags,
        summary: "The member's live sessions in this account (security:read)",
        description:
          "Sessions whose active account is this one; their sessions in other accounts are not shown.",
        params: MemberParams,
        response: {
          200: Type.Object({ data: Type.Array(MemberSessionSchema) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params;
      const sessions = await detail.sessions(userActor(request).id, account_id, user_id);
      return {
        data: sessions.map((s) => ({
          id: s.id,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: s.expiresAt,
          ip: s.ip,
          user_agent: s.userAgent,
          device: parseUserAgent(s.userAgent),
        })),
      };
    },
  );

  app.delete(
    "/api/v1/accounts/:account_id/members/:user_id/sessions/:session_id",
    {
      schema: {
        tags,
        summary: "End one of the member's sessions in this account (members:suspend)",
        params: Type.Object({ account_id: Str(64), user_id: Str(64), session_id: Str(64) }),
        response: { 204: Type.Null(), ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { account_id, user_id, session_id } = request.params;
      await detail.revokeSession(userActor(request), account_id, user_id, session_id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/members/:user_id/logins",
    {
      schema: {
        tags,
        summary:
          "The member's latest sign-ins and failed attempts in this account, newest first (audit:read)",
        params: MemberParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
        }),
        response: {
          200: Type.Object({ data: Type.Array(MemberLoginSchema) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params;
      const logins = await detail.logins(
        userActor(request).id,
        account_id,
        user_id,
        request.query.limit ?? 20,
      );
      return {
        data: logins.map((l) => ({
          id: l.id,
          at: l.at,
          succeeded: l.succeeded,
          ip: l.ip,
          user_agent: l.userAgent,
          device: parseUserAgent(l.userAgent),
          method: l.method,
        })),
      };
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/members/:user_id/mfa",
    {
      schema: {
        tags: ["members", "mfa"],
        summary: "The member's second factors and how many recovery codes they have left (security:read)",
        params: MemberParams,
        response: { 200: MemberMfaSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params;
      const status = await detail.mfa(userActor(request).id, account_id, user_id);
      return {
        enabled: status.enabled,
        factors: status.factors.map((f) => ({
          id: f.id,
          type: f.type,
          label: f.label,
          created_at: f.createdAt,
          last_used_at: f.lastUsedAt,
        })),
        recovery_codes_remaining: status.recoveryCodesRemaining,
      };
    },
  );
}
