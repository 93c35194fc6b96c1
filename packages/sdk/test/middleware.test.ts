import type { AddressInfo } from "node:net";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createApiKey,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../../src/testing/harness.js";
import { requirePermission as expressPermission, gatehouseExpress } from "../src/express.js";
import { gatehouseFastify, requirePermission } from "../src/fastify.js";
import { createGatehouseAuth, type GatehouseAuthOptions } from "../src/index.js";
import { startGatehouse, startTokenIssuer } from "./support.js";

const ISSUER = "http://gatehouse.test/oidc";
const AUDIENCE = "http://gatehouse.test/api";

/** A host product on Fastify: who am I, and one action behind a permission. */
async function fastifyHost(options: GatehouseAuthOptions) {
  const app = Fastify();
  app.addHook("onRequest", gatehouseFastify(options));
  app.get("/whoami", async (request) => ({ gatehouse: request.gatehouse }));
  app.post("/deploy", { preHandler: requirePermission("flows:deploy") }, async () => ({ deployed: true }));
  await app.ready();
  return app;
}

/** The same host product on Express, listening on a free port. */
async function expressHost(options: GatehouseAuthOptions) {
  const app = express();
  app.use(gatehouseExpress(options));
  app.get("/whoami", (req, res) => {
    res.json({ gatehouse: req.gatehouse });
  });
  app.post("/deploy", expressPermission("flows:deploy"), (_req, res) => {
    res.json({ deployed: true });
  });
  const server = await new Promise<import("node:http").Server>((resolve) => {
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

describe.each(testDialects())("middleware on %s", (dialect) => {
  let t: TestApp;
  let url: string;
  let issuer: Awaited<ReturnType<typeof startTokenIssuer>>;
  let owner: Awaited<ReturnType<typeof signUpAndLogin>>;
  let monitor: Awaited<ReturnType<typeof addMember>>;
  let monitorId: string;
  let apiKey: string;
  /** Every request the SDK sends to Gatehouse (real fetch, counted). */
  const sent: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    sent.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };

  const ownerClaims = () => ({
    sub: owner.userId,
    email: "sdk-owner@example.com",
    email_verified: true,
    name: "Olga Owner",
    account_id: owner.accountId,
    account_name: "Flows Co",
    role: { key: "root", name: "Root" },
  });
  const monitorClaims = (permissions: string[]) => ({
    sub: monitorId,
    email: "sdk-monitor@example.com",
    email_verified: true,
    name: "Mo Nitor",
    account_id: owner.accountId,
    account_name: "Flows Co",
    role: { key: "monitor", name: "Monitor" },
    permissions,
  });
  const options = (extra: Partial<GatehouseAuthOptions> = {}): GatehouseAuthOptions => ({
    gatehouseUrl: url,
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: issuer.jwksUri,
    apiKey,
    fetch: countingFetch,
    ...extra,
  });

  beforeAll(async () => {
    ({ t, url } = await startGatehouse(dialect, { PERMISSIONS: "flows:deploy=Deploy flows" }));
    issuer = await startTokenIssuer({ issuer: ISSUER, audience: AUDIENCE });
    owner = await signUpAndLogin(t, {
      email: "sdk-owner@example.com",
      name: "Olga Owner",
      account: "Flows Co",
    });
    monitor = await addMember(t, owner, { email: "sdk-monitor@example.com", roleKey: "monitor" });
    const me = await monitor.client.get("/api/v1/me");
    monitorId = me.body.id;
    apiKey = (await createApiKey(owner, ["members:read"])).secret;
  });
  afterAll(async () => {
    await issuer?.close();
    await t?.close();
  });

  describe("Fastify", () => {
    let host: FastifyInstance;
    beforeAll(async () => {
      host = await fastifyHost(options());
    });
    afterAll(async () => {
      await host?.close();
    });
    const call = (method: "GET" | "POST", path: string, headers: Record<string, string> = {}) =>
      host.inject({ method, url: path, headers });

    it("a valid access token puts {user, account, role, permissions} on the request; keys are fetched once", async () => {
      const token = await issuer.sign(monitorClaims(["account:read", "members:read"]));
      const fetchesBefore = issuer.fetches;
      const first = await call("GET", "/whoami", { authorization: `Bearer ${token}` });
      expect(first.statusCode, first.payload).toBe(200);
      expect(first.json().gatehouse).toEqual({
        user: { id: monitorId, email: "sdk-monitor@example.com", name: "Mo Nitor" },
        account: { id: owner.accountId, name: "Flows Co" },
        role: { key: "monitor", name: "Monitor" },
        permissions: ["account:read", "members:read"],
      });
      const again = await call("GET", "/whoami", {
        authorization: `Bearer ${await issuer.sign(ownerClaims())}`,
      });
      expect(again.json().gatehouse.user.id).toBe(owner.userId);
      expect(again.json().gatehouse.permissions).toEqual([]);
      expect(issuer.fetches - fetchesBefore).toBeLessThanOrEqual(1);
    });

    it("a token for another audience, an expired one and a forged one get 401 invalid_token", async () => {
      const other = await issuer.sign(ownerClaims(), { audience: "https://other.example/api" });
      const expired = await issuer.sign(ownerClaims(), { expiresAt: Math.floor(Date.now() / 1000) - 60 });
      const valid = await issuer.sign(ownerClaims());
      const [head, body] = valid.split(".");
      const forged = `${head}.${Buffer.from(JSON.stringify({ ...ownerClaims(), sub: monitorId })).toString("base64url")}.${valid.split(".")[2]}`;
      for (const token of [other, expired, forged, `${head}.${body}`]) {
        const response = await call("GET", "/whoami", { authorization: `Bearer ${token}` });
        expect(response.statusCode).toBe(401);
        expect(response.headers["content-type"]).toContain("application/problem+json");
        expect(response.json().code).toBe("invalid_token");
      }
      expect((await call("GET", "/whoami")).json()).toEqual({ gatehouse: null });
      expect((await call("POST", "/deploy")).statusCode).toBe(401);
    });

    it("the permission in the token allows without asking Gatehouse; missing, Gatehouse refuses: 403", async () => {
      sent.length = 0;
      // Gatehouse would say no (a Monitor): the token's claim decides, and Gatehouse is not asked.
      const withIt = await issuer.sign(monitorClaims(["flows:deploy"]));
      const allowed = await call("POST", "/deploy", { authorization: `Bearer ${withIt}` });
      expect(allowed.statusCode, allowed.payload).toBe(200);
      expect(allowed.json()).toEqual({ deployed: true });
      expect(sent).toEqual([]);

      const without = await issuer.sign(monitorClaims(["account:read"]));
      const refused = await call("POST", "/deploy", { authorization: `Bearer ${without}` });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ status: 403, code: "forbidden" });
      expect(sent).toEqual(["POST /api/v1/authz/check"]);
    });

    it("a permission not in the token is asked of POST /authz/check and the answer is reused for 30 s", async () => {
      sent.length = 0;
      const token = await issuer.sign(ownerClaims());
      for (let i = 0; i < 3; i++) {
        const response = await call("POST", "/deploy", { authorization: `Bearer ${token}` });
        expect(response.statusCode, response.payload).toBe(200);
      }
      expect(sent).toEqual(["POST /api/v1/authz/check"]);
    });

    it("a token signed by a key rotated in after the first fetch verifies (the JWKS is fetched again)", async () => {
      // jose refetches for an unknown key id once its cooldown has passed (30 s by default; 0 here).
      const rotating = await fastifyHost(
        options({ jwksCooldownMs: 0, jwksUri: `${issuer.jwksUri}?rotation` }),
      );
      try {
        const old = await issuer.sign(ownerClaims());
        expect(
          (await rotating.inject({ url: "/whoami", headers: { authorization: `Bearer ${old}` } })).statusCode,
        ).toBe(200);
        const fetchesBefore = issuer.fetches;
        await issuer.rotate();
        const fresh = await issuer.sign(ownerClaims());
        const response = await rotating.inject({
          url: "/whoami",
          headers: { authorization: `Bearer ${fresh}` },
        });
        expect(response.statusCode, response.payload).toBe(200);
        expect(response.json().gatehouse.user.id).toBe(owner.userId);
        expect(issuer.fetches).toBe(fetchesBefore + 1);
        // Tokens of the previous key still verify while it is published.
        const older = await issuer.sign(ownerClaims(), { kid: "key-1" });
        expect(
          (await rotating.inject({ url: "/whoami", headers: { authorization: `Bearer ${older}` } }))
            .statusCode,
        ).toBe(200);
      } finally {
        await rotating.close();
      }
    });

    it("a Gatehouse session cookie is read through GET /session; permissions are checked with the user's own session", async () => {
      // No API key: the user asks about themselves with their cookie and CSRF token.
      const cookieHost = await fastifyHost(options({ apiKey: undefined }));
      try {
        const ownerCookie = { cookie: `theme=dark; gatehouse_session=${owner.client.cookie}` };
        const who = await cookieHost.inject({ url: "/whoami", headers: ownerCookie });
        expect(who.statusCode, who.payload).toBe(200);
        expect(who.json().gatehouse).toEqual({
          user: { id: owner.userId, email: "sdk-owner@example.com", name: "Olga Owner" },
          account: { id: owner.accountId, name: "Flows Co" },
          role: { key: "root", name: "Root" },
          permissions: [],
        });
        const deploy = await cookieHost.inject({ method: "POST", url: "/deploy", headers: ownerCookie });
        expect(deploy.statusCode, deploy.payload).toBe(200);

        const monitorCookie = { cookie: `gatehouse_session=${monitor.client.cookie}` };
        const refused = await cookieHost.inject({ method: "POST", url: "/deploy", headers: monitorCookie });
        expect(refused.statusCode).toBe(403);

        const unknown = await cookieHost.inject({
          url: "/whoami",
          headers: { cookie: "gatehouse_session=nope" },
        });
        expect(unknown.statusCode).toBe(401);
      } finally {
        await cookieHost.close();
      }
    });
  });

  describe("Express", () => {
    let host: Awaited<ReturnType<typeof expressHost>>;
    beforeAll(async () => {
      host = await expressHost(options());
    });
    afterAll(async () => {
      await host?.close();
    });

    it("verifies tokens, guards the action and reads session cookies", async () => {
      // The first key: this host's key set was fetched before the rotation test added another.
      const key1 = { kid: "key-1" };
      const token = await issuer.sign(monitorClaims(["flows:deploy"]), key1);
      const who = await host.request("GET", "/whoami", { authorization: `Bearer ${token}` });
      expect(who.status).toBe(200);
      expect(who.body.gatehouse).toMatchObject({ user: { id: monitorId }, role: { key: "monitor" } });
      expect((await host.request("POST", "/deploy", { authorization: `Bearer ${token}` })).status).toBe(200);

      const without = await issuer.sign(monitorClaims([]), key1);
      const refused = await host.request("POST", "/deploy", { authorization: `Bearer ${without}` });
      expect(refused).toMatchObject({ status: 403, body: { code: "forbidden" } });

      const expired = await issuer.sign(ownerClaims(), { expiresAt: Math.floor(Date.now() / 1000) - 60 });
      const stale = await host.request("GET", "/whoami", { authorization: `Bearer ${expired}` });
      expect(stale).toMatchObject({ status: 401, body: { code: "invalid_token" } });
      expect((await host.request("POST", "/deploy")).status).toBe(401);

      const viaCookie = await host.request("GET", "/whoami", {
        cookie: `gatehouse_session=${owner.client.cookie}`,
      });
      expect(viaCookie.body.gatehouse).toMatchObject({ user: { id: owner.userId }, role: { key: "root" } });
    });
  });

  it("createGatehouseAuth defaults the issuer, audience and JWKS to Gatehouse's URL", () => {
    const auth = createGatehouseAuth({ gatehouseUrl: "https://id.example.com/" });
    expect(auth.verifyOptions).toEqual({
      issuer: "https://id.example.com/oidc",
      audience: "https://id.example.com/api",
      jwksUri: "https://id.example.com/oidc/jwks",
    });
  });
});
