import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { WebhookDelivery, WebhookEndpoint } from "./webhooks.repository.js";

const WebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String(), { description: 'Event types it receives, or ["*"] for all' }),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(
    Type.String({ description: "Why Gatehouse turned it off (every delivery failed for 5 days)" }),
  ),
  previous_secret_expires_at: Nullable(
    Type.String({
      format: "date-time",
      description: "Until when the secret replaced by the last rotation signs alongside the new one",
    }),
  ),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const WithSecret = Type.Intersect([
  WebhookSchema,
  Type.Object({
    secret: Type.String({ description: "`whsec_…`: signs every delivery; shown this once and never again" }),
  }),
]);
const DeliverySchema = Type.Object({
  id: Type.String({ description: "`whd_…`, also the `webhook-id` header of every attempt" }),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.Union([Type.Literal("pending"), Type.Literal("succeeded"), Type.Literal("failed")]),
  attempts: Type.Integer(),
  response_status: Nullable(Type.Integer()),
  response_body: Nullable(Type.String({ description: "The first 1 KiB of the last answer's body" })),
  duration_ms: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  next_attempt_at: Nullable(Timestamp),
  last_attempt_at: Nullable(Timestamp),
  created_at: Timestamp,
});

const webhookView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events,
  enabled: e.enabled,
  disabled_reason: e.disabledReason,
  previous_secret_expires_at:
    e.previousSecretExpiresAt && e.previousSecretSealed ? e.previousSecretExpiresAt : null,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
});

const deliveryView = (d: WebhookDelivery) => ({
  id: d.id,
  event_id: d.eventId,
  event_type: d.eventType,
  // An attempt in flight is still pending to the outside.
  status: d.status === "sending" ? ("pending" as const) : d.status,
  attempts: d.attempts,
  response_status: d.responseStatus,
  response_body: d.responseBody,
  duration_ms: d.durationMs,
  error: d.error,
  next_attempt_at: d.status === "pending" || d.status === "sending" ? d.nextAttemptAt : null,
  last_attempt_at: d.lastAttemptAt,
  created_at: d.createdAt,
});

const Params = Type.Object({ account_id: Str(64) });
const WebhookParams = Type.Object({ account_id: Str(64), webhook_id: Str(64) });
const DeliveryParams = Type.Object({ account_id: Str(64), webhook_id: Str(64), delivery_id: Str(64) });
const Url = Str(2000, { minLength: 1, description: "https:// URL the events are POSTed to" });
const Events = Type.Array(Str(100, { minLength: 1 }), {
  minItems: 1,
  maxItems: 100,
  description: 'Event types (GET /api/v1/event-types), or ["*"] for every one',
});
const Description = Str(500);
const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Str(512, { minLength: 1 })),
  },
  { additionalProperties: false },
);

/** /api/v1/accounts/{id}/webhooks — see docs/webhooks.md. API keys with webhooks:manage work too. */
export function registerWebhooksRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { webhooks } = services;
  const tags = ["webhooks"];
  const base = "/api/v1/accounts/:account_id/webhooks";

  app.post(
    base,
    {
      schema: {
        tags,
        summary: "Add a webhook endpoint (webhooks:manage); its signing secret is shown once",
        params: Params,
        body: Body({ url: Url, events: Events, description: Type.Optional(Description) }),
        response: { 201: WithSecret, ...errorResponses(400, 402, 403, 404) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const created = await webhooks.create(userActor(request), request.params.account_id, {
        url: body.url,
        events: body.events,
        ...(body.description !== undefined ? { description: body.description } : {}),
      });
      return reply.status(201).send({ ...webhookView(created.endpoint), secret: created.secret });
    },
  );

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "The account's webhook endpoints, newest first (webhooks:manage; never their secrets)",
        params: Params,
        querystring: PageQuery,
        response: {
          200: Type.Object({ data: Type.Array(WebhookSchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const page = await webhooks.list(userActor(request).id, request.params.account_id, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return { data: page.endpoints.map(webhookView), next_cursor: page.nextCursor };
    },
  );

  app.get(
    `${base}/:webhook_id`,
    {
      schema: {
        tags,
        summary: "One webhook endpoint (webhooks:manage)",
        params: WebhookParams,
        response: { 200: WebhookSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      webhookView(
        await webhooks.get(userActor(request).id, request.params.account_id, request.params.webhook_id),
      ),
  );

  app.patch(
    `${base}/:webhook_id`,
    {
      schema: {
        tags,
        summary: "Change a webhook endpoint's URL, events or description, or turn it off or on",
        params: WebhookParams,
        body: Body({
          url: Type.Optional(Url),
          events: Type.Optional(Events),
          enabled: Type.Optional(Type.Boolean()),
          description: Type.Optional(Description),
        }),
        response: { 200: WebhookSchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) =>
      webhookView(
        await webhooks.update(
          userActor(request),
          request.params.account_id,
          request.params.webhook_id,
          request.body,
        ),
      ),
  );

  app.delete(
    `${base}/:webhook_id`,
    {
      schema: {
        tags,
        summary: "Delete a webhook endpoint and its delivery log",
        params: WebhookParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await webhooks.remove(userActor(request), request.params.account_id, request.params.webhook_id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    `${base}/:webhook_id/rotate-secret`,
    {
      schema: {
        tags,
        summary: "A new signing secret; the old one signs alongside it for 24 hours",
        params: WebhookParams,
        response: { 200: WithSecret, ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const rotated = await webhooks.rotateSecret(
        userActor(request),
        request.params.account_id,
        request.params.webhook_id,
      );
      return { ...webhookView(rotated.endpoint), secret: rotated.secret };
    },
  );

  app.post(
    `${base}/:webhook_id/test`,
    {
      schema: {
        tags,
        summary: "Send a webhook.test event to this endpoint only",
        params: WebhookParams,
        response: { 202: DeliverySchema, ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.sendTest(
        userActor(request),
        request.params.account_id,
        request.params.webhook_id,
      );
      return reply.status(202).send(deliveryView(delivery));
    },
  );

  app.get(
    `${base}/:webhook_id/deliveries`,
    {
      schema: {
        tags,
        summary: "The endpoint's deliveries, newest first (kept 30 days)",
        params: WebhookParams,
        querystring: PageQuery,
        response: {
          200: Type.Object({ data: Type.Array(DeliverySchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const page = await webhooks.listDeliveries(
        userActor(request).id,
        request.params.account_id,
        request.params.webhook_id,
        { limit: request.query.limit ?? 50, cursor: request.query.cursor },
      );
      return { data: page.deliveries.map(deliveryView), next_cursor: page.nextCursor };
    },
  );

  app.post(
    `${base}/:webhook_id/deliveries/:delivery_id/retry`,
    {
      schema: {
        tags,
        summary: "Send a failed or waiting delivery again now",
        params: DeliveryParams,
        response: { 202: DeliverySchema, ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const delivery = await webhooks.retryDelivery(
        userActor(request),
        request.params.account_id,
        request.params.webhook_id,
        request.params.delivery_id,
      );
      return reply.status(202).send(deliveryView(delivery));
    },
  );
}
