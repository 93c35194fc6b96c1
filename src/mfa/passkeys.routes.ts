import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sessionStateFor, setSessionCookie } from "../auth/session-response.js";
import type { Config } from "../config.js";
import { actorOf, sessionOf } from "../http/context.js";
import {
  Body,
  errorResponses,
  Nullable,
  Password,
  SessionStateSchema,
  Str,
  Timestamp,
  Token,
} from "../http/schemas.js";
import type { Services } from "../services.js";

const PasskeySchema = Type.Object({
  id: Type.String(),
  label: Type.String(),
  created_at: Timestamp,
  last_used_at: Nullable(Timestamp),
  backed_up: Type.Boolean(),
  device_type: Type.String(),
  transports: Type.Array(Type.String()),
});
/** WebAuthn JSON as @simplewebauthn/browser produces it; the library verifies its contents. */
const Loose = Type.Object({}, { additionalProperties: true });
const CredentialJson = Type.Object(
  {
    id: Str(1024, { minLength: 1 }),
    rawId: Str(1024, { minLength: 1 }),
    type: Type.Literal("public-key"),
    response: Loose,
  },
  { additionalProperties: true },
);
const OptionsAnswer = Type.Object({ challenge_id: Type.String(), options: Loose });
const Label = Str(60);

export function registerPasskeyRoutes(app: FastifyInstance, services: Services, config: Config) {
  const { passkeys } = services;
  const tags = ["mfa"];
  const enrolling = { allowDuringMfaEnrollment: true };

  app.get(
    "/api/v1/me/passkeys",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Your passkeys",
        response: { 200: Type.Object({ data: Type.Array(PasskeySchema) }) },
      },
    },
    async (request) => passkeys.list(sessionOf(request).userId),
  );

  app.post(
    "/api/v1/me/passkeys/options",
    {
      config: enrolling,
      schema: {
        tags,
        summary:
          "Start adding a passkey: options for navigator.credentials.create (a fresh authentication is needed when MFA is on)",
        response: { 200: OptionsAnswer, ...errorResponses(403) },
      },
    },
    async (request) => passkeys.registrationOptions(sessionOf(request)),
  );

  app.post(
    "/api/v1/me/passkeys",
    {
      config: enrolling,
      schema: {
        tags,
        summary:
          "Finish adding a passkey with the browser's answer (the first factor also returns recovery codes)",
        body: Body({
          challenge_id: Str(64, { minLength: 1 }),
          label: Type.Optional(Label),
          response: CredentialJson,
        }),
        response: {
          201: Type.Object({
            passkey: PasskeySchema,
            recovery_codes: Type.Optional(Type.Array(Type.String())),
          }),
          ...errorResponses(400, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        challenge_id: string;
        label?: string;
        response: RegistrationResponseJSON;
      };
      const result = await passkeys.register(
        sessionOf(request),
        { challengeId: body.challenge_id, label: body.label, response: body.response },
        actorOf(request),
      );
      return reply.status(201).send(result);
    },
  );

  app.patch(
    "/api/v1/me/passkeys/:id",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Rename a passkey",
        params: Type.Object({ id: Str(64) }),
        body: Body({ label: Str(60, { minLength: 1 }) }),
        response: { 200: PasskeySchema, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return passkeys.rename(
        sessionOf(request),
        id,
        (request.body as { label: string }).label,
        actorOf(request),
      );
    },
  );

  app.delete(
    "/api/v1/me/passkeys/:id",
    {
      config: enrolling,
      schema: {
        tags,
        summary: "Remove a passkey (your password is required, as for any second factor)",
        params: Type.Object({ id: Str(64) }),
        body: Body({ password: Password }),
        response: { 204: Type.Null(), ...errorResponses(400, 404, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      await passkeys.remove(
        sessionOf(request),
        id,
        (request.body as { password: string }).password,
        actorOf(request),
      );
      return reply.status(204).send();
    },
  );

  // "Confirm it's you" with a passkey; like POST /auth/reauth, usable while a password change or an
  // MFA enrollment is pending.
  const reauthing = { allowDuringPasswordChange: true, allowDuringMfaEnrollment: true };

  app.post(
    "/api/v1/auth/reauth/passkey/options",
    {
      config: reauthing,
      schema: {
        tags: ["auth"],
        summary:
          "Options for navigator.credentials.get to authenticate again with one of your passkeys (POST /auth/reauth/passkey)",
        response: { 200: OptionsAnswer, ...errorResponses(400) },
      },
    },
    async (request) => passkeys.reauthOptions(sessionOf(request)),
  );

  app.post(
    "/api/v1/auth/reauth/passkey",
    {
      config: reauthing,
      schema: {
        tags: ["auth"],
        summary: "Authenticate again with a passkey to unlock sensitive actions for 10 minutes",
        body: Body({ challenge_id: Str(64, { minLength: 1 }), response: CredentialJson }),
        response: {
          200: Type.Object({ reauthenticated_until: Type.String() }),
          ...errorResponses(400, 429),
        },
      },
    },
    async (request) => {
      const body = request.body as { challenge_id: string; response: AuthenticationResponseJSON };
      return {
        reauthenticated_until: await passkeys.reauthenticate(
          sessionOf(request),
          { challengeId: body.challenge_id, response: body.response },
          actorOf(request),
        ),
      };
    },
  );

  app.post(
    "/api/v1/auth/passkey/options",
    {
      config: { auth: "none" as const, anonymousWrites: "passkey_options" as const },
      schema: {
        tags: ["auth"],
        summary:
          "Options for navigator.credentials.get: passwordless log-in, or with mfa_token the passkey step of a password log-in",
        body: Type.Optional(Body({ mfa_token: Type.Optional(Token) })),
        response: { 200: OptionsAnswer, ...errorResponses(400, 429) },
      },
    },
    async (request) => passkeys.loginOptions((request.body as { mfa_token?: string } | undefined)?.mfa_token),
  );

  app.post(
    "/api/v1/auth/passkey",
    {
      config: { auth: "none" as const },
      schema: {
        tags: ["auth"],
        summary:
          "Log in with a passkey (passwordless, or with mfa_token as the second factor); sets the session cookie",
        body: Body({
          challenge_id: Str(64, { minLength: 1 }),
          mfa_token: Type.Optional(Token),
          response: CredentialJson,
        }),
        response: { 200: SessionStateSchema, ...errorResponses(400, 403, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        challenge_id: string;
        mfa_token?: string;
        response: AuthenticationResponseJSON;
      };
      const result = await passkeys.login(
        { challengeId: body.challenge_id, response: body.response, mfaToken: body.mfa_token },
        actorOf(request),
      );
      setSessionCookie(reply, config, result.token, result.session);
      return sessionStateFor(services, config, result.session, result.me);
    },
  );
}
