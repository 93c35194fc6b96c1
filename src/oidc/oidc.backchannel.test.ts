import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { BACKCHANNEL_LOGOUT_EVENT } from "./oidc.backchannel.js";
import { discover, signInWithCode } from "./oidc.testing.js";

const REDIRECT = "https://notes.example/callback";

/** A host product's back-channel logout endpoint: a real HTTP server that keeps every logout token. */
async function startReceiver() {
  const tokens: string[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      const token = new URLSearchParams(body).get("logout_token");
      if (token) tokens.push(token);
      response.writeHead(token ? 200 : 400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel`,
    tokens,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(testDialects())("back-channel logout on %s", (dialect) => {
  let t: TestApp;
  let issuer: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let clientId: string;
  let config: oc.Configuration;
  beforeAll(async () => {
    // The receiver listens on loopback: outbound HTTP to private networks is allowed only by this setting.
    t = await createTestApp(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    issuer = `${t.config.publicUrl}/oidc`;
    receiver = await startReceiver();
    const added = await t.services.oidcClients.add(t.services.db, {
      name: "Notes",
      confidential: true,
      party: "first",
      redirectUris: [REDIRECT],
      grantTypes: ["authorization_code", "refresh_token"],
      backchannelLogoutUri: receiver.url,
    });
    clientId = added.client.clientId;
    config = await discover(t.app, issuer, clientId, added.secret);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** Signs `user` in to the client with code + PKCE in `accountId`; its tokens and session id (`sid`). */
  async function signIn(user: Client, accountId: string) {
    const tokens = await signInWithCode(t.app, config, user, { accountId, redirectUri: REDIRECT });
    return { tokens, sid: tokens.claims()?.sid as string };
  }

  /** The logout tokens that arrived since `from`, verified as a relying party would (JWKS, iss, aud). */
  async function logoutTokensSince(from: number) {
    await t.services.oidcBackchannel.idle();
    const jwks = createLocalJWKSet(
      (await t.app.inject({ method: "GET", url: "/oidc/jwks" })).json() as JSONWebKeySet,
    );
    return Promise.all(
      receiver.tokens.slice(from).map(async (token) => {
        const { payload, protectedHeader } = await jwtVerify(token, jwks, {
          issuer,
          audience: clientId,
          typ: "logout+jwt",
        });
        expect(payload.events).toEqual({ [BACKCHANNEL_LOGOUT_EVENT]: {} });
        expect(payload.nonce).toBeUndefined();
        expect(protectedHeader.alg).toBe("ES256");
        return { sub: payload.sub, sid: payload.sid };
      }),
    );
  }

  /** The refresh token no longer works: the grant went with the authorization. */
  async function expectRefreshRefused(refreshToken: string) {
    await expect(oc.refreshTokenGrant(config, refreshToken)).rejects.toMatchObject({
      error: "invalid_grant",
    });
  }

  it("tells the client once when the user logs out, and only for that session", async () => {
    const owner = await signUpAndLogin(t, { email: "bc-logout@example.com", account: "Logout Co" });
    const bystander = await signUpAndLogin(t, { email: "bc-bystander@example.com", account: "Bystander Co" });
    const { tokens, sid } = await signIn(owner.client, owner.accountId);
    const other = await signIn(bystander.client, bystander.accountId);
    const from = receiver.tokens.length;

    expect((await owner.client.post("/api/v1/auth/logout", {})).statusCode).toBe(204);
    expect(await logoutTokensSince(from)).toEqual([{ sub: owner.userId, sid }]);
    await expectRefreshRefused(tokens.refresh_token as string);
    // Nothing more for the same logout, and the bystander's sign-in still refreshes.
    await t.services.oidcBackchannel.sweep(owner.userId);
    expect(receiver.tokens).toHaveLength(from + 1);
    expect(
      (await oc.refreshTokenGrant(config, other.tokens.refresh_token as string)).access_token,
    ).toBeTruthy();
  });

  it("tells the client when the session is revoked from another device and when a password reset ends it", async () => {
    const user = await signUpAndLogin(t, { email: "bc-revoke@example.com", account: "Revoke Co" });
    const first = await signIn(user.client, user.accountId);
    const from = receiver.tokens.length;
    // The same person on a second device ends the first device's session.
    const second = createClient(t.app);
    await second.post("/api/v1/auth/login", { email: "bc-revoke@example.com", password: user.password });
    const sessions = (await second.get("/api/v1/me/sessions")).body.data as Array<{
      id: string;
      current: boolean;
    }>;
    const firstSession = sessions.find((s) => !s.current);
    expect(firstSession).toBeDefined();
    expect((await second.delete(`/api/v1/me/sessions/${firstSession?.id}`)).statusCode).toBe(204);
    expect(await logoutTokensSince(from)).toEqual([{ sub: user.userId, sid: first.sid }]);
    await expectRefreshRefused(first.tokens.refresh_token as string);

    // Signed in to the client from the second device; a password reset ends every session.
    const again = await signIn(second, user.accountId);
    const before = receiver.tokens.length;
    await createClient(t.app).post("/api/v1/auth/password/forgot", { email: "bc-revoke@example.com" });
    const link = await t.linkFor("bc-revoke@example.com", /reset/i);
    const reset = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token: tokenOf(link),
      password: "another-Orchid-Harbor-77",
    });
    expect(reset.statusCode, reset.payload).toBeLessThan(300);
    expect(await logoutTokensSince(before)).toEqual([{ sub: user.userId, sid: again.sid }]);
    await expectRefreshRefused(again.tokens.refresh_token as string);
  });

  it("tells the client when an admin suspends or removes the member from the account it signed in to", async () => {
    const owner = await signUpAndLogin(t, { email: "bc-admin@example.com", account: "Admin Co" });
    const member = await addMember(t, owner, { email: "bc-member@example.com", roleKey: "monitor" });
    const memberId = (await member.client.get("/api/v1/me")).body.id as string;
    const signed = await signIn(member.client, owner.accountId);
    const from = receiver.tokens.length;

    const suspended = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${memberId}/suspend`,
      {},
    );
    expect(suspended.statusCode, suspended.payload).toBe(200);
    expect(await logoutTokensSince(from)).toEqual([{ sub: memberId, sid: signed.sid }]);
    await expectRefreshRefused(signed.tokens.refresh_token as string);

    const reinstated = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${memberId}/reactivate`,
      {},
    );
    expect(reinstated.statusCode, reinstated.payload).toBe(200);
    // The suspension ended the member's Gatehouse sessions too: they sign in again.
    const login = await member.client.post("/api/v1/auth/login", {
      email: "bc-member@example.com",
      password: member.password,
    });
    expect(login.statusCode, login.payload).toBe(200);
    const again = await signIn(member.client, owner.accountId);
    const before = receiver.tokens.length;
    const removed = await owner.client.delete(`/api/v1/accounts/${owner.accountId}/members/${memberId}`);
    expect(removed.statusCode, removed.payload).toBe(204);
    expect(await logoutTokensSince(before)).toEqual([{ sub: memberId, sid: again.sid }]);
    await expectRefreshRefused(again.tokens.refresh_token as string);
  });
});
