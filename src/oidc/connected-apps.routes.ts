import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { userActor } from "../http/context.js";
import { errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import type { ConnectedApp } from "./connected-apps.repository.js";

const ConnectedAppSchema = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  logo_uri: Nullable(Type.String()),
  scopes: Type.Array(Type.String(), { description: "Every scope a member of the account granted it" }),
  members: Type.Integer({ description: "How many of the account's members authorized it" }),
  last_authorized_at: Timestamp,
});

const connectedAppView = (app: ConnectedApp) => ({
  client_id: app.clientId,
  name: app.name,
  logo_uri: app.logoUri,
  scopes: app.scopes,
  members: app.members,
  last_authorized_at: app.lastAuthorizedAt,
});

const Params = Type.Object({ account_id: Str(64) });
const AppParams = Type.Object({ account_id: Str(64), client_id: Str(200) });

/** /api/v1/accounts/{id}/connected-apps — third-party applications the account's members signed in to. */
export function registerConnectedAppsRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { connectedApps } = services;
  const tags = ["oidc"];
  const base = "/api/v1/accounts/:account_id/connected-apps";

  app.get(
    base,
    {
      schema: {
        tags,
        summary: "Third-party applications the account's members authorized, by name (security:read)",
        params: Params,
        response: { 200: Type.Object({ data: Type.Array(ConnectedAppSchema) }), ...errorResponses(403, 404) },
      },
    },
    async (request) => {
      const apps = await connectedApps.list(userActor(request).id, request.params.account_id);
      return { data: apps.map(connectedAppView) };
    },
  );

  app.delete(
    `${base}/:client_id`,
    {
      schema: {
        tags,
        summary:
          "Revoke an application for the whole account (security:manage): its grants and refresh tokens end at once",
        params: AppParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      await connectedApps.revoke(userActor(request), request.params.account_id, request.params.client_id);
      return reply.status(204).send(null);
    },
  );
}
