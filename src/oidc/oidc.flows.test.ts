import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";
import { authorize, createBrowser, discover } from "./oidc.testing.js";

const REDIRECT = "https://partner.example/callback";
const LOGGED_OUT = "https://partner.example/bye";

describe.each(testDialects())("OpenID Connect flows on %s", (dialect) => {
  let t: TestApp;
  let issuer: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    issuer = `${t.config.publicUrl}/oidc`;
  });
  afterAll(() => t?.close());

  async function addClient(party: "first" | "third", grantTypes = ["authorization_code", "refresh_token"]) {
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: "Partner app",
      confidential: true,
      party,
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [LOGGED_OUT],
      grantTypes,
    });
    return {
      client,
      config: await discover(t.app, issuer, client.clientId, secret),
      secret: secret as string,
    };
  }

  async function startAuthorization(config: oc.Configuration, scope: string) {
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await oc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: "st",
      prompt: "consent",
    });
    return { url, verifier };
  }

  /** Follows the authorization request to the login UI and returns the interaction's uid. */
  async function openInteraction(browser: ReturnType<typeof createBrowser>, url: URL) {
    const response = await browser.request("GET", url.href);
    expect(response.statusCode).toBe(303);
    const location = new URL(response.headers.location as string);
    expect(location.origin).toBe(t.config.publicUrl);
    const uid = /^\/authorize\/(.+)$/.exec(location.pathname)?.[1];
    expect(uid).toBeTruthy();
    return uid as string;
  }

  it("third-party clients show consent; deny sends access_denied; account choice is checked; only the starting browser may finish", async () => {
    const owner = await signUpAndLogin(t, { email: "consent-owner@example.com", account: "Consenting" });
    const other = await signUpAndLogin(t, { email: "consent-other@example.com", account: "Elsewhere" });
    const { config } = await addClient("third");
    const browser = createBrowser(t.app, owner.client);

    const { url } = await startAuthorization(config, "openid gatehouse:account");
    const uid = await openInteraction(browser, url);
    const details = await browser.request("GET", `/api/v1/oidc/interactions/${uid}`);
    expect(details.json()).toMatchObject({
      uid,
      consent_required: true,
      needs_account: true,
      signed_in: true,
    });
    expect(details.json().scopes).toEqual(["openid", "gatehouse:account"]);

    // Signed out: the details still answer (the page then sends the browser to log in).
    const anonymous = await t.app.inject({ method: "GET", url: `/api/v1/oidc/interactions/${uid}` });
    expect(anonymous.json()).toMatchObject({ signed_in: false, accounts: [] });
    const unknown = await t.app.inject({ method: "GET", url: "/api/v1/oidc/interactions/nope" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe("interaction_not_found");

    const complete = `/api/v1/oidc/interactions/${uid}/complete`;
    const missing = await browser.request("POST", complete, { approve: true });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().code).toBe("invalid_fields");
    const notMember = await browser.request("POST", complete, { approve: true, account_id: other.accountId });
    expect(notMember.statusCode).toBe(403);
    // Another browser (the other user, without this request's cookie) cannot finish it.
    const hijack = await other.client.post(complete, { approve: true, account_id: other.accountId });
    expect(hijack.statusCode).toBe(403);
    expect(hijack.json().code).toBe("forbidden");

    const denied = await browser.request("POST", complete, { approve: false });
    expect(denied.statusCode).toBe(200);
    const { callback } = await authorize(browser, new URL(denied.json().redirect_to), undefined);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get("error")).toBe("access_denied");
  });

  it("a role change shows on the next refresh; a suspension ends refreshes", async () => {
    const owner = await signUpAndLogin(t, { email: "refresh-owner@example.com", account: "Refreshing" });
    const member = await addMember(t, owner, { email: "refresh-member@example.com", roleKey: "monitor" });
    const { config } = await addClient("first");
    const { url, verifier } = await startAuthorization(config, "openid offline_access gatehouse:account");
    const { callback } = await authorize(createBrowser(t.app, member.client), url, {
      approve: true,
      account_id: owner.accountId,
    });
    const tokens = await oc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: "st",
    });
    expect(tokens.claims()?.role).toMatchObject({ key: "monitor" });

    const roles = await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`);
    const admin = (roles.body.data as Array<{ id: string; key: string }>).find((r) => r.key === "admin");
    const changed = await owner.client.patch(`/api/v1/accounts/${owner.accountId}/members/${member.userId}`, {
      role_id: admin?.id,
    });
    expect(changed.statusCode).toBe(200);
    const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.claims()?.role).toMatchObject({ key: "admin" });

    const suspended = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${member.userId}/suspend`,
    );
    expect(suspended.statusCode).toBe(200);
    await expect(oc.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: "invalid_grant",
    });
  });

  it("prompt=select_account: the user chooses the account again, and the tokens follow the choice", async () => {
    const owner = await signUpAndLogin(t, { email: "choose-owner@example.com", account: "Chosen First" });
    const member = await addMember(t, owner, { email: "choose-member@example.com", roleKey: "monitor" });
    const own = await member.client.post("/api/v1/accounts", { name: "Chosen Second" });
    expect(own.statusCode).toBe(201);
    const second = own.body.id as string;
    const { config } = await addClient("first");
    const browser = createBrowser(t.app, member.client);
    const signIn = async (prompt: string | undefined, account: string) => {
      const verifier = oc.randomPKCECodeVerifier();
      const url = oc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: "openid gatehouse:account",
        code_challenge: await oc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: "st",
        ...(prompt ? { prompt } : {}),
      });
      const { callback, uid, interaction } = await authorize(browser, url, {
        approve: true,
        account_id: account,
      });
      const tokens = await oc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: "st",
      });
      const access = JSON.parse(
        Buffer.from(tokens.access_token.split(".")[1] as string, "base64url").toString(),
      );
      return { uid, interaction, claims: tokens.claims(), access };
    };

    const first = await signIn(undefined, owner.accountId);
    expect(first.interaction?.accounts).toHaveLength(2);
    expect(first.claims).toMatchObject({ account_id: owner.accountId, role: { key: "monitor" } });
    expect(first.access.account_id).toBe(owner.accountId);

    // Signed in and authorized already: without a prompt the application gets the same account at once.
    const again = await signIn(undefined, second);
    expect(again.uid).toBeUndefined();
    expect(again.claims).toMatchObject({ account_id: owner.accountId });

    // "Switch account": the chooser again, and the chosen account (with its role) in the new tokens.
    const switched = await signIn("select_account", second);
    expect(switched.uid).toBeTruthy();
    expect(switched.claims).toMatchObject({ account_id: second, role: { key: "root" } });
    expect(switched.access.account_id).toBe(second);
  });

  it("introspects and revokes tokens (RFC 7662, RFC 7009) and builds the RP-initiated logout URL", async () => {
    const owner = await signUpAndLogin(t, { email: "introspect@example.com", account: "Introspected" });
    const { client, config } = await addClient("first");
    const { url, verifier } = await startAuthorization(config, "openid offline_access gatehouse:account");
    const browser = createBrowser(t.app, owner.client);
    const { callback } = await authorize(browser, url, { approve: true, account_id: owner.accountId });
    const tokens = await oc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: "st",
    });

    // Access tokens are JWTs (verified with the JWKS); oidc-provider introspects the stored tokens.
    await expect(oc.tokenIntrospection(config, tokens.access_token)).rejects.toMatchObject({
      error: "unsupported_token_type",
    });
    const refresh = tokens.refresh_token as string;
    expect(await oc.tokenIntrospection(config, refresh)).toMatchObject({
      active: true,
      sub: owner.userId,
      client_id: client.clientId,
    });
    await oc.tokenRevocation(config, refresh);
    expect((await oc.tokenIntrospection(config, refresh)).active).toBe(false);
    await expect(oc.refreshTokenGrant(config, refresh)).rejects.toMatchObject({ error: "invalid_grant" });

    // Another client cannot revoke this client's tokens.
    const { config: stranger } = await addClient("third");
    const { url: url2, verifier: verifier2 } = await startAuthorization(config, "openid offline_access");
    const { callback: callback2 } = await authorize(browser, url2, { approve: true });
    const second = await oc.authorizationCodeGrant(config, callback2, {
      pkceCodeVerifier: verifier2,
      expectedState: "st",
    });
    await expect(oc.tokenRevocation(stranger, second.refresh_token as string)).rejects.toThrow();
    expect((await oc.tokenIntrospection(config, second.refresh_token as string)).active).toBe(true);

    const logout = oc.buildEndSessionUrl(config, {
      id_token_hint: second.id_token as string,
      post_logout_redirect_uri: LOGGED_OUT,
      state: "bye",
    });
    expect(logout.href.startsWith(`${issuer}/session/end`)).toBe(true);
    const page = await browser.request("GET", logout.href);
    // oidc-provider asks the browser to confirm the logout (a form posting to its confirm endpoint).
    expect(page.statusCode).toBe(200);
    expect(page.payload).toContain("/oidc/session/end/confirm");
  });

  it("client credentials: a token for the API without a user", async () => {
    const { client, config } = await addClient("first", ["client_credentials"]);
    const token = await oc.clientCredentialsGrant(config, { scope: "gatehouse:authz" });
    expect(token.token_type.toLowerCase()).toBe("bearer");
    const payload = JSON.parse(
      Buffer.from(token.access_token.split(".")[1] as string, "base64url").toString(),
    );
    expect(payload).toMatchObject({
      aud: `${t.config.publicUrl}/api`,
      client_id: client.clientId,
      scope: "gatehouse:authz",
    });
    // No user: the subject is the client itself.
    expect(payload.sub).toBe(client.clientId);
    expect(payload.account_id).toBeUndefined();
    // A client without the grant type is refused.
    const { config: codeOnly } = await addClient("first");
    await expect(oc.clientCredentialsGrant(codeOnly)).rejects.toThrow(/response body/);
  });
});
