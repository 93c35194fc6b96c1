import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { teamView } from "./teams.views.js";

const TeamSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  role: Nullable(Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() })),
  member_ids: Type.Array(Type.String()),
  resource_count: Type.Integer({
    description: "Resources this team owns (what deleting it must transfer)",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const Params = Type.Object({ account_id: Str(64) });
const TeamParams = Type.Object({ account_id: Str(64), team_id: Str(64) });

export function registerTeamsRoutes(app: FastifyInstance, services: Services) {
  const { teams } = services;
  const tags = ["teams"];
  const ids = (request: { params: unknown }) => request.params as { account_id: string; team_id: string };

  app.get(
    "/api/v1/accounts/:account_id/teams",
    {
      schema: {
        tags,
        summary: "Teams of the account",
        params: Params,
        response: { 200: Type.Object({ data: Type.Array(TeamSchema) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => ({
      data: (await teams.list(userActor(request).id, ids(request).account_id)).map(teamView),
    }),
  );

  app.post(
    "/api/v1/accounts/:account_id/teams",
    {
      schema: {
        tags,
        summary: "Create a team (optionally granting a role to its members)",
        params: Params,
        body: Body({
          name: Str(80, { minLength: 1 }),
          description: Type.Optional(Str(500)),
          role_id: Type.Optional(Nullable(Str(64))),
        }),
        response: { 201: TeamSchema, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const body = request.body as { name: string; description?: string; role_id?: string | null };
      const team = await teams.create(userActor(request), ids(request).account_id, {
        name: body.name,
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.role_id !== undefined ? { roleId: body.role_id } : {}),
      });
      return reply.status(201).send(teamView(team));
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/teams/:team_id",
    {
      schema: {
        tags,
        summary: "One team",
        params: TeamParams,
        response: { 200: TeamSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      teamView(await teams.get(userActor(request).id, ids(request).account_id, ids(request).team_id)),
  );

  app.patch(
    "/api/v1/accounts/:account_id/teams/:team_id",
    {
      schema: {
        tags,
        summary: "Edit a team",
        params: TeamParams,
        body: Body({
          name: Type.Optional(Str(80, { minLength: 1 })),
          description: Type.Optional(Str(500)),
          role_id: Type.Optional(Nullable(Str(64))),
        }),
        response: { 200: TeamSchema, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const body = request.body as { name?: string; description?: string; role_id?: string | null };
      return teamView(
        await teams.update(userActor(request), ids(request).account_id, ids(request).team_id, {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.role_id !== undefined ? { roleId: body.role_id } : {}),
        }),
      );
    },
  );

  app.put(
    "/api/v1/accounts/:account_id/teams/:team_id/members",
    {
      schema: {
        tags,
        summary: "Set the team's members",
        params: TeamParams,
        body: Body({ user_ids: Type.Array(Str(64), { maxItems: 1000 }) }),
        response: { 200: TeamSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) =>
      teamView(
        await teams.setMembers(
          userActor(request),
          ids(request).account_id,
          ids(request).team_id,
          (request.body as { user_ids: string[] }).user_ids,
        ),
      ),
  );

  app.delete(
    "/api/v1/accounts/:account_id/teams/:team_id",
    {
      schema: {
        tags,
        summary: "Delete a team, choosing where its members and resources go",
        params: TeamParams,
        body: Body({
          reassign_members_to: Nullable(Str(64)),
          transfer_resources_to: Str(64, { minLength: 1 }),
        }),
        response: { 204: Type.Null(), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const body = request.body as { reassign_members_to: string | null; transfer_resources_to: string };
      await teams.remove(userActor(request), ids(request).account_id, ids(request).team_id, {
        reassignMembersTo: body.reassign_members_to,
        transferResourcesTo: body.transfer_resources_to,
      });
      return reply.status(204).send();
    },
  );
}
