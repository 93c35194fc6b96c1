import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { PermissionSource } from "./assignments.service.js";
import { PERMISSION_KEY_PATTERN } from "./permissions.js";

const RoleRef = Type.Object({ id: Type.String(), key: Type.String(), name: Type.String() });
const TeamColumn = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.Union([RoleRef, Type.Null()], {
    description: "The role the team gives its members; null: none",
  }),
});
const Source = Type.Object({
  type: Type.Union([Type.Literal("role"), Type.Literal("team")], {
    description: "role: the member's own role; team: the role a team of theirs gives",
  }),
  role_id: Type.String(),
  role_key: Type.String(),
  role_name: Type.String(),
  team_id: Type.Optional(Type.String()),
  team_name: Type.Optional(Type.String()),
});
const AssignmentSchema = Type.Object({
  user_id: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  name: Type.String({ description: "First and last name; empty when they gave none" }),
  status: Type.String({ description: "active | suspended | deactivated" }),
  role: RoleRef,
  teams: Type.Array(TeamColumn),
  permissions: Type.Array(
    Type.Object({ permission: Type.String(), sources: Type.Array(Source, { minItems: 1 }) }),
    { description: "Every permission they hold (Root: the whole catalog), each with where it comes from" },
  ),
});

const sourceView = (s: PermissionSource) =>
  s.type === "role"
    ? { type: s.type, role_id: s.role.id, role_key: s.role.key, role_name: s.role.name }
    : {
        type: s.type,
        role_id: s.role.id,
        role_key: s.role.key,
        role_name: s.role.name,
        team_id: s.team.id,
        team_name: s.team.name,
      };

/** `GET …/assignments`: the User Assignments matrix (members × roles and teams, and where each permission comes from). */
export function registerAssignmentsRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    "/api/v1/accounts/:account_id/assignments",
    {
      schema: {
        tags: ["roles"],
        summary:
          "Members with their role, teams and every permission they hold with its sources (members:read, roles:read and teams:read). Pending invitations are not members and are left out",
        params: Type.Object({ account_id: Str(64) }),
        querystring: Type.Object({
          q: Type.Optional(Str(200, { description: "Part of a name or email address" })),
          role_id: Type.Optional(Str(64, { description: "Members whose own role is this one" })),
          team_id: Type.Optional(Str(64, { description: "Members of this team" })),
          permission: Type.Optional(
            Str(80, {
              pattern: PERMISSION_KEY_PATTERN,
              description: "Only members who hold this permission (through their role or a team)",
            }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          cursor: Type.Optional(Str(512)),
        }),
        response: {
          200: Type.Object({
            roles: Type.Array(RoleRef, {
              description: "The account's roles (columns, and choices for a role change)",
            }),
            teams: Type.Array(TeamColumn, { description: "The account's teams, by name (one column each)" }),
            data: Type.Array(AssignmentSchema),
            next_cursor: Nullable(Type.String()),
          }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const { q, role_id, team_id, permission, limit, cursor } = request.query;
      const result = await services.assignments.list(userActor(request).id, request.params.account_id, {
        limit: limit ?? 50,
        ...(q ? { q } : {}),
        ...(role_id ? { roleId: role_id } : {}),
        ...(team_id ? { teamId: team_id } : {}),
        ...(permission ? { permission } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return {
        roles: result.roles,
        teams: result.teams,
        data: result.rows.map((m) => ({
          user_id: m.userId,
          email: m.email,
          first_name: m.firstName,
          last_name: m.lastName,
          name: `${m.firstName} ${m.lastName}`.trim(),
          status: m.status,
          role: m.role,
          teams: m.teams,
          permissions: m.permissions.map((p) => ({
            permission: p.permission,
            sources: p.sources.map(sourceView),
          })),
        })),
        next_cursor: result.nextCursor,
      };
    },
  );
}
