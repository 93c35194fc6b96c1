import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { actorOf, userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { ScheduleRecord } from "./exports.repository.js";
import type { ExportView } from "./exports.service.js";

const Filters = Type.Record(Str(64), Str(200), {
  maxProperties: 20,
  description:
    "Per type: members {status, role_id, team_id, q}; invitations {status, role_id, q}; audit_log {action, actor_id, target_id}; invoices {status}; sessions {user_id}; teams {q}",
});
const ExportType = Str(32, {
  description: "members, teams, roles, invitations, audit_log, invoices, sessions, or all (a ZIP)",
});
const ExportFormat = Str(16, { description: "csv, json (JSON Lines) or pdf (not for all)" });

const ExportSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  format: Type.String(),
  status: Type.Union([
    Type.Literal("queued"),
    Type.Literal("running"),
    Type.Literal("succeeded"),
    Type.Literal("failed"),
  ]),
  progress: Type.Integer({
    minimum: 0,
    maximum: 100,
    description: "Rows written / rows to write, in percent",
  }),
  rows: Type.Integer({ description: "Rows written so far (all of them once succeeded)" }),
  total_rows: Type.Integer(),
  from: Nullable(Timestamp),
  to: Nullable(Timestamp),
  filters: Type.Record(Type.String(), Type.String()),
  download_url: Nullable(
    Type.String({
      description: "A signed link for the caller, valid 24 hours; null until ready and once deleted",
    }),
  ),
  expires_at: Nullable(Type.String({ format: "date-time", description: "When the file is deleted" })),
  bytes: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  schedule_id: Nullable(Type.String()),
  requested_by: Type.String({ description: "The member who asked (for an API key: its creator)" }),
  created_at: Timestamp,
  finished_at: Nullable(Timestamp),
});

const ScheduleSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  format: Type.String(),
  filters: Type.Record(Type.String(), Type.String()),
  frequency: Type.Union([Type.Literal("daily"), Type.Literal("weekly"), Type.Literal("monthly")]),
  recipients: Type.Array(Type.String()),
  paused: Type.Boolean(),
  next_run_at: Timestamp,
  last_run_at: Nullable(Timestamp),
  created_by: Type.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

const exportView = (e: ExportView) => ({
  id: e.id,
  type: e.type,
  format: e.format,
  status: e.status,
  progress:
    e.status === "succeeded"
      ? 100
      : e.rowsTotal > 0
        ? Math.min(100, Math.floor((e.rowsDone / e.rowsTotal) * 100))
        : 0,
  rows: e.rowsDone,
  total_rows: e.rowsTotal,
  from: e.from,
  to: e.to,
  filters: e.filters,
  download_url: e.downloadUrl,
  expires_at: e.expiresAt,
  bytes: e.fileBytes,
  error: e.status === "failed" ? e.error : null,
  schedule_id: e.scheduleId,
  requested_by: e.requestedBy,
  created_at: e.createdAt,
  finished_at: e.finishedAt,
});

const scheduleView = (s: ScheduleRecord) => ({
  id: s.id,
  type: s.type,
  format: s.format,
  filters: s.filters,
  frequency: s.frequency,
  recipients: s.recipients,
  paused: s.paused,
  next_run_at: s.nextRunAt,
  last_run_at: s.lastRunAt,
  created_by: s.createdBy,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
});

const Params = Type.Object({ account_id: Str(64) });
const ExportParams = Type.Object({ account_id: Str(64), export_id: Str(64) });
const ScheduleParams = Type.Object({ account_id: Str(64), schedule_id: Str(64) });
const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Str(512, { minLength: 1 })),
  },
  { additionalProperties: false },
);
const Recipients = Type.Array(Str(64, { minLength: 1 }), {
  minItems: 1,
  maxItems: 50,
  description: "User ids of members; each run mails those who hold data:export then",
});
const Frequency = Str(16, { description: "daily, weekly or monthly" });

