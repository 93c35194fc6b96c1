import type { IncomingMessage } from "node:http";
import type { FastifyInstance } from "fastify";
import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { authorize, createBrowser } from "../../../src/oidc/oidc.testing.js";
import {
  addMember,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../../src/testing/harness.js";
import type { GatehouseAuthOptions } from "../src/index.js";
import { expressHost, fastifyHost, startGatehouse } from "./support.js";

const REDIRECT = "https://host.example/callback";
// `email` and `profile` release the user's address and name; offline_access a refresh token.
const SCOPE = "openid email profile gatehouse:account offline_access";

type Role = { id: string; key: string; name: string; permissions: string[] };

/**
 * The middleware with its defaults (only Gatehouse's URL) against tokens issued by Gatehouse's own
 * provider: code + PKCE and refresh with openid-client for users, client credentials for a backend.
 */
describe.each(testDialects())("middleware with Gatehouse's own tokens on %s", (dialect) => {
  let t: TestApp;
  let url: string;
  let owner: Awaited<ReturnType<typeof signUpAndLogin>>;
  let monitor: Awaited<ReturnType<typeof addMember>>;
  let deployer: Awaited<ReturnType<typeof addMember>>;
  let roles: Role[];
  let deployerKey: string;
  let config: oc.Configuration;
  let backend: oc.Configuration;
  let backendId: string;
  let jwksFetches = 0;
  /** Every request the SDK sends to Gatehouse itself (authz checks, sessions). */
  const sent: string[] = [];
  const countingFetch: typeof fetch = (input, init) => {
    sent.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  const options = (): GatehouseAuthOptions => ({ gatehouseUrl: url, fetch: countingFetch });
  const role = (key: string) => roles.find((r) => r.key === key) as Role;

  beforeAll(async () => {
    ({ t, url } = await startGatehouse(dialect, { PERMISSIONS: "flows:deploy=Deploy flows" }));
    // The SDK fetches the JWKS itself (jose), past `fetch`: count what reaches Gatehouse's own /oidc/jwks.
    // Before Fastify's own listener: the OIDC mount rewrites the URL it hands the provider.
    t.app.server.prependListener("request", (request: IncomingMessage) => {
      if (request.url?.startsWith("/oidc/jwks")) jwksFetches++;
    });
    owner = await signUpAndLogin(t, { email: "tokens-owner@example.com", account: "Flows Co" });
    await onPaidPlan(t, owner.accountId);
    const created = await owner.client.post(`/api/v1/accounts/${owner.accountId}/roles`, {
      name: "Deployer",
      permissions: ["account:read", "flows:deploy"],
    });
    expect(created.statusCode, created.payload).toBe(201);
    deployerKey = created.body.key;
    monitor = await addMember(t, owner, { email: "tokens-monitor@example.com", firstName: "Mo" });
    deployer = await addMember(t, owner, {
      email: "tokens-deployer@example.com",
      roleKey: deployerKey,
      firstName: "Dee",
    });
    roles = (await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`)).body.data;

    const issuer = new URL(`${url}/oidc`);
    const app = await t.services.oidcClients.add(t.services.db, {
      name: "Flows",
      confidential: true,
      party: "first",
      redirectUris: [REDIRECT],
      grantTypes: ["authorization_code", "refresh_token"],
    });
    const appSecret = app.secret as string;
    config = await oc.discovery(issuer, app.client.clientId, appSecret, oc.ClientSecretBasic(appSecret), {
      execute: [oc.allowInsecureRequests],
    });
    const machine = await t.services.oidcClients.add(t.services.db, {
      name: "Flows backend",
      confidential: true,
      party: "first",
      redirectUris: [],
      grantTypes: ["client_credentials"],
    });
    backendId = machine.client.clientId;
    const machineSecret = machine.secret as string;
    backend = await oc.discovery(issuer, backendId, machineSecret, oc.ClientSecretBasic(machineSecret), {
      execute: [oc.allowInsecureRequests],
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Code + PKCE through Gatehouse's login UI as `member`, acting in the owner's account. */
  async function signIn(member: { client: Parameters<typeof createBrowser>[1] }) {
    const verifier = oc.randomPKCECodeVerifier();
    const start = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: SCOPE,
      code_challenge: await oc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: "st",
      // oidc-provider grants offline_access only when consent is prompted (skipped for first parties).
      prompt: "consent",
    });
    const { callback } = await authorize(
      createBrowser(t.app, member.client),
      start,
      { approve: true, account_id: owner.accountId },
      url,
    );
    return oc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: "st" });
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

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

    it("a user's token from code + PKCE: {user, account, role, permissions} of the membership; keys from /oidc/jwks, once", async () => {
      const { access_token: token } = await signIn(monitor);
      const before = jwksFetches;
      const who = await call("GET", "/whoami", bearer(token));
      expect(who.statusCode, who.payload).toBe(200);
      expect(who.json().gatehouse).toEqual({
        user: { id: monitor.userId, email: "tokens-monitor@example.com", name: "Mo Person" },
        client: { id: config.clientMetadata().client_id },
        account: { id: owner.accountId, name: "Flows Co" },
        role: { key: "monitor", name: role("monitor").name },
        permissions: [...role("monitor").permissions].sort(),
      });
      const again = await call("GET", "/whoami", bearer((await signIn(deployer)).access_token));
      expect(again.json().gatehouse.role).toEqual({ key: role(deployerKey).key, name: "Deployer" });
      expect(jwksFetches - before).toBeLessThanOrEqual(1);
      expect(jwksFetches).toBeGreaterThan(0);
    });

    it("requirePermission: the role's permission from the token; one it lacks 403; a host permission through a custom role", async () => {
      const monitorToken = (await signIn(monitor)).access_token;
      sent.length = 0;
      const members = await call("GET", "/members", bearer(monitorToken));
      expect(members.statusCode, members.payload).toBe(200);
      // Answered from the token's permissions: Gatehouse is not asked.
      expect(sent).toEqual([]);

      const refused = await call("POST", "/deploy", bearer(monitorToken));
      expect(refused.statusCode).toBe(403);
      expect(refused.headers["content-type"]).toContain("application/problem+json");
      expect(refused.json()).toMatchObject({ status: 403, code: "forbidden" });
      // Not in the token: Gatehouse decides (POST /authz/check with the user's own token).
      expect(sent).toEqual(["POST /api/v1/authz/check"]);

      sent.length = 0;
      const deploy = await call("POST", "/deploy", bearer((await signIn(deployer)).access_token));
      expect(deploy.statusCode, deploy.payload).toBe(200);
      expect(deploy.json()).toEqual({ deployed: true });
      expect(sent).toEqual([]);
    });

    it("after an admin changes the role, the token of the next refresh carries the new role and permissions", async () => {
      const member = await addMember(t, owner, { email: "tokens-promoted@example.com", firstName: "Pro" });
      const first = await signIn(member);
      const before = await call("GET", "/whoami", bearer(first.access_token));
      expect(before.json().gatehouse.role.key).toBe("monitor");

      const changed = await owner.client.patch(
        `/api/v1/accounts/${owner.accountId}/members/${member.userId}`,
        { role_id: role(deployerKey).id },
      );
      expect(changed.statusCode, changed.payload).toBe(200);
      const refreshed = await oc.refreshTokenGrant(config, first.refresh_token as string);
      const after = await call("GET", "/whoami", bearer(refreshed.access_token));
      expect(after.json().gatehouse).toMatchObject({
        role: { key: role(deployerKey).key, name: "Deployer" },
        permissions: [...role(deployerKey).permissions].sort(),
      });
      expect((await call("POST", "/deploy", bearer(refreshed.access_token))).statusCode).toBe(200);
      // The token issued before the change still says what was true then, until it expires.
      expect((await call("GET", "/whoami", bearer(first.access_token))).json().gatehouse.role.key).toBe(
        "monitor",
      );
    });

    it("revoked and expired: a revoked grant refreshes no more, its access token verifies until it expires, then 401", async () => {
      const tokens = await signIn(monitor);
      await oc.tokenRevocation(config, tokens.refresh_token as string);
      await expect(oc.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
        error: "invalid_grant",
      });
      // Access tokens are verified locally (no call to Gatehouse): still valid until `exp`.
      expect((await call("GET", "/whoami", bearer(tokens.access_token))).statusCode).toBe(200);

      const { exp } = JSON.parse(
        Buffer.from(tokens.access_token.split(".")[1] as string, "base64url").toString(),
      ) as { exp: number };
      vi.useFakeTimers({ toFake: ["Date"] });
      try {
        // Past `exp` and the SDK's 5 s of accepted clock skew.
        vi.setSystemTime((exp + 6) * 1000);
        const expired = await call("GET", "/whoami", bearer(tokens.access_token));
        expect(expired.statusCode).toBe(401);
        expect(expired.json()).toMatchObject({ status: 401, code: "invalid_token" });
        expect((await call("GET", "/members", bearer(tokens.access_token))).statusCode).toBe(401);
      } finally {
        vi.useRealTimers();
      }
    });

    it("a backend's client credentials token verifies as the client, with no user or account: guarded actions 403", async () => {
      const { access_token: token } = await oc.clientCredentialsGrant(backend, { scope: "gatehouse:authz" });
      const who = await call("GET", "/whoami", bearer(token));
      expect(who.statusCode, who.payload).toBe(200);
      expect(who.json().gatehouse).toEqual({
        user: null,
        client: { id: backendId },
        account: null,
        role: null,
        permissions: [],
      });
      const refused = await call("GET", "/members", bearer(token));
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe("forbidden");
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

    it("the same tokens: identity, the role's permission allowed, one it lacks 403, the host permission allowed", async () => {
      const monitorToken = (await signIn(monitor)).access_token;
      const who = await host.request("GET", "/whoami", bearer(monitorToken));
      expect(who.status).toBe(200);
      expect(who.body.gatehouse).toEqual({
        user: { id: monitor.userId, email: "tokens-monitor@example.com", name: "Mo Person" },
        client: { id: config.clientMetadata().client_id },
        account: { id: owner.accountId, name: "Flows Co" },
        role: { key: "monitor", name: role("monitor").name },
        permissions: [...role("monitor").permissions].sort(),
      });
      expect((await host.request("GET", "/members", bearer(monitorToken))).status).toBe(200);
      expect(await host.request("POST", "/deploy", bearer(monitorToken))).toMatchObject({
        status: 403,
        body: { code: "forbidden" },
      });
      const deployerToken = (await signIn(deployer)).access_token;
      expect(await host.request("POST", "/deploy", bearer(deployerToken))).toMatchObject({
        status: 200,
        body: { deployed: true },
      });
      const forged = `${monitorToken.slice(0, -4)}AAAA`;
      expect(await host.request("GET", "/whoami", bearer(forged))).toMatchObject({
        status: 401,
        body: { code: "invalid_token" },
      });
    });
  });

  it("a token signed after a key rotation verifies (the JWKS is fetched again); tokens of the retired key still do", async () => {
    // Last: the hosts above (default cooldown, 30 s) would refuse the new key's tokens until their
    // cooldown passes. jose refetches for an unknown key id once it has (0 here).
    const host = await fastifyHost({ ...options(), jwksCooldownMs: 0 });
    try {
      const old = (await signIn(monitor)).access_token;
      const whoami = (token: string) => host.inject({ url: "/whoami", headers: bearer(token) });
      expect((await whoami(old)).statusCode).toBe(200);
      const before = jwksFetches;
      // What `gatehouse oidc keys rotate` does (without its audit event).
      const { rotated } = await t.services.oidcKeyRotation.rotateNow(async () => {});
      expect(rotated).toBeTruthy();
      const fresh = (await signIn(monitor)).access_token;
      const kid = (token: string) =>
        JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString()).kid;
      expect(kid(fresh)).not.toBe(kid(old));
      const response = await whoami(fresh);
      expect(response.statusCode, response.payload).toBe(200);
      expect(response.json().gatehouse.user.id).toBe(monitor.userId);
      expect(jwksFetches).toBe(before + 1);
      expect((await whoami(old)).statusCode).toBe(200);
    } finally {
      await host.close();
    }
  });
});
