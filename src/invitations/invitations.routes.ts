import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { policyView } from "../auth/password-policy.js";
import { sessionStateFor, setSessionCookie } from "../auth/session-response.js";
import { InvoiceLineSchema, lineView } from "../billing/billing.routes.js";
import type { Config } from "../config.js";
import { assertCsrf } from "../http/auth-hook.js";
import { actorOf, userActor } from "../http/context.js";
import {
  Body,
  errorResponses,
  Nullable,
  Password,
  SessionStateSchema,
  Str,
  Timestamp,
  Token,
} from "../http/schemas.js";
import type { Services } from "../services.js";
import type { InvitationStatus } from "./invitations.repository.js";
import { invitationView } from "./invitations.views.js";

const Status = Type.Union([
  Type.Literal("pending"),
  Type.Literal("accepted"),
  Type.Literal("revoked"),
  Type.Literal("expired"),
]);
export const InvitationSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  role: Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() }),
  role_id: Type.String(),
  team_ids: Type.Array(Type.String()),
  status: Type.String(),
  expires_at: Timestamp,
  invited_by: Type.Object({ user_id: Nullable(Type.String()), name: Type.String() }),
  created_at: Timestamp,
  last_sent_at: Timestamp,
  send_count: Type.Integer(),
});

const Params = Type.Object({ account_id: Str(64) });
const ItemError = Type.Object({ code: Type.String(), detail: Type.String() });
/** What accepting one invitation would charge now (a preview): one prorated seat, or nothing. */
const SeatCostSchema = Type.Object({
  amount: Type.Integer(),
  currency: Type.String(),
  lines: Type.Array(InvoiceLineSchema),
});
const InvitationParams = Type.Object({ account_id: Str(64), invitation_id: Str(64) });

export function registerInvitationsRoutes(app: FastifyInstance, services: Services, config: Config) {
  const { invitations } = services;
  const tags = ["invitations"];

  app.post(
    "/api/v1/accounts/:account_id/invitations",
    {
      schema: {
        tags,
        summary:
          "Invite one or many addresses (≤ 100); per-address results. With preview: true, what accepting each would cost, writing nothing",
        params: Params,
        body: Body({
          emails: Type.Array(Str(320), { minItems: 1, maxItems: 100 }),
          first_name: Type.Optional(Str(100)),
          last_name: Type.Optional(Str(100)),
          role_id: Type.Optional(Str(64)),
          team_ids: Type.Optional(Type.Array(Str(64), { maxItems: 50 })),
          preview: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                email: Type.String(),
                preview: Type.Optional(SeatCostSchema),
                error: Type.Optional(ItemError),
              }),
            ),
          }),
          201: Type.Object({
            data: Type.Array(
              Type.Object({
                email: Type.String(),
                invitation: Type.Optional(InvitationSchema),
                error: Type.Optional(ItemError),
              }),
            ),
          }),
          ...errorResponses(400, 402, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const { account_id } = request.params as { account_id: string };
      const body = request.body as {
        emails: string[];
        first_name?: string;
        last_name?: string;
        role_id?: string;
        team_ids?: string[];
        preview?: boolean;
      };
      const preview = body.preview === true;
      const results = await invitations.invite(userActor(request), account_id, {
        emails: body.emails,
        ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
        ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
        ...(body.role_id ? { roleId: body.role_id } : {}),
        ...(body.team_ids ? { teamIds: body.team_ids } : {}),
        preview,
      });
      if (preview) {
        return reply.status(200).send({
          data: results.map((r) => ({
            email: r.email,
            ...(r.preview ? { preview: { ...r.preview, lines: r.preview.lines.map(lineView) } } : {}),
            ...(r.error ? { error: r.error } : {}),
          })),
        });
      }
      return reply.status(201).send({
        data: results.map((r) => ({
          email: r.email,
          ...(r.invitation ? { invitation: invitationView(r.invitation) } : {}),
          ...(r.error ? { error: r.error } : {}),
        })),
      });
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/invitations",
    {
      schema: {
        tags,
        summary: "Invitations, newest first",
        params: Params,
        querystring: Type.Object({
          status: Type.Optional(Status),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          cursor: Type.Optional(Str(512)),
        }),
        response: {
          200: Type.Object({ data: Type.Array(InvitationSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      const q = request.query as { status?: InvitationStatus; limit?: number; cursor?: string };
      const result = await invitations.list(userActor(request).id, account_id, {
        limit: q.limit ?? 50,
        ...(q.status ? { status: q.status } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return { data: result.rows.map(invitationView), next_cursor: result.nextCursor };
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/invitations/:invitation_id/resend",
    {
      schema: {
        tags,
        summary: "Send again with a new link (≥ 1 minute apart, ≤ 5 times)",
        params: InvitationParams,
        response: { 200: InvitationSchema, ...errorResponses(402, 403, 404, 409, 429) },
      },
    },
    async (request) => {
      const { account_id, invitation_id } = request.params as { account_id: string; invitation_id: string };
      return invitationView(await invitations.resend(userActor(request), account_id, invitation_id));
    },
  );

  app.delete(
    "/api/v1/accounts/:account_id/invitations/:invitation_id",
    {
      schema: {
        tags,
        summary: "Revoke an invitation",
        params: InvitationParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { account_id, invitation_id } = request.params as { account_id: string; invitation_id: string };
      await invitations.revoke(userActor(request), account_id, invitation_id);
      return reply.status(204).send();
    },
  );

  app.get(
    "/api/v1/invitations/lookup",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "What an invitation link is for (for the accept page)",
        querystring: Type.Object({ token: Token }),
        response: {
          200: Type.Object({
            email: Type.String(),
            account_name: Type.String(),
            invited_by_name: Type.String(),
            role_name: Type.String(),
            existing_user: Type.Boolean(),
            expires_at: Timestamp,
            password_policy: Type.Ref("PasswordPolicy", {
              description: "The account's password policy, which a new user's password must meet",
            }),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => {
      const found = await invitations.lookup((request.query as { token: string }).token);
      return {
        email: found.invitation.email,
        account_name: found.accountName,
        invited_by_name: found.invitation.invitedBy.name,
        role_name: found.invitation.role.name,
        existing_user: found.existingUser,
        expires_at: found.invitation.expiresAt,
        password_policy: policyView(found.passwordPolicy),
      };
    },
  );

  app.post(
    "/api/v1/invitations/accept",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary:
          "Accept an invitation (new users set a password; existing users must be logged in as the invited address)",
        body: Body({
          token: Token,
          password: Type.Optional(Password),
          first_name: Type.Optional(Str(100)),
          last_name: Type.Optional(Str(100)),
        }),
        response: { 200: SessionStateSchema, ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        token: string;
        password?: string;
        first_name?: string;
        last_name?: string;
      };
      // Joining with an existing session must come from our own pages, like any cookie-authenticated write.
      assertCsrf(request, config.secretKey);
      const result = await invitations.accept(
        {
          token: body.token,
          ...(body.password !== undefined ? { password: body.password } : {}),
          ...(body.first_name !== undefined ? { firstName: body.first_name } : {}),
          ...(body.last_name !== undefined ? { lastName: body.last_name } : {}),
        },
        request.session,
        actorOf(request),
      );
      if (result.newSession) {
        setSessionCookie(reply, config, result.newSession.token, result.newSession.session);
        return sessionStateFor(services, config, result.newSession.session);
      }
      const session = {
        ...(request.session as NonNullable<typeof request.session>),
        accountId: result.accountId,
      };
      return sessionStateFor(services, config, session);
    },
  );
}
