import type { FastifyInstance } from "fastify";
import type Provider from "oidc-provider";
import { OIDC_MOUNT } from "./oidc.provider.js";

/**
 * oidc-provider (a Koa app) behind one raw Fastify route: Fastify neither parses the body (the provider
 * reads the stream) nor answers (the reply is hijacked). The provider trusts the forwarded headers that
 * this route sets itself (oidc.provider.ts: `proxy`). `/.well-known/openid-configuration` at the
 * root redirects to the issuer's discovery document.
 */
export async function registerOidcMount(app: FastifyInstance, provider: Provider, publicUrl: string) {
  const callback = provider.callback();
  const pub = new URL(publicUrl);
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    const handler = (request: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
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
      callback(raw, reply.raw);
    };
    scope.all(OIDC_MOUNT, handler);
    scope.all(`${OIDC_MOUNT}/*`, handler);
  });
  app.get("/.well-known/openid-configuration", async (_request, reply) =>
    reply.redirect(`${provider.issuer}/.well-known/openid-configuration`, 308),
  );
}
