import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { SESSION_COOKIE } from "../http/auth-hook.js";
import { actorOf, sessionOf, userActor } from "../http/context.js";
import { Body, errorResponses, Password, Str, Timestamp, Token } from "../http/schemas.js";
import type { Services } from "../services.js";

const ClosureSchema = Type.Union([
  Type.Object({ status: Type.Literal("none") }),
  Type.Object({
    status: Type.Literal("scheduled"),
    delete_at: Timestamp,
    requested_by: Type.String({ description: "The user who scheduled it" }),
    requested_at: Timestamp,
  }),
]);
const Params = Type.Object({ account_id: Str(64) });

/** Account closure (`/accounts/{id}/closure`, the mailed cancel link) and DELETE /me — docs/api-data.md. */
export function registerClosureRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { closures } = services;
  const tags = ["data"];
  const base = "/api/v1/accounts/:account_id/closure";

  app.get(
    base,
    {
      schema: {
        tags,
        summary:
          'Whether the account is scheduled for deletion (account:read; every member): `{status: "none"}` when not',
        params: Params,
        response: { 200: ClosureSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => closures.get(userActor(request), request.params.account_id),
  );

  app.post(
    base,
    {
      config: { apiKeys: false },
      schema: {
        tags,
        summary:
          "Schedule the account's deletion in 30 days (account:close; fresh authentication; the account's exact name). Ends the subscription at its period's end and mails every Root and Admin a cancel link",
        params: Params,
        body: Body({ confirm_name: Str(200, { description: "The account's name, exactly" }) }),
        response: { 201: ClosureSchema, ...errorResponses(400, 403, 404, 409, 422) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await closures.schedule(
            userActor(request),
            sessionOf(request),
            request.params.account_id,
            request.body.confirm_name,
          ),
        ),
  );

  app.delete(
    base,
    {
      config: { apiKeys: false },
      schema: {
        tags,
        summary: "Cancel the scheduled closure during the grace period (account:close)",
        params: Params,
        response: { 200: ClosureSchema, ...errorResponses(403, 404) },
      },
    },
    async (request) => closures.cancel(userActor(request), request.params.account_id),
  );

  app.post(
    "/api/v1/account-closures/cancel",
    {
      config: { auth: "none", anonymousWrites: "closure_cancel" },
      schema: {
        tags,
        summary: "Cancel a scheduled closure with the link mailed to its Roots and Admins (single use)",
        body: Body({ token: Token }),
        response: {
          200: Type.Object({ status: Type.Literal("cancelled"), account_id: Type.String() }),
          ...errorResponses(400, 429),
        },
      },
    },
    async (request) => ({
      status: "cancelled" as const,
      ...(await closures.cancelWithToken(request.body.token, actorOf(request))),
    }),
  );

  app.delete(
    "/api/v1/me",
    {
      config: { apiKeys: false },
      schema: {
        tags: ["me"],
        summary:
          "Delete your own login for good (fresh authentication and your password). 409 sole_root lists the accounts you are the only Root of",
        body: Body({ password: Password }),
        response: { 204: Type.Null(), ...errorResponses(400, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      await services.selfDeletion.deleteMe(sessionOf(request), request.body.password, actorOf(request));
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.status(204).send(null);
    },
  );
}
