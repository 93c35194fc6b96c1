import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { actorOf, sessionOf, userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Password, Str, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";

const FactorSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  label: Type.String(),
  created_at: Timestamp,
  last_used_at: Nullable(Timestamp),
});
const Codes = Type.Array(Type.String());

export function registerMfaRoutes(app: FastifyInstance, services: Services) {
  const { mfa } = services;
  const tags = ["mfa"];
  // Enrolling must stay possible after a required second factor's grace period has run out.
  const enrolling = { allowDuringMfaEnrollment: true };

  app.get(
    "/api/v1/me/mfa",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Your second factors and recovery codes left",
        response: {
          200: Type.Object({
            enabled: Type.Boolean(),
            factors: Type.Array(FactorSchema),
            recovery_codes_remaining: Type.Integer(),
          }),
        },
      },
    },
    async (request) => mfa.status(sessionOf(request).userId),
  );

  app.post(
    "/api/v1/me/mfa/totp",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Start enrolling an authenticator app",
        body: Type.Optional(Body({ label: Type.Optional(Str(60)) })),
        response: {
          201: Type.Object({
            factor_id: Type.String(),
            secret: Type.String(),
            otpauth_uri: Type.String(),
            qr_svg: Type.String(),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as { label?: string };
      return reply.status(201).send(await mfa.startTotp(sessionOf(request), body.label, actorOf(request)));
    },
  );

  app.post(
    "/api/v1/me/mfa/email",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Start using email codes as a second factor (a code is mailed to confirm)",
        response: { 201: Type.Object({ factor_id: Type.String() }), ...errorResponses(403, 409, 429) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await mfa.startEmail(sessionOf(request), actorOf(request))),
  );

  app.post(
    "/api/v1/me/mfa/sms",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Start using text-message codes: a code is sent to the number to prove it is yours",
        body: Body({ phone: Str(32, { minLength: 1 }) }),
        response: {
          201: Type.Object({ factor_id: Type.String(), phone: Type.String() }),
          ...errorResponses(400, 403, 409, 429),
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          await mfa.startSms(sessionOf(request), (request.body as { phone: string }).phone, actorOf(request)),
        ),
  );

  for (const [kind, what, verify] of [
    ["totp", "an authenticator app with its current code", mfa.verifyTotp],
    ["email", "email codes with the code from the mail", mfa.verifyEmail],
    ["sms", "text-message codes with the code from the message", mfa.verifySms],
  ] as const) {
    app.post(
      `/api/v1/me/mfa/${kind}/:factor_id/verify`,
      {
        config: enrolling,
        schema: {
          tags,
          summary: `Confirm ${what} (the first factor also returns recovery codes)`,
          params: Type.Object({ factor_id: Str(64) }),
          body: Body({ code: Str(16, { minLength: 1 }) }),
          response: {
            200: Type.Object({ factor: FactorSchema, recovery_codes: Type.Optional(Codes) }),
            ...errorResponses(400, 404, 409, 429),
          },
        },
      },
      async (request) => {
        const { factor_id } = request.params as { factor_id: string };
        return verify(
          sessionOf(request),
          factor_id,
          (request.body as { code: string }).code,
          actorOf(request),
        );
      },
    );
  }

  app.post(
    "/api/v1/me/mfa/recovery-codes",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "New recovery codes; the old ones stop working (needs a fresh authentication)",
        response: { 200: Type.Object({ recovery_codes: Codes }), ...errorResponses(403, 409) },
      },
    },
    async (request) => ({
      recovery_codes: await mfa.regenerateRecoveryCodes(sessionOf(request), actorOf(request)),
    }),
  );

  app.delete(
    "/api/v1/me/mfa/factors/:factor_id",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Remove a second factor (your password is required)",
        params: Type.Object({ factor_id: Str(64) }),
        body: Body({ password: Password }),
        response: { 204: Type.Null(), ...errorResponses(400, 404, 429) },
      },
    },
    async (request, reply) => {
      const { factor_id } = request.params as { factor_id: string };
      await mfa.removeFactor(
        sessionOf(request),
        factor_id,
        (request.body as { password: string }).password,
        actorOf(request),
      );
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/me/mfa/disable",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Turn two-factor authentication off (your password is required)",
        body: Body({ password: Password }),
        response: { 204: Type.Null(), ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      await mfa.disable(
        sessionOf(request),
        (request.body as { password: string }).password,
        actorOf(request),
      );
      return reply.status(204).send();
    },
  );

  const MemberParams = Type.Object({ account_id: Str(64), user_id: Str(64) });
  const adminTags = ["members", "mfa"];

  app.post(
    "/api/v1/accounts/:account_id/members/:user_id/mfa/reset",
    {
      // Needs a person's fresh authentication: no API key.
      config: { apiKeys: false },
      schema: {
        tags: adminTags,
        summary: "Remove a member's second factors and recovery codes and sign them out (security:manage)",
        params: MemberParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      await services.memberMfa.reset(userActor(request), sessionOf(request), account_id, user_id);
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/accounts/:account_id/members/:user_id/recovery-codes",
    {
      // Needs a person's fresh authentication: no API key.
      config: { apiKeys: false },
      schema: {
        tags: adminTags,
        summary: "Issue new recovery codes for a member, shown once; their old ones stop working",
        params: MemberParams,
        response: { 200: Type.Object({ recovery_codes: Codes }), ...errorResponses(403, 404, 409) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      return {
        recovery_codes: await services.memberMfa.issueRecoveryCodes(
          userActor(request),
          sessionOf(request),
          account_id,
          user_id,
        ),
      };
    },
  );

  // A POST, not a GET: it mails the member and writes an audit event, so it must carry the CSRF token.
  app.post(
    "/api/v1/accounts/:account_id/members/:user_id/recovery-codes/reveal",
    {
      // Needs a person's fresh authentication: no API key.
      config: { apiKeys: false },
      schema: {
        tags: adminTags,
        summary:
          "Reveal a member's unused recovery codes (needs a fresh authentication; they are told by mail; never a Root's)",
        params: MemberParams,
        response: { 200: Type.Object({ recovery_codes: Codes }), ...errorResponses(403, 404, 409) },
      },
    },
    async (request) => {
      const { account_id, user_id } = request.params as { account_id: string; user_id: string };
      return {
        recovery_codes: await services.memberMfa.viewRecoveryCodes(
          userActor(request),
          sessionOf(request),
          account_id,
          user_id,
        ),
      };
    },
  );
}
