import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { Config } from "../config.js";
import { SESSION_COOKIE } from "../http/auth-hook.js";
import { actorOf, sessionOf } from "../http/context.js";
import { AppError } from "../http/errors.js";
import {
  Body,
  Email,
  errorResponses,
  Password,
  PasswordPolicySchema,
  SessionStateSchema,
  Str,
  Token,
} from "../http/schemas.js";
import { attachedValidation } from "../http/validation.js";
import { meView } from "../http/views.js";
import type { Services } from "../services.js";
import type { Me } from "../users/users.service.js";
import { policyView, strictestPolicy } from "./password-policy.js";
import { sessionStateFor, setSessionCookie } from "./session-response.js";
import type { Session } from "./sessions.repository.js";

export function registerAuthRoutes(app: FastifyInstance, services: Services, config: Config) {
  const { auth } = services;
  const publicRoute = { auth: "none" as const };

  const sessionState = (session: Session, me?: Me) => sessionStateFor(services, config, session, me);
  const setCookie = (reply: FastifyReply, token: string, session: Session) =>
    setSessionCookie(reply, config, token, session);

  app.post(
    "/api/v1/auth/signup",
    {
      config: { ...publicRoute, anonymousWrites: "signup" },
      // The password policy and the name checks run even when the schema refuses the request.
      attachValidation: true,
      schema: {
        tags: ["auth"],
        summary: "Create a user and a new account with that user as Root",
        body: Body({
          email: Email,
          password: Password,
          name: Str(200, { minLength: 1 }),
          account_name: Str(200, { minLength: 1 }),
        }),
        response: {
          201: Type.Object({
            user: Type.Ref("Me"),
            account_id: Type.String(),
            verification_sent: Type.Boolean(),
          }),
          ...errorResponses(400, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const { found, text } = attachedValidation(request);
      if (found.length > 0) {
        const input = {
          email: text("email"),
          password: text("password"),
          name: text("name"),
          accountName: text("account_name"),
        };
        throw (await services.signup.refusal(input, found)) ?? new AppError("validation_failed");
      }
      const body = request.body as { email: string; password: string; name: string; account_name: string };
      const result = await services.signup.signup(
        { email: body.email, password: body.password, name: body.name, accountName: body.account_name },
        actorOf(request),
      );
      return reply
        .status(201)
        .send({ user: meView(result.me), account_id: result.accountId, verification_sent: true });
    },
  );

  app.post(
    "/api/v1/auth/verify-email",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Confirm an email address with the token from the mail",
        body: Body({ token: Token }),
        response: { 200: Type.Object({ verified: Type.Boolean() }), ...errorResponses(400) },
      },
    },
    async (request) => {
      await services.signup.verifyEmail((request.body as { token: string }).token, actorOf(request));
      return { verified: true };
    },
  );

  app.post(
    "/api/v1/auth/verify-email/resend",
    {
      schema: {
        tags: ["auth"],
        summary: "Send the verification mail again",
        response: { 202: Type.Object({ accepted: Type.Boolean() }) },
      },
    },
    async (request, reply) => {
      await services.signup.resendVerification(sessionOf(request).userId, actorOf(request));
      return reply.status(202).send({ accepted: true });
    },
  );

  app.post(
    "/api/v1/auth/login",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Log in with email and password; sets the session cookie",
        body: Body({
          email: Str(254, { minLength: 1 }),
          password: Password,
          account_id: Type.Optional(Str(64)),
        }),
        response: {
          200: Type.Union([
            SessionStateSchema,
            Type.Object({
              mfa_required: Type.Literal(true),
              mfa_token: Type.String(),
              methods: Type.Array(Type.String()),
            }),
          ]),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { email: string; password: string; account_id?: string };
      // On a verified custom domain the Host decides the account (docs/custom-domains.md).
      const hostAccountId = await services.domains.accountForHost(request.host);
      const result = await auth.login(
        { email: body.email, password: body.password, accountId: body.account_id, hostAccountId },
        actorOf(request),
      );
      if ("mfaRequired" in result)
        return { mfa_required: true, mfa_token: result.mfaToken, methods: result.methods };
      setCookie(reply, result.token, result.session);
      return sessionState(result.session, result.me);
    },
  );

  app.post(
    "/api/v1/auth/login/mfa",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Complete a log-in that needs a second factor",
        body: Body({
          mfa_token: Token,
          method: Type.Union([
            Type.Literal("totp"),
            Type.Literal("email"),
            Type.Literal("sms"),
            Type.Literal("recovery_code"),
          ]),
          code: Str(64, { minLength: 1 }),
        }),
        response: { 200: SessionStateSchema, ...errorResponses(400, 403, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body as {
        mfa_token: string;
        method: "totp" | "email" | "sms" | "recovery_code";
        code: string;
      };
      const result = await auth.completeMfaLogin(
        {
          mfaToken: body.mfa_token,
          method: body.method,
          code: body.code,
          hostAccountId: await services.domains.accountForHost(request.host),
        },
        actorOf(request),
      );
      setCookie(reply, result.token, result.session);
      return sessionState(result.session, result.me);
    },
  );

  app.post(
    "/api/v1/auth/login/mfa/send",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Email or text a sign-in code during a log-in that needs a second factor",
        body: Body({ mfa_token: Token, method: Type.Union([Type.Literal("email"), Type.Literal("sms")]) }),
        response: { 202: Type.Object({ sent: Type.Boolean() }), ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      const body = request.body as { mfa_token: string; method: "email" | "sms" };
      await services.mfa.sendLoginCode(body.mfa_token, body.method);
      return reply.status(202).send({ sent: true });
    },
  );

  app.post(
    "/api/v1/auth/reauth",
    {
      config: { allowDuringPasswordChange: true, allowDuringMfaEnrollment: true },
      schema: {
        tags: ["auth"],
        summary: "Authenticate again (password or second factor) to unlock sensitive actions for 10 minutes",
        body: Body({
          password: Type.Optional(Password),
          method: Type.Optional(
            Type.Union([
              Type.Literal("totp"),
              Type.Literal("email"),
              Type.Literal("sms"),
              Type.Literal("recovery_code"),
            ]),
          ),
          code: Type.Optional(Str(64, { minLength: 1 })),
        }),
        response: {
          200: Type.Object({ reauthenticated_until: Type.String() }),
          ...errorResponses(400, 429),
        },
      },
    },
    async (request) => {
      const body = request.body as {
        password?: string;
        method?: "totp" | "email" | "sms" | "recovery_code";
        code?: string;
      };
      return {
        reauthenticated_until: await services.mfa.reauthenticate(sessionOf(request), body, actorOf(request)),
      };
    },
  );

  app.post(
    "/api/v1/auth/reauth/send",
    {
      config: { allowDuringPasswordChange: true, allowDuringMfaEnrollment: true },
      schema: {
        tags: ["auth"],
        summary: "Send a code (to your confirmed email or SMS factor) for POST /auth/reauth",
        body: Body({ method: Type.Union([Type.Literal("email"), Type.Literal("sms")]) }),
        response: { 202: Type.Object({ sent: Type.Boolean() }), ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      await services.mfa.sendReauthCode(
        sessionOf(request),
        (request.body as { method: "email" | "sms" }).method,
      );
      return reply.status(202).send({ sent: true });
    },
  );

  app.post(
    "/api/v1/auth/logout",
    {
      config: {
        allowDuringPasswordChange: true,
        allowDuringMfaEnrollment: true,
        allowOutsideIpAllowlist: true,
      },
      schema: { tags: ["auth"], summary: "End the current session", response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await auth.logout(sessionOf(request), actorOf(request));
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.status(204).send();
    },
  );

  app.post(
    "/api/v1/auth/reactivate",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Turn a deactivated login back on with the token from the mail",
        body: Body({ token: Token }),
        response: { 200: Type.Object({ reactivated: Type.Boolean() }), ...errorResponses(400) },
      },
    },
    async (request) => {
      await auth.reactivate((request.body as { token: string }).token, actorOf(request));
      return { reactivated: true };
    },
  );

  app.post(
    "/api/v1/auth/password/forgot",
    {
      config: { ...publicRoute, anonymousWrites: "password_forgot" },
      schema: {
        tags: ["auth"],
        summary: "Mail a password reset link (same answer whether or not the email exists)",
        body: Body({ email: Str(254, { minLength: 1 }) }),
        response: { 202: Type.Object({ accepted: Type.Boolean() }), ...errorResponses(400, 429) },
      },
    },
    async (request, reply) => {
      const email = (request.body as { email: string }).email;
      const actor = actorOf(request);
      // Only records the request (the same write for every address); the job loop does the work.
      await services.resetRequests.record(email, actor);
      return reply.status(202).send({ accepted: true });
    },
  );

  app.post(
    "/api/v1/auth/password/reset/check",
    {
      config: { ...publicRoute, anonymousWrites: "password_reset_check" },
      schema: {
        tags: ["auth"],
        summary: "Whether a reset link still works (unused, unexpired), without using it",
        body: Body({ token: Token }),
        response: { 200: Type.Object({ valid: Type.Literal(true) }), ...errorResponses(400, 429) },
      },
    },
    async (request) => {
      await auth.checkResetToken((request.body as { token: string }).token);
      return { valid: true as const };
    },
  );

  app.post(
    "/api/v1/auth/password/reset",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Set a new password with the token from the mail; ends every session of the user",
        body: Body({ token: Token, password: Password }),
        response: { 200: Type.Object({ reset: Type.Boolean() }), ...errorResponses(400, 422) },
      },
    },
    async (request) => {
      const body = request.body as { token: string; password: string };
      await auth.resetPassword(body.token, body.password, actorOf(request));
      return { reset: true };
    },
  );

  app.get(
    "/api/v1/auth/password-policy",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "The password policy new users sign up under",
        response: { 200: PasswordPolicySchema },
      },
    },
    async () => policyView(strictestPolicy([])),
  );

  app.get(
    "/api/v1/session",
    {
      config: {
        allowDuringPasswordChange: true,
        allowDuringMfaEnrollment: true,
        allowOutsideIpAllowlist: true,
      },
      schema: {
        tags: ["auth"],
        summary: "The current session, user and CSRF token",
        response: { 200: SessionStateSchema, ...errorResponses(401) },
      },
    },
    // Not async: a warm session answers without waiting (sessionStateFor).
    (request) => sessionState(sessionOf(request)),
  );

  // For the web app's first look: a signed-out visitor is an answer, not an error, so browsers log
  // no failed request. GET /session keeps its 401 for clients that rely on it.
  app.get(
    "/api/v1/session/status",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary:
          "Whether the caller is signed in: 200 {authenticated: false}, or {authenticated: true} with the session state of GET /session",
        response: {
          200: Type.Union([
            Type.Object({ authenticated: Type.Literal(false) }),
            Type.Object({ authenticated: Type.Literal(true), ...SessionStateSchema.properties }),
          ]),
        },
      },
    },
    async (request) =>
      request.session
        ? { authenticated: true as const, ...(await sessionState(request.session)) }
        : { authenticated: false as const },
  );
}
