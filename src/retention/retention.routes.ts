import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { RetentionPatch } from "./retention.service.js";

const Days = (description: string) => Nullable(Type.Integer({ description }));

const BoundsSchema = Type.Object({
  min: Type.Integer(),
  max: Type.Integer(),
  forever: Type.Boolean({ description: "Whether null (keep forever) is allowed" }),
});

const InForceSchema = Type.Object({
  days: Nullable(
    Type.Integer({
      description: "The limit in force: the setting, never above the plan's maximum; null = forever",
    }),
  ),
  effective_from: Timestamp,
  grace_until: Type.String({
    format: "date-time",
    description:
      "A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)",
  }),
  days_before: Nullable(Type.Integer()),
});

const RetentionSchema = Type.Object({
  audit_log_days: Nullable(Type.Integer({ description: "null = keep forever (Enterprise)" })),
  export_files_days: Type.Integer(),
  deleted_member_days: Type.Integer(),
  plan: Type.String(),
  bounds: Type.Object({
    audit_log_days: BoundsSchema,
    export_files_days: BoundsSchema,
    deleted_member_days: BoundsSchema,
  }),
  in_force: Type.Object({
    audit_log_days: InForceSchema,
    export_files_days: InForceSchema,
    deleted_member_days: InForceSchema,
  }),
});

// Only the type is checked here; the plan's bounds are the service's (422 naming field and range).
const PatchBody = Body({
  audit_log_days: Type.Optional(
    Days(
      "Days the audit log is kept: 1 to the plan's maximum (Free 30, Pro 365, Team 1095); null = forever (Enterprise)",
    ),
  ),
  export_files_days: Type.Optional(Days("Days export files are kept: 1–90")),
  deleted_member_days: Type.Optional(
    Days("Days after which the personal data of people who left the account is anonymised: 1–365"),
  ),
});

const Params = Type.Object({ account_id: Str(64) });

/** GET/PATCH /api/v1/accounts/{id}/data-retention — see docs/api-data.md ("Retention"). */
export function registerRetentionRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { retention } = services;
  const path = "/api/v1/accounts/:account_id/data-retention";

  app.get(
    path,
    {
      schema: {
        tags: ["data"],
        summary:
          "How long the account keeps its audit log, export files and departed members' data (account:read)",
        params: Params,
        response: { 200: RetentionSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => retention.get(userActor(request), request.params.account_id),
  );

  app.patch(
    path,
    {
      schema: {
        tags: ["data"],
        summary:
          "Change retention (account:update). Absent fields stay. Outside the plan's bounds: 422 out_of_range naming the field and the range",
        params: Params,
        body: PatchBody,
        response: { 200: RetentionSchema, ...errorResponses(400, 403, 404, 422) },
      },
    },
    async (request) =>
      retention.update(userActor(request), request.params.account_id, request.body as RetentionPatch),
  );
}
