import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createApiKey,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../../src/testing/harness.js";
import { createGatehouseAuth, type GatehouseAuthOptions } from "../src/index.js";
import { expressHost, fastifyHost, startGatehouse, startTokenIssuer } from "./support.js";

const ISSUER = "http://gatehouse.test/oidc";
const AUDIENCE = "http://gatehouse.test/api";

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

    it("a permission not in the token is asked of POST /authz/check and the answer is reused for 30 s", async () => {
      sent.length = 0;
      const token = await issuer.sign(ownerClaims());
      for (let i = 0; i < 3; i++) {
        const response = await call("POST", "/deploy", { authorization: `Bearer ${token}` });
        expect(response.statusCode, response.payload).toBe(200);
      }
      expect(sent).toEqual(["POST /api/v1/authz/check"]);
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
          client: null,
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

    it("reads session cookies; without a caller the guarded action is 401", async () => {
      expect((await host.request("POST", "/deploy")).status).toBe(401);
      const viaCookie = await host.request("GET", "/whoami", {
        cookie: `gatehouse_session=${owner.client.cookie}`,
      });
      expect(viaCookie.body.gatehouse).toMatchObject({ user: { id: owner.userId }, role: { key: "root" } });
      const deploy = await host.request("POST", "/deploy", {
        cookie: `gatehouse_session=${owner.client.cookie}`,
      });
      expect(deploy).toMatchObject({ status: 200, body: { deployed: true } });
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
