import type { FastifyInstance } from "fastify";
import { AppError } from "../http/errors.js";
import { OIDC_MOUNT, type OidcProvider } from "./oidc.provider.js";

/**
 * oidc-provider (a Koa app) behind one raw Fastify route: Fastify neither parses the body (the provider
 * reads the stream) nor answers (the reply is hijacked). The provider trusts the forwarded headers that
 * this route sets itself (oidc.provider.ts: `proxy`). `/.well-known/openid-configuration` at the
 * root redirects to the issuer's discovery document. Each request goes to the provider current when it
 * arrives (a key rotation replaces it).
 */
export async function registerOidcMount(app: FastifyInstance, oidc: OidcProvider, publicUrl: string) {
  const pub = new URL(publicUrl);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    const handler = (request: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
      // Koa answers a URL it cannot decode with a bare 500: refuse it here as bad input.
      try {
        decodeURIComponent(request.raw.url ?? "");
      } catch {
        throw new AppError("invalid_url", "The URL is not validly percent-encoded");
      }
      reply.hijack();
      const raw = request.raw as typeof request.raw & { originalUrl?: string };
      // The provider sees the request as addressed to PUBLIC_URL (its endpoints are the issuer's,
      // whatever Host the request came with) from the client address Fastify resolved under TRUST_PROXY.
      raw.headers.host = pub.host;
      raw.headers["x-forwarded-proto"] = pub.protocol.slice(0, -1);
      raw.headers["x-forwarded-for"] = request.ip;
      delete raw.headers["x-forwarded-host"];
      raw.originalUrl = raw.url;
      raw.url = (raw.url ?? "").slice(OIDC_MOUNT.length) || "/";
      oidc.callback()(raw, reply.raw);
    };
    // The protocol's endpoints are described by discovery, not by /openapi.json.
    const options = { schema: { hide: true } };
    scope.all(OIDC_MOUNT, options, handler);
    scope.all(`${OIDC_MOUNT}/*`, options, handler);
  });
  app.get("/.well-known/openid-configuration", { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(`${oidc.provider().issuer}/.well-known/openid-configuration`, 308),
  );
}