/** /api/v1/accounts/{id}/exports and …/export-schedules (data:export; API keys with that scope too). */
export function registerExportsRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { exports } = services;
  const tags = ["exports"];
  const base = "/api/v1/accounts/:account_id/exports";
  const schedules = "/api/v1/accounts/:account_id/export-schedules";

  app.post(
    base,
    {
      schema: {
        tags,
        summary: "Ask for an export (data:export); the job loop writes it, GET it for progress and its link",
        params: Params,
        body: Body({
          type: ExportType,
          format: ExportFormat,
          from: Type.Optional(Str(40, { description: "Rows dated at or after this instant (ISO 8601)" })),
          to: Type.Optional(Str(40, { description: "Rows dated before this instant (ISO 8601)" })),
          filters: Type.Optional(Filters),
        }),
        response: {
          202: Type.Object({ id: Type.String(), status: Type.Literal("queued") }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const created = await exports.request(userActor(request), request.params.account_id, request.body);
      return reply.status(202).send(created);
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "The account's exports, newest first",
        params: Params,
        querystring: PageQuery,
        response: {
          200: Type.Object({ data: Type.Array(ExportSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const page = await exports.list(userActor(request).id, request.params.account_id, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return { data: page.exports.map(exportView), next_cursor: page.nextCursor };
    },
  );

  app.get(
    `${base}/:export_id`,
    {
      schema: {
        tags,
        summary: "One export: status, progress and, when ready, a download link valid 24 hours",
        params: ExportParams,
        response: { 200: ExportSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      exportView(
        await exports.get(userActor(request).id, request.params.account_id, request.params.export_id),
      ),
  );

  app.get(
    "/api/v1/export-files/:export_id",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "An export's file through its signed link (download_url); every download is audited",
        params: Type.Object({ export_id: Str(64) }),
        querystring: Type.Object({
          user: Str(64, { minLength: 1 }),
          expires: Str(16, { minLength: 1 }),
          signature: Str(128, { minLength: 1 }),
        }),
        produces: ["text/csv", "application/x-ndjson", "application/pdf", "application/zip"],
        response: { 200: Type.String({ format: "binary" }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const file = await exports.download(
        {
          exportId: request.params.export_id,
          userId: request.query.user,
          expires: request.query.expires,
          signature: request.query.signature,
        },
        actorOf(request),
      );
      return (
        reply
          .type(file.contentType)
          .header("content-length", file.size)
          .header("content-disposition", `attachment; filename="${file.filename}"`)
          .header("x-content-type-options", "nosniff")
          .header("cache-control", "private, no-store")
          // A stream or bytes; the schema's "binary string" only describes it for the OpenAPI document.
          .send(file.body as unknown as string)
      );
    },
  );

  app.post(
    schedules,
    {
      schema: {
        tags,
        summary: "Schedule an export (data:export): each run mails the recipients holding data:export a link",
        params: Params,
        body: Body({
          type: ExportType,
          format: ExportFormat,
          filters: Type.Optional(Filters),
          frequency: Frequency,
          recipients: Recipients,
          paused: Type.Optional(Type.Boolean()),
        }),
        response: { 201: ScheduleSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const schedule = await exports.createSchedule(
        userActor(request),
        request.params.account_id,
        request.body,
      );
      return reply.status(201).send(scheduleView(schedule));
    },
  );

  app.get(
    schedules,
    {
      schema: {
        tags,
        summary: "The account's export schedules, newest first",
        params: Params,
        querystring: PageQuery,
        response: {
          200: Type.Object({ data: Type.Array(ScheduleSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const page = await exports.listSchedules(userActor(request).id, request.params.account_id, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return { data: page.schedules.map(scheduleView), next_cursor: page.nextCursor };
    },
  );

  app.get(
    `${schedules}/:schedule_id`,
    {
      schema: {
        tags,
        summary: "One export schedule",
        params: ScheduleParams,
        response: { 200: ScheduleSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      scheduleView(
        await exports.getSchedule(
          userActor(request).id,
          request.params.account_id,
          request.params.schedule_id,
        ),
      ),
  );

  app.patch(
    `${schedules}/:schedule_id`,
    {
      schema: {
        tags,
        summary: "Change a schedule, or pause ({paused: true}) and resume it",
        params: ScheduleParams,
        body: Body({
          type: Type.Optional(ExportType),
          format: Type.Optional(ExportFormat),
          filters: Type.Optional(Filters),
          frequency: Type.Optional(Frequency),
          recipients: Type.Optional(Recipients),
          paused: Type.Optional(Type.Boolean()),
        }),
        response: { 200: ScheduleSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) =>
      scheduleView(
        await exports.updateSchedule(
          userActor(request),
          request.params.account_id,
          request.params.schedule_id,
          request.body,
        ),
      ),
  );

  app.delete(
    `${schedules}/:schedule_id`,
    {
      schema: {
        tags,
        summary: "Delete a schedule (its past exports stay until their files expire)",
        params: ScheduleParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await exports.removeSchedule(userActor(request), request.params.account_id, request.params.schedule_id);
      return reply.status(204).send(null);
    },
  );
}
