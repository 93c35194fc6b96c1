import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { registerAccountsRoutes } from "./accounts/accounts.routes.js";
import { registerSecurityRoutes } from "./accounts/security.routes.js";
import { registerApiKeysRoutes } from "./api-keys/api-keys.routes.js";
import { registerApiKeyUsageRoutes, registerKeyUsageHook } from "./api-keys/usage.routes.js";
import { registerAuditRoutes } from "./audit/audit.routes.js";
import { registerAuthRoutes } from "./auth/auth.routes.js";
import { registerDeviceCookie } from "./auth/devices.js";
import { registerEmailChangeRoutes } from "./auth/email-change.routes.js";
import { registerAuthzRoutes } from "./authz/authz.routes.js";
import { registerBillingRoutes } from "./billing/billing.routes.js";
import { registerPaymentsRoutes } from "./billing/payments.routes.js";
import { registerBrandingRoutes } from "./branding/branding.routes.js";
import { registerClosureRoutes } from "./closure/closure.routes.js";
import type { Config } from "./config.js";
import { registerDevRoutes } from "./dev/dev.routes.js";
import { registerDomainsRoutes } from "./domains/domains.routes.js";
import { registerEventsRoutes } from "./events/events.routes.js";
import { registerExportsRoutes } from "./exports/exports.routes.js";
import { registerAnonymousWriteLimits } from "./http/anonymous-writes.js";
import { registerAuthHook } from "./http/auth-hook.js";
import {
  clientErrorHandler,
  databaseUnavailable,
  frameworkErrorHandler,
  registerErrorHandling,
  sendProblem,
} from "./http/error-handler.js";
import { recordRoutes, registerNotFoundHandler } from "./http/not-found.js";
import { lazyChildLoggerFactory, levelEnabled } from "./http/request-logger.js";
import { MeSchema, PasswordPolicySchema, ProblemSchema } from "./http/schemas.js";
import { registerSecurityHeaders, securityHeaderSets } from "./http/security-headers.js";
import { createValidatorCompiler, registerControlCharacterGuard } from "./http/validation.js";
import { registerInvitationsRoutes } from "./invitations/invitations.routes.js";
import { registerMultiAccountInviteRoutes } from "./invitations/multi-account-invite.routes.js";
import { registerBulkRoleRoutes } from "./members/bulk-role.routes.js";
import { registerManagedMembersRoutes } from "./members/managed-members.routes.js";
import { registerMemberDetailRoutes } from "./members/member-detail.routes.js";
import { registerMembersRoutes } from "./members/members.routes.js";
import { registerMfaRoutes } from "./mfa/mfa.routes.js";
import { registerPasskeyRoutes } from "./mfa/passkeys.routes.js";
import { registerNotificationsRoutes } from "./notifications/notifications.routes.js";
import { registerConnectedAppsRoutes } from "./oidc/connected-apps.routes.js";
import { registerOidcInteractionRoutes } from "./oidc/oidc.interactions.routes.js";
import { registerOidcMount } from "./oidc/oidc.mount.js";
import { registerOverviewRoutes } from "./overview/overview.routes.js";
import { registerRetentionRoutes } from "./retention/retention.routes.js";
import { registerAssignmentsRoutes } from "./roles/assignments.routes.js";
import { registerRolesRoutes } from "./roles/roles.routes.js";
import type { Services } from "./services.js";
import { registerFilesRoutes } from "./storage/files.routes.js";
import { registerTeamsRoutes } from "./teams/teams.routes.js";
import { registerUploadsRoutes } from "./uploads/uploads.routes.js";
import { registerUsersRoutes } from "./users/users.routes.js";
import { registerWebhooksRoutes } from "./webhooks/webhooks.routes.js";

const WEB_DIST = fileURLToPath(new URL("../web/dist/", import.meta.url));

export function loggerOptions(config: Config): FastifyServerOptions["logger"] {
  return {
    level: config.logLevel,
    // No header is ever logged (so no cookie, authorization or CSRF token): nothing to redact.
    serializers: {
      // Query strings can carry tokens (email links): never log them.
      req: (req) => ({ method: req.method, url: req.url.split("?")[0], remoteAddress: req.ip }),
    },
  };
}

/**
 * One access-log line per request, at its answer; none when the level is above info. Plain fields,
 * never the request object: no header and no query string (tokens in mailed links) can reach the log.
 */
