import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import { MemberSchema } from "./members.routes.js";
import { memberView } from "./members.views.js";

const BulkRoleResultSchema = Type.Object({
  user_id: Type.String(),
  member: Type.Optional(MemberSchema),
  error: Type.Optional(
    Type.Object({
      code: Type.String({
        description:
          "not_found, self_change, root_only, privilege_escalation, last_root — as PATCH …/members/{user_id} answers",
      }),
      detail: Type.String(),
    }),
  ),
});

/** `POST …/members/bulk-role`: one role for several members, per-member results (docs/api.md). */
export function registerBulkRoleRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    "/api/v1/accounts/:account_id/members/bulk-role",
    {
      schema: {
        tags: ["members"],
        summary:
          "Give several members one role (members:update_role). Each member is changed as PATCH …/members/{user_id} would; refused ones are reported per member and the rest are committed together. Duplicate ids are answered once",
        params: Type.Object({ account_id: Str(64) }),
        body: Body({
          user_ids: Type.Array(Str(64, { minLength: 1 }), { minItems: 1, maxItems: 200 }),
          role_id: Str(64, { minLength: 1 }),
        }),
        response: {
          200: Type.Object({ data: Type.Array(BulkRoleResultSchema) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const results = await services.bulkRole.changeRoles(
        userActor(request),
        request.params.account_id,
        request.body.user_ids,
        request.body.role_id,
      );
      return {
        data: results.map((r) => ({
          user_id: r.userId,
          ...(r.member ? { member: memberView(r.member) } : {}),
          ...(r.error ? { error: r.error } : {}),
        })),
      };
    },
  );
}
