import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sessionOf } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { ManagedPerson } from "./managed-members.repository.js";
import type { ManagedAccount } from "./managed-members.service.js";

const RoleRef = Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() });

const ManagedAccountSchema = Type.Object({
  account_id: Type.String(),
  account_name: Type.String(),
  role: RoleRef,
  can_invite: Type.Boolean({ description: "The caller holds members:invite there" }),
});

const ManagedPersonSchema = Type.Object({
  user_id: Type.String(),
  name: Type.String({ description: "First and last name; empty when the person has set neither" }),
  first_name: Type.String(),
  last_name: Type.String(),
  email: Type.String(),
  avatar_url: Nullable(Type.String()),
  avatar_thumb_url: Nullable(Type.String()),
  accounts: Type.Array(
    Type.Object({
      account_id: Type.String(),
      account_name: Type.String(),
      role: RoleRef,
      status: Type.String({ description: "active | suspended | deactivated" }),
      last_login_at: Nullable(Timestamp),
      joined_at: Timestamp,
    }),
    { description: "Only the memberships in accounts whose members the caller may read" },
  ),
});

const accountView = (a: ManagedAccount) => ({
  account_id: a.accountId,
  account_name: a.accountName,
  role: a.role,
  can_invite: a.canInvite,
});

const personView = (p: ManagedPerson) => ({
  user_id: p.userId,
  name: [p.firstName, p.lastName].filter(Boolean).join(" "),
  first_name: p.firstName,
  last_name: p.lastName,
  email: p.email,
  avatar_url: p.avatarUrl,
  avatar_thumb_url: p.avatarThumbUrl,
  accounts: p.memberships.map((m) => ({
    account_id: m.accountId,
    account_name: m.accountName,
    role: m.role,
    status: m.status,
    last_login_at: m.lastLoginAt,
    joined_at: m.joinedAt,
  })),
});

/** People across the accounts the caller administers (for those who look after several): person-only. */
export function registerManagedMembersRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { managedMembers } = services;
  const tags = ["members"];

  app.get(
    "/api/v1/me/managed-accounts",
    {
      schema: {
        tags,
        summary:
          "The accounts whose members the caller may read (members:read, active membership, allowed from this IP), by name",
        response: { 200: Type.Object({ data: Type.Array(ManagedAccountSchema) }), ...errorResponses(403) },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      return { data: (await managedMembers.managedAccounts(session.userId, request.ip)).map(accountView) };
    },
  );

  app.get(
    "/api/v1/me/managed-members",
    {
      schema: {
        tags,
        summary:
          "One row per person across every account whose members the caller may read, by name; `accounts` lists only those accounts",
        querystring: Type.Object({
          account_id: Type.Optional(
            Str(64, {
              description: "Only people in this account (404 outside it, 403 without members:read)",
            }),
          ),
          q: Type.Optional(Str(200, { description: "Part of the name or email address" })),
          status: Type.Optional(
            Type.Union([Type.Literal("active"), Type.Literal("suspended"), Type.Literal("deactivated")], {
              description: "People with a membership of this status (in `account_id` when given)",
            }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          cursor: Type.Optional(Str(512)),
        }),
        response: {
          200: Type.Object({ data: Type.Array(ManagedPersonSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      const q = request.query;
      const page = await managedMembers.list(session.userId, request.ip, {
        limit: q.limit ?? 50,
        ...(q.account_id ? { accountId: q.account_id } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.q?.trim() ? { q: q.q.trim() } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return { data: page.people.map(personView), next_cursor: page.nextCursor };
    },
  );
}
