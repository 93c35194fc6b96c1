import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { policyView } from "../auth/password-policy.js";
import { SESSION_COOKIE } from "../http/auth-hook.js";
import { actorOf, sessionOf, userActor } from "../http/context.js";
import { refuseReadOnly } from "../http/read-only.js";
import {
  Body,
  errorResponses,
  Nullable,
  Password,
  PasswordPolicySchema,
  Str,
  Timestamp,
} from "../http/schemas.js";
import { meView, sessionExpiry } from "../http/views.js";
import { andThen } from "../lib/maybe-async.js";
import type { Services } from "../services.js";
import { type PreferencesInput, PreferencesInputSchema, PreferencesSchema } from "./preferences.js";
import { parseUserAgent } from "./user-agent.js";
import type { ProfileChanges } from "./users.service.js";

const ProfilePatch = Body({
  username: Type.Optional(Nullable(Str(32, { minLength: 3, pattern: "^[A-Za-z0-9_.-]+$" }))),
  first_name: Type.Optional(Str(100)),
  last_name: Type.Optional(Str(100)),
  mobile: Type.Optional(
    Nullable(Str(32, { format: "phone", description: "With its country code; stored in E.164 form" })),
  ),
  timezone: Type.Optional(Str(64, { minLength: 1, format: "timezone", description: "IANA time zone" })),
  locale: Type.Optional(Str(35, { pattern: "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$" })),
});

const SessionRow = Type.Object({
  id: Type.String(),
  current: Type.Boolean(),
  created_at: Timestamp,
  last_seen_at: Timestamp,
  expires_at: Timestamp,
  ip: Nullable(Type.String()),
  user_agent: Nullable(Type.String()),
  device: Type.Object({ browser: Type.String(), os: Type.String(), type: Type.String() }),
});

export function registerUsersRoutes(app: FastifyInstance, services: Services) {
  const { users, auth, sessions, db } = services;
  const duringPasswordChange = { allowDuringPasswordChange: true, allowDuringMfaEnrollment: true };

  app.get(
    "/api/v1/me",
    {
      config: duringPasswordChange,
      schema: { tags: ["me"], summary: "Your profile", response: { 200: Type.Ref("Me") } },
    },
    // Not async: a cached profile answers without waiting.
    (request) => andThen(users.getMe(sessionOf(request).userId), meView),
  );

  app.patch(
    "/api/v1/me",
    {
      preValidation: refuseReadOnly({
        avatar_url: "The avatar is set by uploading an image: PUT /api/v1/me/avatar",
        avatar_thumb_url: "The avatar is set by uploading an image: PUT /api/v1/me/avatar",
      }),
      schema: {
        tags: ["me"],
        summary: "Change your profile (email is read-only here)",
        body: ProfilePatch,
        response: { 200: Type.Ref("Me"), ...errorResponses(400, 409) },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      return meView(
        await users.updateProfile(userActor(request), session.accountId, request.body as ProfileChanges),
      );
    },
  );

  app.get(
    "/api/v1/me/password-policy",
    {
      config: duringPasswordChange,
      schema: {
        tags: ["me"],
        summary: "The strictest password policy of your accounts",
        response: { 200: PasswordPolicySchema },
      },
    },
    async (request) => policyView(await auth.policyFor(db, sessionOf(request).userId)),
  );

  app.post(
    "/api/v1/me/password",
    {
      config: duringPasswordChange,
      schema: {
        tags: ["me"],
        summary: "Change your password; ends your other sessions",
        body: Body({ current_password: Password, new_password: Password }),
        response: { 200: Type.Object({ changed: Type.Boolean() }), ...errorResponses(400, 422, 429) },
      },
    },
    async (request) => {
      const body = request.body as { current_password: string; new_password: string };
      await auth.changePassword(
        sessionOf(request),
        body.current_password,
        body.new_password,
        actorOf(request),
      );
      return { changed: true };
    },
  );

  app.post(
    "/api/v1/me/deactivate",
    {
      schema: {
        tags: ["me"],
        summary: "Deactivate your own login (reversible: log in again and confirm by email)",
        body: Body({ password: Password }),
        response: { 204: Type.Null(), ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      await auth.deactivate(
        sessionOf(request),
        (request.body as { password: string }).password,
        actorOf(request),
      );
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.status(204).send();
    },
  );

  app.get(
    "/api/v1/me/preferences",
    { schema: { tags: ["me"], summary: "Your preferences", response: { 200: PreferencesSchema } } },
    async (request) => users.getPreferences(sessionOf(request).userId),
  );

  app.put(
    "/api/v1/me/preferences",
    {
      schema: {
        tags: ["me"],
        summary: "Replace your preferences (omitted fields take their defaults)",
        body: PreferencesInputSchema,
        response: { 200: PreferencesSchema, ...errorResponses(400) },
      },
    },
    async (request) =>
      users.putPreferences(
        userActor(request),
        sessionOf(request).accountId,
        request.body as PreferencesInput,
      ),
  );

  app.get(
    "/api/v1/me/sessions",
    {
      schema: {
        tags: ["me"],
        summary: "Your active sessions",
        response: { 200: Type.Object({ data: Type.Array(SessionRow) }) },
      },
    },
    async (request) => {
      const current = sessionOf(request);
      const list = await sessions.list(current.userId);
      return {
        data: list.map((s) => ({
          id: s.id,
          current: s.id === current.id,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: sessionExpiry(s),
          ip: s.ip,
          user_agent: s.userAgent,
          device: parseUserAgent(s.userAgent),
        })),
      };
    },
  );

  app.delete(
    "/api/v1/me/sessions/:id",
    {
      schema: {
        tags: ["me"],
        summary: "End one of your sessions",
        params: Type.Object({ id: Str(64) }),
        response: { 204: Type.Null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const current = sessionOf(request);
      const { id } = request.params as { id: string };
      await auth.revokeSession(current, id, userActor(request));
      if (id === current.id) reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/me/sessions/revoke-others",
    {
      schema: {
        tags: ["me"],
        summary: "End every session but this one",
        response: { 200: Type.Object({ revoked: Type.Integer() }) },
      },
    },
    async (request) => {
      const current = sessionOf(request);
      return { revoked: await auth.revokeOtherSessions(current, userActor(request)) };
    },
  );
}
