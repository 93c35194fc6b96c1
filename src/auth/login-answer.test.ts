import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../mfa/totp.js";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { createSoftwareAuthenticator } from "../testing/webauthn.js";

/**
 * A log-in answers with the session state built from what it read itself (the user, their memberships
 * with accounts and roles, whether a second factor exists) instead of reading it again after its commit
 * (src/auth/login-budget.test.ts counts that). Each answer here must be exactly what GET /session shows
 * afterwards when read from the database, whichever way the log-in went.
 */
describe.each(testDialects())("the log-in's answer on %s", (dialect) => {
  let t: TestApp;
  const origin = "http://gatehouse.test";
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  /** GET /session with every cache in this process dropped first: the database's state. */
  async function storedState(client: Client) {
    t.services.invalidator.deliverLocally("*");
    const state = await client.get("/api/v1/session");
    expect(state.statusCode, state.payload).toBe(200);
    return state.body;
  }

  it("after a password, with memberships in several accounts (one suspended), a new address and a rename", async () => {
    const owner = await signUpAndLogin(t, { email: "answer-owner@example.com", account: "Answer Co" });
    const other = await signUpAndLogin(t, { email: "answer-other@example.com", account: "Other Co" });
    const third = await signUpAndLogin(t, { email: "answer-third@example.com", account: "Third Co" });
    const member = await addMember(t, owner, { email: "answer-member@example.com", roleKey: "admin" });
    // The same person in two more accounts: one as a monitor, one suspended.
    for (const admin of [other, third]) {
      const roles = await admin.client.get(`/api/v1/accounts/${admin.accountId}/roles`);
      const role = roles.body.data.find((r: { key: string }) => r.key === "monitor");
      const invite = await admin.client.post(`/api/v1/accounts/${admin.accountId}/invitations`, {
        emails: ["answer-member@example.com"],
        role_id: role.id,
      });
      expect(invite.statusCode, invite.payload).toBe(201);
      const link = await t.linkFor("answer-member@example.com", /invited/);
      const accepted = await member.client.post("/api/v1/invitations/accept", { token: tokenOf(link) });
      expect(accepted.statusCode, accepted.payload).toBe(200);
    }
    const suspend = await third.client.post(
      `/api/v1/accounts/${third.accountId}/members/${member.userId}/suspend`,
    );
    expect(suspend.statusCode, suspend.payload).toBe(200);
    // The owner renames the member's role between two log-ins: the answer carries the new name.
    const roles = await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`);
    const admin = roles.body.data.find((r: { key: string }) => r.key === "admin");
    const custom = await owner.client.post(`/api/v1/accounts/${owner.accountId}/roles`, {
      name: "Ops Lead",
      permissions: admin.permissions.filter((p: string) => p !== "billing.manage"),
    });
    expect(custom.statusCode, custom.payload).toBe(201);
    const moved = await owner.client.patch(`/api/v1/accounts/${owner.accountId}/members/${member.userId}`, {
      role_id: custom.body.id,
    });
    expect(moved.statusCode, moved.payload).toBe(200);

    t.services.clock.advance(3600);
    const loggingInAt = t.services.clock.now().toISOString();
    const client = createClient(t.app, { ip: "198.51.100.23" });
    const login = await client.post("/api/v1/auth/login", {
      email: "answer-member@example.com",
      password: STRONG_PASSWORD,
      account_id: owner.accountId,
    });
    expect(login.statusCode, login.payload).toBe(200);
    // The suspended membership is not listed.
    expect(login.body.user.memberships.map((m: { account_name: string }) => m.account_name)).toEqual([
      "Answer Co",
      "Other Co",
    ]);
    expect(login.body.user.last_login_at >= loggingInAt).toBe(true);
    expect(login.body.user.mfa_enabled).toBe(false);
    expect(login.body.account_id).toBe(owner.accountId);
    expect(login.body).toEqual(await storedState(client));
    expect(
      login.body.user.memberships.find((m: { account_id: string }) => m.account_id === owner.accountId).role
        .name,
    ).toBe("Ops Lead");
  });

  it("after a second factor", async () => {
    const user = await signUpAndLogin(t, { email: "answer-totp@example.com" });
    const start = await user.client.post("/api/v1/me/mfa/totp", { label: "Phone" });
    const secret = start.body.secret as string;
    const code = () => newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() });
    const verify = await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: code(),
    });
    expect(verify.statusCode, verify.payload).toBe(200);

    t.services.clock.advance(120);
    const client = createClient(t.app, { ip: "198.51.100.24" });
    const first = await client.post("/api/v1/auth/login", {
      email: "answer-totp@example.com",
      password: STRONG_PASSWORD,
    });
    expect(first.body.mfa_required).toBe(true);
    const login = await client.post("/api/v1/auth/login/mfa", {
      mfa_token: first.body.mfa_token,
      method: "totp",
      code: code(),
    });
    expect(login.statusCode, login.payload).toBe(200);
    expect(login.body.user.mfa_enabled).toBe(true);
    expect(login.body).toEqual(await storedState(client));
  });

  it("after a passkey without a password", async () => {
    const user = await signUpAndLogin(t, { email: "answer-passkey@example.com" });
    const device = createSoftwareAuthenticator(origin);
    const options = await user.client.post("/api/v1/me/passkeys/options");
    expect(options.statusCode, options.payload).toBe(200);
    const added = await user.client.post("/api/v1/me/passkeys", {
      challenge_id: options.body.challenge_id,
      response: device.create(options.body.options),
    });
    expect(added.statusCode, added.payload).toBe(201);

    t.services.clock.advance(60);
    const client = createClient(t.app, { ip: "198.51.100.25" });
    const challenge = await client.post("/api/v1/auth/passkey/options", {});
    const login = await client.post("/api/v1/auth/passkey", {
      challenge_id: challenge.body.challenge_id,
      response: device.get(challenge.body.options),
    });
    expect(login.statusCode, login.payload).toBe(200);
    expect(login.body.user.mfa_enabled).toBe(true);
    expect(login.body).toEqual(await storedState(client));
  });
});
