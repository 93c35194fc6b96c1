import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { assertCsrf } from "../http/auth-hook.js";
import { actorOf, sessionOf } from "../http/context.js";
import { Body, Email, errorResponses, Token } from "../http/schemas.js";
import type { Services } from "../services.js";

export function registerEmailChangeRoutes(app: FastifyInstance, services: Services, config: Config) {
  const { emailChange } = services;

  app.post(
    "/api/v1/me/email",
    {
      schema: {
        tags: ["me"],
        summary:
          "Change your login email: mails a confirmation link to the new address and a notice to the current one (needs a fresh authentication)",
        body: Body({ new_email: Email }),
        response: { 202: Type.Object({ accepted: Type.Boolean() }), ...errorResponses(400, 403, 429) },
      },
    },
    async (request, reply) => {
      await emailChange.request(
        sessionOf(request),
        (request.body as { new_email: string }).new_email,
        actorOf(request),
      );
      return reply.status(202).send({ accepted: true });
    },
  );

  app.post(
    "/api/v1/auth/email-change/confirm",
    {
      config: { auth: "none" },
      schema: {
        tags: ["auth"],
        summary:
          "Confirm a change of login email with the token from the mail; ends the user's other sessions",
        body: Body({ token: Token }),
        response: {
          200: Type.Object({ changed: Type.Boolean(), email: Type.String() }),
          ...errorResponses(400, 403, 409),
        },
      },
    },
    async (request) => {
      // A logged-in confirmation keeps its session, so it must come from our own pages.
      assertCsrf(request, config.secretKey);
      const result = await emailChange.confirm(
        (request.body as { token: string }).token,
        request.session,
        actorOf(request),
      );
      return { changed: true, email: result.email };
    },
  );
}
