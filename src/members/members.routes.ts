import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { InvitationRecord } from "../invitations/invitations.repository.js";
import type { Services } from "../services.js";
import type { MemberListInput, MemberRow } from "./members.service.js";
import { memberView } from "./members.views.js";

const RoleRef = Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() });
export const MemberSchema = Type.Object({
  user_id: Nullable(Type.String()),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  status: Type.String({
    description: "active | suspended | deactivated (turned their own login off) | pending",
  }),
  role: RoleRef,
  team_ids: Type.Array(Type.String()),
  last_login_at: Nullable(Timestamp),
  joined_at: Nullable(Timestamp),
  mfa_enabled: Type.Boolean({
    description: "A confirmed second factor on their login (false for pending invitations)",
  }),
  invitation_id: Type.Optional(Type.String()),
  avatar_url: Nullable(Type.String({ description: "Their uploaded avatar, 256×256; null without one" })),
  avatar_thumb_url: Nullable(Type.String({ description: "The same, 64×64" })),
});

const MemberDetailSchema = Type.Composite([
  MemberSchema,
  Type.Object({
    mobile: Nullable(
      Type.String({ description: "The mobile number on their profile (E.164); null without one" }),
    ),
  }),
]);

const Params = Type.Object({ account_id: Str(64) });
const MemberParams = Type.Object({ account_id: Str(64), user_id: Str(64) });

function pendingView(i: InvitationRecord) {
  return {
    user_id: null,
    email: i.email,
    first_name: i.firstName,
    last_name: i.lastName,
    status: "pending",
    role: i.role,
    team_ids: i.teamIds,
    last_login_at: null,
    joined_at: null,
    mfa_enabled: false,
    invitation_id: i.id,
    avatar_url: null,
    avatar_thumb_url: null,
  };
}

const rowView = (row: MemberRow) => (row.kind === "member" ? memberView(row) : pendingView(row));

export function registerMembersRoutes(app: FastifyInstance, services: Services) {
  const { members } = services;
  const tags = ["members"];

  app.get(
    "/api/v1/accounts/:account_id/members",
    {
      schema: {
        tags,
        summary: "Members and open invitations, with filters, sorting and counts",
        params: Params,
        querystring: Type.Object({
          status: Type.Optional(
            Type.Union([
              Type.Literal("active"),
              Type.Literal("suspended"),
              Type.Literal("deactivated"),
              Type.Literal("pending"),
            ]),
          ),
          role_id: Type.Optional(Str(64)),
          team_id: Type.Optional(Str(64)),
          q: Type.Optional(Str(200)),
          inactive_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 36500 })),
          mfa: Type.Optional(
            Type.Union([Type.Literal("enabled"), Type.Literal("disabled")], {
              description: "Members with (or without) a second factor; pending invitations are left out",
            }),
          ),
          sort: Type.Optional(
            Type.Union([
              Type.Literal("name"),
              Type.Literal("email"),
              Type.Literal("last_login_at"),
              Type.Literal("joined_at"),
            ]),
          ),
          order: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")])),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          cursor: Type.Optional(Str(512)),
        }),
        response: {
          200: Type.Object({
            data: Type.Array(MemberSchema),
            next_cursor: Nullable(Type.String()),
            counts: Type.Object({
              active: Type.Integer({ description: "Active members (not pending invitations)" }),
              suspended: Type.Integer(),
              deactivated: Type.Integer(),
              pending: Type.Integer(),
            }),
          }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      const q = request.query as Record<string, string | number | undefined>;
      const input: MemberListInput = {
        limit: Number(q.limit ?? 50),
        ...(q.status ? { status: q.status as "active" } : {}),
        ...(q.role_id ? { roleId: String(q.role_id) } : {}),
        ...(q.team_id ? { teamId: String(q.team_id) } : {}),
        ...(q.q ? { q: String(q.q) } : {}),
        ...(q.inactive_days !== undefined ? { inactiveDays: Number(q.inactive_days) } : {}),
        ...(q.mfa ? { mfa: q.mfa as "enabled" | "disabled" } : {}),
        ...(q.sort ? { sort: q.sort as "name" } : {}),
        ...(q.order ? { order: q.order as "asc" } : {}),
        ...(q.cursor ? { cursor: String(q.cursor) } : {}),
      };
      const result = await members.list(userActor(request).id, account_id, input);
      return {
        data: result.rows.map(rowView),
        next_cursor: result.nextCursor,
        counts: {
          active: result.counts.active,
          suspended: result.counts.suspended,
          deactivated: result.counts.deactivated,
          pending: result.counts.pending,
        },
      };
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/members/:user_id",
    {
      schema: {
        tags,
        summary: "One member",
        params: MemberParams,
        response: { 200: MemberDetailSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      const member = await members.get(userActor(request).id, account_id, user_id);
      return { ...memberView(member), mobile: member.mobile ?? null };
    },
  );

  app.patch(
    "/api/v1/accounts/:account_id/members/:user_id",
    {
      schema: {
        tags,
        summary: "Change a member's role",
        params: MemberParams,
        body: Body({ role_id: Str(64, { minLength: 1 }) }),
        response: { 200: MemberSchema, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      const { role_id } = request.body as { role_id: string };
      return memberView(await members.changeRole(userActor(request), account_id, user_id, role_id));
    },
  );

  for (const [action, summary] of [
    ["suspend", "Suspend: no log-in to this account, its sessions end now; still a seat"],
    ["reactivate", "Reactivate a suspended member"],
  ] as const) {
    app.post(
      `/api/v1/accounts/:account_id/members/:user_id/${action}`,
      {
        schema: {
          tags,
          summary,
          params: MemberParams,
          response: { 200: MemberSchema, ...errorResponses(403, 404, 409) },
        },
      },
      async (request) => {
        const { account_id, user_id } = request.params as { account_id: string; user_id: string };
        return memberView(await members[action](userActor(request), account_id, user_id));
      },
    );
  }

  app.post(
    "/api/v1/accounts/:account_id/members/:user_id/logout",
    {
      schema: {
        tags,
        summary: "End every session of the member",
        params: MemberParams,
        response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      return { revoked: await members.logout(userActor(request), account_id, user_id) };
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/members/:user_id/force-password-reset",
    {
      schema: {
        tags,
        summary: "End their sessions; their next log-in must set a new password",
        params: MemberParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      await members.forcePasswordReset(userActor(request), account_id, user_id);
      return reply.status(204).send();
    },
  );

  app.delete(
    "/api/v1/accounts/:account_id/members/:user_id",
    {
      schema: {
        tags,
        summary: "Remove a member from the account",
        params: MemberParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      await members.remove(userActor(request), account_id, user_id);
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/members/bulk-delete",
    {
      schema: {
        tags,
        summary: "Remove several members at once — all or nothing",
        params: Params,
        body: Body({ user_ids: Type.Array(Str(64), { minItems: 1, maxItems: 100 }) }),
        response: {
          200: Type.Object({
            data: Type.Array(Type.Object({ user_id: Type.String(), removed: Type.Boolean() })),
          }),
          ...errorResponses(400, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      const removed = await members.bulkRemove(
        userActor(request),
        account_id,
        (request.body as { user_ids: string[] }).user_ids,
      );
      return { data: removed.map((user_id) => ({ user_id, removed: true })) };
    },
  );
}
