import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";
import { authorize, createBrowser, discover } from "./oidc.testing.js";

const REDIRECT = "https://notes.example/callback";

describe.each(testDialects())("Bearer access tokens on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const call = (method: "GET" | "POST", url: string, token: string, body?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });

  it("a user's access token calls GET /me and POST /authz/check as that user in its account; bad tokens are 401 invalid_token", async () => {
    const owner = await signUpAndLogin(t, { email: "bearer-owner@example.com", account: "Bearing" });
    const other = await signUpAndLogin(t, { email: "bearer-other@example.com", account: "Other" });
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: "Notes",
      confidential: true,
      party: "first",
      redirectUris: [REDIRECT],
    });
    const config = await discover(t.app, `${t.config.publicUrl}/oidc`, client.clientId, secret);
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: "openid gatehouse:account",
      code_challenge: await oc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: "s",
    });
    const { callback } = await authorize(createBrowser(t.app, owner.client), url, {
      approve: true,
      account_id: owner.accountId,
    });
    const { access_token: token } = await oc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: "s",
    });

    const me = await call("GET", "/api/v1/me", token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: owner.userId, email: "bearer-owner@example.com" });

    const check = await call("POST", "/api/v1/authz/check", token, {
      account_id: owner.accountId,
      user_id: owner.userId,
      permission: "members:read",
    });
    expect(check.statusCode).toBe(200);
    expect(check.json()).toEqual({ allowed: true, reason: "granted" });
    // The token's account only: another account looks like one that does not exist.
    const members = await call("GET", `/api/v1/accounts/${owner.accountId}/members`, token);
    expect(members.statusCode).toBe(200);
    const elsewhere = await call("GET", `/api/v1/accounts/${other.accountId}/members`, token);
    expect(elsewhere.statusCode).toBe(404);
    // Not a session: routes outside accounts (API keys, password…) refuse it.
    expect((await call("GET", "/api/v1/me/sessions", token)).statusCode).toBe(403);

    for (const bad of ["not-a-jwt", `${token.slice(0, -4)}AAAA`]) {
      const refused = await call("GET", "/api/v1/me", bad);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe("invalid_token");
      expect(refused.headers["www-authenticate"]).toContain("invalid_token");
    }
    // API keys keep working as before (gh_… is never read as an access token).
    expect((await call("GET", "/api/v1/me", "gh_nope")).json().code).toBe("invalid_api_key");
  });

  it("a client credentials token is accepted by POST /authz/check only", async () => {
    const owner = await signUpAndLogin(t, { email: "cc-owner@example.com", account: "Machine" });
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: "Notes backend",
      confidential: true,
      party: "first",
      redirectUris: [],
      grantTypes: ["client_credentials"],
    });
    const config = await discover(t.app, `${t.config.publicUrl}/oidc`, client.clientId, secret);
    const { access_token: token } = await oc.clientCredentialsGrant(config, { scope: "gatehouse:authz" });
    const check = await call("POST", "/api/v1/authz/check", token, {
      checks: [
        { account_id: owner.accountId, user_id: owner.userId, permission: "members:read" },
        { account_id: owner.accountId, user_id: "usr_nobody", permission: "members:read" },
      ],
    });
    expect(check.statusCode).toBe(200);
    expect(check.json().results).toEqual([
      { allowed: true, reason: "granted" },
      { allowed: false, reason: "not_member" },
    ]);
    const me = await call("GET", "/api/v1/me", token);
    expect(me.statusCode).toBe(403);
    expect((await call("GET", `/api/v1/accounts/${owner.accountId}/members`, token)).statusCode).toBe(403);
  });
});
