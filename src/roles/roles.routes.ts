import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { PERMISSION_KEY_PATTERN } from "./permissions.js";
import { roleView } from "./roles.views.js";

export const RoleSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  description: Type.String(),
  permissions: Type.Array(Type.String()),
  builtin: Type.Boolean(),
  member_count: Type.Integer(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const CatalogEntry = Type.Object({
  key: Type.String(),
  description: Type.String(),
  group: Type.String(),
  custom: Type.Boolean(),
});
const PermissionKey = Type.String({ pattern: PERMISSION_KEY_PATTERN, maxLength: 80 });
const AccountParams = Type.Object({ account_id: Str(64) });
const RoleParams = Type.Object({ account_id: Str(64), role_id: Str(64) });

export function registerRolesRoutes(app: FastifyInstance, services: Services) {
  const { roles } = services;
  const tags = ["roles"];

  app.get(
    "/api/v1/permissions",
    {
      // The catalog a key's scopes come from; with account_id, for the key's own account only.
      config: { apiKeys: true },
      schema: {
        tags,
        summary: "The permission catalog (with an account's registered keys when account_id is given)",
        querystring: Type.Object({ account_id: Type.Optional(Str(64)) }),
        response: { 200: Type.Object({ data: Type.Array(CatalogEntry) }) },
      },
    },
    async (request) => {
      const { account_id } = request.query as { account_id?: string };
      if (account_id)
        await services.accountsService.requirePermission(
          services.db,
          userActor(request).id,
          account_id,
          "account:read",
        );
      return { data: await roles.catalog(account_id) };
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/permissions",
    {
      schema: {
        tags,
        summary: "Register a host-product permission key for this account",
        params: AccountParams,
        body: Body({ key: PermissionKey, description: Str(200, { minLength: 1 }) }),
        response: { 201: CatalogEntry, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { account_id } = request.params as { account_id: string };
      const body = request.body as { key: string; description: string };
      return reply
        .status(201)
        .send(await roles.registerPermission(userActor(request), account_id, body.key, body.description));
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/roles",
    {
      schema: {
        tags,
        summary: "Built-in and custom roles",
        params: AccountParams,
        response: { 200: Type.Object({ data: Type.Array(RoleSchema) }) },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      return { data: (await roles.list(userActor(request).id, account_id)).map(roleView) };
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/role-templates",
    {
      schema: {
        tags,
        summary: "Role templates an admin can add with one click",
        params: AccountParams,
        response: {
          200: Type.Object({
            data: Type.Array(
              Type.Object({
                key: Type.String(),
                name: Type.String(),
                description: Type.String(),
                permissions: Type.Array(Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const { account_id } = request.params as { account_id: string };
      return { data: await roles.templates(userActor(request).id, account_id) };
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/roles",
    {
      schema: {
        tags,
        summary: "Create a custom role, or add one from a template",
        params: AccountParams,
        body: Body({
          name: Type.Optional(Str(80, { minLength: 1 })),
          description: Type.Optional(Str(500)),
          permissions: Type.Optional(Type.Array(PermissionKey, { maxItems: 200 })),
          template: Type.Optional(
            Type.Union([
              Type.Literal("manager"),
              Type.Literal("agent"),
              Type.Literal("viewer"),
              Type.Literal("user"),
            ]),
          ),
        }),
        response: { 201: RoleSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const { account_id } = request.params as { account_id: string };
      const role = await roles.create(userActor(request), account_id, request.body as never);
      return reply.status(201).send(roleView(role));
    },
  );

  app.patch(
    "/api/v1/accounts/:account_id/roles/:role_id",
    {
      schema: {
        tags,
        summary: "Edit a custom role",
        params: RoleParams,
        body: Body({
          name: Type.Optional(Str(80, { minLength: 1 })),
          description: Type.Optional(Str(500)),
          permissions: Type.Optional(Type.Array(PermissionKey, { maxItems: 200 })),
        }),
        response: { 200: RoleSchema, ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const { account_id, role_id } = request.params as { account_id: string; role_id: string };
      return roleView(await roles.update(userActor(request), account_id, role_id, request.body as never));
    },
  );

  app.delete(
    "/api/v1/accounts/:account_id/roles/:role_id",
    {
      schema: {
        tags,
        summary: "Delete a custom role (move_to: where its members and team grants go)",
        params: RoleParams,
        querystring: Type.Object({ move_to: Type.Optional(Str(64)) }),
        response: { 204: Type.Null(), ...errorResponses(400, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { account_id, role_id } = request.params as { account_id: string; role_id: string };
      await roles.remove(
        userActor(request),
        account_id,
        role_id,
        (request.query as { move_to?: string }).move_to,
      );
      return reply.status(204).send();
    },
  );
}
