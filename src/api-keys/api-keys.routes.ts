import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { IP_ALLOWLIST_LIMITS } from "../accounts/ip-allowlist.js";
import { sessionOf, userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import { PERMISSION_KEY_PATTERN } from "../roles/permissions.js";
import type { Services } from "../services.js";
import { ROTATION_GRACE } from "./api-keys.service.js";
import { apiKeyView } from "./api-keys.views.js";

const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String({ description: "`gh_…` and the secret's last four characters, to tell keys apart" }),
  scopes: Type.Array(Type.String(), { description: "Permissions the key was given" }),
  effective_scopes: Type.Array(Type.String(), {
    description: "What it may do now: its scopes that its creator still holds (none while suspended)",
  }),
  allowed_ips: Type.Array(Type.String(), {
    description: "IPs and CIDRs it may be used from, within the account's IP allowlist; empty = any",
  }),
  created_by: Type.String({ description: "The member the key acts for" }),
  created_at: Timestamp,
  updated_at: Timestamp,
  expires_at: Nullable(Timestamp),
  last_used_at: Nullable(Timestamp),
  last_used_ip: Nullable(Type.String()),
  previous_secret_expires_at: Nullable(
    Type.String({
      format: "date-time",
      description: "Until when the secret replaced by the last rotation works",
    }),
  ),
});
const WithSecret = Type.Intersect([
  ApiKeySchema,
  Type.Object({ secret: Type.String({ description: "The secret, shown this once and never again" }) }),
]);

const Params = Type.Object({ account_id: Str(64) });
const KeyParams = Type.Object({ account_id: Str(64), key_id: Str(64) });
const Name = Str(100, { minLength: 1 });
const Scopes = Type.Array(Str(80, { pattern: PERMISSION_KEY_PATTERN }), { minItems: 1, maxItems: 100 });
const AllowedIps = Type.Array(Str(IP_ALLOWLIST_LIMITS.maxEntryLength), {
  maxItems: IP_ALLOWLIST_LIMITS.maxEntries,
});
const ExpiresAt = Type.String({ format: "date-time", maxLength: 40 });

/** /api/v1/accounts/{id}/api-keys — see docs/api-keys.md. */
export function registerApiKeysRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { apiKeys } = services;
  const tags = ["api-keys"];

  app.post(
    "/api/v1/accounts/:account_id/api-keys",
    {
      // Minting a credential is for a person who just proved who they are; a key cannot make keys.
      config: { apiKeys: false },
      schema: {
        tags,
        summary: "Create an API key (api_keys:manage, fresh authentication); its secret is shown once",
        params: Params,
        body: Body({
          name: Name,
          scopes: Scopes,
          expires_at: Type.Optional(Nullable(ExpiresAt)),
          allowed_ips: Type.Optional(AllowedIps),
        }),
        response: { 201: WithSecret, ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      const created = await apiKeys.create(
        userActor(request),
        sessionOf(request),
        request.params.account_id,
        {
          name: body.name,
          scopes: body.scopes,
          ...(body.expires_at !== undefined ? { expiresAt: body.expires_at } : {}),
          ...(body.allowed_ips !== undefined ? { allowedIps: body.allowed_ips } : {}),
        },
      );
      return reply.status(201).send({ ...apiKeyView(created.key), secret: created.secret });
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/api-keys",
    {
      schema: {
        tags,
        summary: "The account's API keys, newest first (api_keys:manage; never their secrets)",
        params: Params,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
            cursor: Type.Optional(Str(512, { minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ data: Type.Array(ApiKeySchema), next_cursor: Nullable(Type.String()) }),
          ...errorResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const page = await apiKeys.list(userActor(request).id, request.params.account_id, {
        limit: request.query.limit ?? 50,
        cursor: request.query.cursor,
      });
      return { data: page.keys.map(apiKeyView), next_cursor: page.nextCursor };
    },
  );

  app.get(
    "/api/v1/accounts/:account_id/api-keys/:key_id",
    {
      schema: {
        tags,
        summary: "One API key (api_keys:manage; never its secret)",
        params: KeyParams,
        response: { 200: ApiKeySchema, ...errorResponses(403, 404) },
      },
    },
    async (request) =>
      apiKeyView(await apiKeys.get(userActor(request).id, request.params.account_id, request.params.key_id)),
  );

  app.patch(
    "/api/v1/accounts/:account_id/api-keys/:key_id",
    {
      schema: {
        tags,
        summary:
          "Rename an API key or change its scopes, allowed IPs or expiry (its creator only; never beyond their permissions)",
        params: KeyParams,
        body: Body({
          name: Type.Optional(Name),
          scopes: Type.Optional(Scopes),
          expires_at: Type.Optional(Nullable(ExpiresAt)),
          allowed_ips: Type.Optional(AllowedIps),
        }),
        response: { 200: ApiKeySchema, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const { body } = request;
      const key = await apiKeys.update(userActor(request), request.params.account_id, request.params.key_id, {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
        ...(body.expires_at !== undefined ? { expiresAt: body.expires_at } : {}),
        ...(body.allowed_ips !== undefined ? { allowedIps: body.allowed_ips } : {}),
      });
      return apiKeyView(key);
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/api-keys/:key_id/rotate",
    {
      schema: {
        tags,
        summary:
          "A new secret for an API key (its creator only; a person needs a fresh authentication); the old one works for grace_seconds",
        params: KeyParams,
        body: Type.Optional(
          Body({
            grace_seconds: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: ROTATION_GRACE.maxSeconds,
                default: ROTATION_GRACE.defaultSeconds,
                description: "How long the old secret keeps working: 0 (stops at once) to 604800 (7 days)",
              }),
            ),
          }),
        ),
        response: { 200: WithSecret, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const rotated = await apiKeys.rotate(
        userActor(request),
        request.apiKey ? undefined : sessionOf(request),
        request.params.account_id,
        request.params.key_id,
        request.body?.grace_seconds ?? ROTATION_GRACE.defaultSeconds,
      );
      return { ...apiKeyView(rotated.key), secret: rotated.secret };
    },
  );

  app.delete(
    "/api/v1/accounts/:account_id/api-keys/:key_id",
    {
      schema: {
        tags,
        summary: "Revoke an API key at once (api_keys:manage: any key of the account)",
        params: KeyParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await apiKeys.revoke(userActor(request), request.params.account_id, request.params.key_id);
      return reply.status(204).send(null);
    },
  );
}
