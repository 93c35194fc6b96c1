import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { registerAccountsRoutes } from "./accounts/accounts.routes.js";
import { registerSecurityRoutes } from "./accounts/security.routes.js";
import { registerAuditRoutes } from "./audit/audit.routes.js";
import { registerAuthRoutes } from "./auth/auth.routes.js";
import { registerDeviceCookie } from "./auth/devices.js";
import { registerEmailChangeRoutes } from "./auth/email-change.routes.js";
import { registerAuthzRoutes } from "./authz/authz.routes.js";
import { registerBillingRoutes } from "./billing/billing.routes.js";
import { registerPaymentsRoutes } from "./billing/payments.routes.js";
import type { Config } from "./config.js";
import { registerDevRoutes } from "./dev/dev.routes.js";
import { registerAuthHook } from "./http/auth-hook.js";
import { registerErrorHandling, sendProblem } from "./http/error-handler.js";
import { AppError } from "./http/errors.js";
import { MeSchema, PasswordPolicySchema, ProblemSchema } from "./http/schemas.js";
import { registerSecurityHeaders } from "./http/security-headers.js";
import { createValidatorCompiler } from "./http/validation.js";
import { registerInvitationsRoutes } from "./invitations/invitations.routes.js";
import { registerMembersRoutes } from "./members/members.routes.js";
import { registerMfaRoutes } from "./mfa/mfa.routes.js";
import { registerPasskeyRoutes } from "./mfa/passkeys.routes.js";
import { registerRolesRoutes } from "./roles/roles.routes.js";
import type { Services } from "./services.js";
import { registerTeamsRoutes } from "./teams/teams.routes.js";
import { registerUsersRoutes } from "./users/users.routes.js";

const WEB_DIST = fileURLToPath(new URL("../web/dist/", import.meta.url));

export function loggerOptions(config: Config): FastifyServerOptions["logger"] {
  return {
    level: config.logLevel,
    redact: ["req.headers.cookie", "req.headers.authorization", 'req.headers["x-csrf-token"]'],
    serializers: {
      // Query strings can carry tokens (email links): never log them.
      req: (req) => ({ method: req.method, url: req.url.split("?")[0], remoteAddress: req.ip }),
    },
  };
}

/** Accepts a caller's request id when it is a sane token, so ids can be followed across services. */
function requestId(header: string | string[] | undefined): string {
  return typeof header === "string" && /^[\w.:-]{1,64}$/.test(header) ? header : randomUUID();
}

export async function buildApp(
  config: Config,
  services: Services,
  options: { logger?: FastifyBaseLogger | false } = {},
) {
  const app: FastifyInstance = Fastify({
    ...(options.logger === false
      ? { logger: false }
      : options.logger
        ? { loggerInstance: options.logger }
        : { logger: loggerOptions(config) }),
    genReqId: (req) => requestId(req.headers["x-request-id"]),
    // A hop count N trusts the N nearest hops (proxy-addr's rule; Fastify's types only take it as a function).
    trustProxy:
      typeof config.trustProxy === "number"
        ? (
            (hops: number) => (_address: string, hop: number) =>
              hop < hops
          )(config.trustProxy)
        : config.trustProxy,
    bodyLimit: 256 * 1024,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false } },
  });
  const sharedSchemas = [ProblemSchema, MeSchema, PasswordPolicySchema];
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.setValidatorCompiler(createValidatorCompiler(sharedSchemas));
  registerErrorHandling(app);

  // While shutting down, answers close their keep-alive connection, so draining ends with the last request.
  let draining = false;
  app.addHook("preClose", async () => {
    draining = true;
  });
  app.addHook("onSend", async (request, reply) => {
    if (draining) reply.header("connection", "close");
    reply.header("x-request-id", request.id);
    if (request.url.startsWith("/api/")) reply.header("cache-control", "no-store");
  });

  registerSecurityHeaders(app);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Gatehouse API",
        version: "1",
        description:
          "Accounts, users, sessions and access management. Errors are application/problem+json with a stable `code`.",
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: "apiKey", in: "cookie", name: "gatehouse_session" },
          csrf: { type: "apiKey", in: "header", name: "x-csrf-token" },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}`,
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs", staticCSP: true });

  registerAuthHook(app, {
    sessions: services.sessions,
    secret: config.secretKey,
    now: services.clock.now,
    ipAllowlist: services.ipAllowlist,
  });
  registerDeviceCookie(app, config);

  app.get("/healthz", { config: { auth: "none" }, schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { auth: "none" }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.database.ping();
      return { status: "ready" };
    } catch {
      return sendProblem(reply, new AppError("unavailable", "The database is not reachable"));
    }
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  registerAuthRoutes(app, services, config);
  registerUsersRoutes(app, services);
  registerEmailChangeRoutes(app, services, config);
  registerSecurityRoutes(app, services);
  registerAccountsRoutes(app, services, config);
  registerRolesRoutes(app, services);
  registerMembersRoutes(app, services);
  registerInvitationsRoutes(app, services, config);
  registerTeamsRoutes(app, services);
  registerAuthzRoutes(app, services);
  registerMfaRoutes(app, services);
  registerPasskeyRoutes(app, services, config);
  registerAuditRoutes(app, services);
  registerBillingRoutes(app, services);
  registerPaymentsRoutes(app, services);
  if (!config.production) registerDevRoutes(app, services);

  const hasWeb = existsSync(WEB_DIST);
  if (hasWeb) await app.register(fastifyStatic, { root: WEB_DIST, wildcard: false, index: false });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const isPage = request.method === "GET" && !/^\/(api|dev)\//.test(path) && !/\.[a-z0-9]+$/i.test(path);
    if (isPage && hasWeb) return reply.type("text/html; charset=utf-8").sendFile("index.html");
    return sendProblem(reply, new AppError("not_found", `No route ${request.method} ${path}`));
  });

  return app;
}
