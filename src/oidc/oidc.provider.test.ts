import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";
import { authorize, createBrowser, discover } from "./oidc.testing.js";

const REDIRECT = "https://notes.example/callback";

describe.each(testDialects())("OpenID Connect provider on %s", (dialect) => {
  let t: TestApp;
  let issuer: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    issuer = `${t.config.publicUrl}/oidc`;
  });
  afterAll(() => t?.close());

  async function addClient(party: "first" | "third", confidential = true, grantTypes?: string[]) {
    return t.services.oidcClients.add(t.services.db, {
      name: party === "first" ? "Notes" : "Partner app",
      confidential,
      party,
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: ["https://notes.example/"],
      ...(grantTypes ? { grantTypes } : {}),
    });
  }

  it("publishes discovery (also at the root) and a JWKS of public keys only", async () => {
    const discovery = await t.app.inject({ method: "GET", url: "/oidc/.well-known/openid-configuration" });
    expect(discovery.statusCode).toBe(200);
    const doc = discovery.json();
    expect(doc.issuer).toBe(issuer);
    expect(doc.authorization_endpoint).toBe(`${issuer}/auth`);
    expect(doc.code_challenge_methods_supported).toEqual(["S256"]);
    expect(doc.scopes_supported).toEqual(
      expect.arrayContaining(["openid", "gatehouse:account", "gatehouse:accounts"]),
    );
    expect(doc.introspection_endpoint).toBe(`${issuer}/token/introspection`);
    expect(doc.revocation_endpoint).toBe(`${issuer}/token/revocation`);
    expect(doc.end_session_endpoint).toBe(`${issuer}/session/end`);
    expect(doc.backchannel_logout_supported).toBe(true);
    const root = await t.app.inject({ method: "GET", url: "/.well-known/openid-configuration" });
    expect(root.statusCode).toBe(308);
    expect(root.headers.location).toBe(`${issuer}/.well-known/openid-configuration`);

    const jwks = (
      await t.app.inject({ method: "GET", url: doc.jwks_uri.replace(t.config.publicUrl, "") })
    ).json();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(jwks.keys[0].d).toBeUndefined();
    // The private key is stored sealed, never as plain JSON.
    const stored = await t.services.db.selectFrom("oidc_signing_keys").selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.kid).toBe(jwks.keys[0].kid);
    expect(stored[0]?.private_jwk_sealed).not.toContain(jwks.keys[0].x);
  });

  it("stores client secrets sealed and shows the secret once; rotation replaces it", async () => {
    const { client, secret } = await addClient("first");
    expect(secret).toBeTruthy();
    const row = await t.services.db
      .selectFrom("oidc_clients")
      .selectAll()
      .where("client_id", "=", client.clientId)
      .executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(secret);
    const rotated = await t.services.oidcClients.rotateSecret(t.services.db, client.clientId);
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(secret);
    // The old secret no longer authenticates the client, the new one does.
    const old = await discover(t.app, issuer, client.clientId, secret);
    await expect(oc.clientCredentialsGrant(old)).rejects.toThrow();
    const listed = await t.services.oidcClients.list(t.services.db);
    expect(listed.map((c) => c.clientId)).toContain(client.clientId);
    expect(await t.services.oidcClients.remove(t.services.db, client.clientId)).toBe(true);
    expect(await t.services.oidcClients.find(t.services.db, client.clientId)).toBeUndefined();
  });

  it("signs in a first-party client with code + PKCE: ID token with the account's claims, refresh rotation, reuse refused", async () => {
    const owner = await signUpAndLogin(t, {
      email: "oidc-owner@example.com",
      name: "Olive Owner",
      account: "Acme",
    });
    const { client, secret } = await addClient("first");
    const config = await discover(t.app, issuer, client.clientId, secret);
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: "openid profile email offline_access gatehouse:account gatehouse:accounts",
      code_challenge: await oc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      prompt: "consent",
    });
    const browser = createBrowser(t.app, owner.client);
    const { callback, interaction } = await authorize(browser, url, {
      approve: true,
      account_id: owner.accountId,
    });
    expect(interaction).toMatchObject({
      client: { client_id: client.clientId, name: "Notes", party: "first", logo_uri: null },
      needs_account: true,
      consent_required: false,
      signed_in: true,
      accounts: [{ account_id: owner.accountId, account_name: "Acme", role: { key: "root" } }],
    });
    const tokens = await oc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: issuer,
      sub: owner.userId,
      email: "oidc-owner@example.com",
      email_verified: true,
      account_id: owner.accountId,
      account_name: "Acme",
      role: { key: "root" },
    });
    expect(claims?.permissions).toEqual(expect.arrayContaining(["members:read"]));
    expect(claims?.accounts).toEqual([
      expect.objectContaining({ account_id: owner.accountId, account_name: "Acme" }),
    ]);
    expect(tokens.expires_in).toBe(300);
    // The access token is a JWT for the API, signed with the published key.
    const [header, payload] = tokens.access_token
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, "base64url").toString()));
    expect(header.typ).toBe("at+jwt");
    expect(payload).toMatchObject({
      aud: `${t.config.publicUrl}/api`,
      sub: owner.userId,
      account_id: owner.accountId,
    });

    const row = await t.services.db.selectFrom("oidc_authorizations").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      client_id: client.clientId,
      user_id: owner.userId,
      account_id: owner.accountId,
    });
    expect(row.session_id).toBeTruthy();

    // Refresh rotates: a new refresh token, and the old one is refused (and revokes the chain).
    const first = tokens.refresh_token as string;
    const refreshed = await oc.refreshTokenGrant(config, first);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    expect(refreshed.claims()?.account_id).toBe(owner.accountId);
    await expect(oc.refreshTokenGrant(config, first)).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(oc.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("requires PKCE from public clients", async () => {
    const { client, secret } = await addClient("first", false);
    expect(secret).toBeNull();
    const config = await discover(t.app, issuer, client.clientId, null);
    const url = oc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: "openid", state: "s" });
    const response = await t.app.inject({ method: "GET", url: `${url.pathname}${url.search}` });
    expect(response.statusCode).toBe(303);
    const back = new URL(response.headers.location as string);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("error_description")).toMatch(/PKCE/);
  });
});
