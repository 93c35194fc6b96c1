import http from "node:http";
import { type AddressInfo, createServer } from "node:net";
import express from "express";
import Fastify from "fastify";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { createTestApp, type Dialect, type TestApp } from "../../../src/testing/harness.js";
import { requirePermission as expressPermission, gatehouseExpress } from "../src/express.js";
import { gatehouseFastify, requirePermission } from "../src/fastify.js";
import type { GatehouseAuthOptions } from "../src/index.js";

/** A free TCP port: Gatehouse's PUBLIC_URL (its tokens' issuer) must be known before it listens. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real Gatehouse (createTestApp) listening on a free port of 127.0.0.1, with that address as its
 * PUBLIC_URL: the issuer, audience and JWKS of the tokens it issues are the SDK's defaults for `url`.
 */
export async function startGatehouse(
  dialect: Dialect,
  env: Record<string, string> = {},
): Promise<{ t: TestApp; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t = await createTestApp(dialect, { PUBLIC_URL: url, ...env });
  await t.app.listen({ port, host: "127.0.0.1" });
  return { t, url };
}

/** A host product on Fastify: who am I, and actions behind permissions. */
export async function fastifyHost(options: GatehouseAuthOptions) {
  const app = Fastify();
  app.addHook("onRequest", gatehouseFastify(options));
  app.get("/whoami", async (request) => ({ gatehouse: request.gatehouse }));
  app.post("/deploy", { preHandler: requirePermission("flows:deploy") }, async () => ({ deployed: true }));
  app.get("/members", { preHandler: requirePermission("members:read") }, async () => ({ members: [] }));
  await app.ready();
  return app;
}

/** The same host product on Express, listening on a free port. */
export async function expressHost(options: GatehouseAuthOptions) {
  const app = express();
  app.use(gatehouseExpress(options));
  app.get("/whoami", (req, res) => {
    res.json({ gatehouse: req.gatehouse });
  });
  app.post("/deploy", expressPermission("flows:deploy"), (_req, res) => {
    res.json({ deployed: true });
  });
  app.get("/members", expressPermission("members:read"), (_req, res) => {
    res.json({ members: [] });
  });
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    request: async (method: string, path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${base}${path}`, { method, headers });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A stand-in issuer for tokens Gatehouse's provider would not issue (another audience, already expired, a
 * claim it would not put there): an ES256 key pair and a node:http server publishing its JWKS, signing
 * RFC 9068 access tokens. Tokens of Gatehouse's own provider: provider-tokens.test.ts.
 */
export async function startTokenIssuer(options: { issuer: string; audience: string }) {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/jwk-set+json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}/oidc/jwks`,
    async sign(
      claims: Record<string, unknown> & { sub: string },
      overrides: { audience?: string; expiresAt?: number } = {},
    ) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: "key-1", typ: "at+jwt" })
        .setIssuer(options.issuer)
        .setAudience(overrides.audience ?? options.audience)
        .setIssuedAt(now - 10)
        .setExpirationTime(overrides.expiresAt ?? now + 300)
        .setJti(crypto.randomUUID())
        .sign(privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