function registerAccessLog(app: FastifyInstance) {
  // No access log without a logger (logger: false) or above info.
  if (!levelEnabled(app.log, "info")) return;
  app.addHook("onResponse", (request, reply, done) => {
    // The URL as it arrived: the OIDC mount rewrites the raw request's URL for the provider.
    const url = request.originalUrl;
    const query = url.indexOf("?");
    // Through the server's logger with the id as a field (the same line a request child writes):
    // request.log is made only when something else logs (see request-logger.ts).
    app.log.info(
      {
        reqId: request.id,
        method: request.method,
        url: query === -1 ? url : url.slice(0, query),
        status: reply.statusCode,
        responseTime: reply.elapsedTime,
        ip: request.ip,
      },
      "request completed",
    );
    done();
  });
  // Debugging only: the request as it starts (a request that never ends shows up here).
  if (levelEnabled(app.log, "debug"))
    app.addHook("onRequest", (request, _reply, done) => {
      const query = request.url.indexOf("?");
      request.log.debug(
        { method: request.method, url: query === -1 ? request.url : request.url.slice(0, query) },
        "incoming request",
      );
      done();
    });
}

/** What the auth hook reads, from the composition root (the benchmarks build the hook the same way). */
export function authHookDependencies(config: Config, services: Services) {
  return {
    sessions: services.sessions,
    apiKeys: services.keyAuthentication,
    keyRateLimit: services.keyRateLimit,
    secret: config.secretKey,
    now: services.clock.now,
    ipAllowlist: services.ipAllowlist,
    accessTokens: services.oidcAccessTokens,
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
  const headerSets = securityHeaderSets({ https: config.secureCookies });
  const app: FastifyInstance = Fastify({
    ...(options.logger === false
      ? { logger: false }
      : options.logger
        ? { loggerInstance: options.logger }
        : { logger: loggerOptions(config) }),
    genReqId: (req) => requestId(req.headers["x-request-id"]),
    childLoggerFactory: lazyChildLoggerFactory,
    // The access log below writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
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
    frameworkErrors: frameworkErrorHandler(headerSets.json),
    clientErrorHandler,
  });
  const routes = recordRoutes(app);
  const sharedSchemas = [ProblemSchema, MeSchema, PasswordPolicySchema];
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.setValidatorCompiler(createValidatorCompiler(sharedSchemas));
  registerErrorHandling(app);

  // While shutting down, answers close their keep-alive connection, so draining ends with the last request.
  let draining = false;
  app.addHook("preClose", async () => {
    draining = true;
    // Live streams never end on their own: end them, or closing would wait for them forever.
    services.notificationHub.closeAll();
  });
  app.addHook("onSend", (request, reply, payload, done) => {
    if (draining) reply.header("connection", "close");
    reply.header("x-request-id", request.id);
    done(null, payload);
  });
  registerAccessLog(app);

  registerSecurityHeaders(app, headerSets);
  registerControlCharacterGuard(app);
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
          apiKey: {
            type: "http",
            scheme: "bearer",
            description: "An API key (`gh_…`): account routes and POST /authz/check; no CSRF token",
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (json.$id as string | undefined) ?? `def-${i}`,
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs", staticCSP: true });

  registerAuthHook(app, authHookDependencies(config, services));
  registerKeyUsageHook(app, services);
  registerDeviceCookie(app, config);
  registerAnonymousWriteLimits(app, services.rateLimiter);

  app.get("/healthz", { config: { auth: "none" }, schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { auth: "none" }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await services.database.ping();
      return { status: "ready" };
    } catch {
      return sendProblem(reply, databaseUnavailable());
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
  registerBulkRoleRoutes(app, services);
  registerAssignmentsRoutes(app, services);
  registerMemberDetailRoutes(app, services);
  registerInvitationsRoutes(app, services, config);
  registerTeamsRoutes(app, services);
  registerAuthzRoutes(app, services);
  registerMfaRoutes(app, services);
  registerPasskeyRoutes(app, services, config);
  registerAuditRoutes(app, services);
  registerApiKeysRoutes(app, services);
  registerApiKeyUsageRoutes(app, services);
  registerBillingRoutes(app, services);
  registerPaymentsRoutes(app, services);
  registerOverviewRoutes(app, services);
  registerEventsRoutes(app);
  registerNotificationsRoutes(app, services);
  registerWebhooksRoutes(app, services);
  registerConnectedAppsRoutes(app, services);
  registerDomainsRoutes(app, services);
  registerBrandingRoutes(app, services);
  await registerUploadsRoutes(app, services);
  registerFilesRoutes(app, services);
  registerRetentionRoutes(app, services);
  registerExportsRoutes(app, services);
  registerClosureRoutes(app, services);
  registerManagedMembersRoutes(app, services);
  registerMultiAccountInviteRoutes(app, services);
  await registerOidcMount(app, services.oidc, config.publicUrl);
  registerOidcInteractionRoutes(app, services, config);
  if (!config.production) registerDevRoutes(app, services);

  const hasWeb = existsSync(WEB_DIST);
  if (hasWeb) await app.register(fastifyStatic, { root: WEB_DIST, wildcard: false, index: false });

  registerNotFoundHandler(app, routes, { webIndex: hasWeb });

  return app;
}
