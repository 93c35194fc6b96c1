import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../mfa/totp.js";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

const FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0";

describe.each(testDialects())("member detail on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  /** A fresh log-in of `email` from another device; returns that browser. */
  async function logIn(email: string, options: { ip?: string; userAgent?: string } = {}) {
    const client = createClient(t.app, options);
    const login = await client.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect(login.statusCode, login.payload).toBe(200);
    return client;
  }

  async function enrollTotp(client: Client) {
    const start = await client.post("/api/v1/me/mfa/totp", { label: "Work phone" });
    expect(start.statusCode, start.payload).toBe(201);
    const done = await client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    expect(done.statusCode, done.payload).toBe(200);
  }

  it("lists a member's sessions in the account with a readable device, and revoking one ends it", async () => {
    const root = await signUpAndLogin(t, { email: "root-md1@example.com", account: "Detail One" });
    await onPaidPlan(t, root.accountId);
    const member = await addMember(t, root, { email: "dana-md1@example.com", firstName: "Dana" });
    const laptop = await logIn("dana-md1@example.com", { ip: "203.0.113.7", userAgent: FIREFOX_MAC });
    const base = `/api/v1/accounts/${root.accountId}/members/${member.userId}`;

    const list = await root.client.get(`${base}/sessions`);
    expect(list.statusCode, list.payload).toBe(200);
    const mac = list.body.data.find((s: { ip: string | null }) => s.ip === "203.0.113.7");
    expect(mac).toMatchObject({
      id: expect.any(String),
      user_agent: FIREFOX_MAC,
      device: { browser: "Firefox 128", os: "macOS", type: "desktop" },
      created_at: expect.any(String),
      last_seen_at: expect.any(String),
      expires_at: expect.any(String),
    });
    expect(Object.keys(mac).sort()).toEqual(
      ["created_at", "device", "expires_at", "id", "ip", "last_seen_at", "user_agent"].sort(),
    );
    const before = list.body.data.length;

    expect((await laptop.get("/api/v1/me")).statusCode).toBe(200);
    const revoke = await root.client.delete(`${base}/sessions/${mac.id}`);
    expect(revoke.statusCode, revoke.payload).toBe(204);
    // That browser's next request is refused; their other sessions go on.
    expect((await laptop.get("/api/v1/me")).statusCode).toBe(401);
    expect((await member.client.get("/api/v1/me")).statusCode).toBe(200);
    const after = await root.client.get(`${base}/sessions`);
    expect(after.body.data).toHaveLength(before - 1);
    expect(after.body.data.some((s: { id: string }) => s.id === mac.id)).toBe(false);
    // Gone is gone: a second revoke is 404, like any session that is not theirs.
    expect((await root.client.delete(`${base}/sessions/${mac.id}`)).statusCode).toBe(404);
    expect((await root.client.delete(`${base}/sessions/ses_nope`)).statusCode).toBe(404);

    const audit = await root.client.get(
      `/api/v1/accounts/${root.accountId}/audit-events?action=member.session_revoked&target_id=${member.userId}`,
    );
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({
      actor: { id: root.userId },
      target: { type: "user", id: member.userId },
      changes: { session_id: mac.id },
    });
  });

  it("shows only the sessions acting in this account, and revokes none elsewhere", async () => {
    const root = await signUpAndLogin(t, { email: "root-md2@example.com", account: "Detail Two" });
    const other = await signUpAndLogin(t, { email: "root-md2b@example.com", account: "Elsewhere Two" });
    const shared = await addMember(t, root, { email: "shared-md2@example.com" });
    // The same person also belongs to another account, with a session acting there.
    const roles = await other.client.get(`/api/v1/accounts/${other.accountId}/roles`);
    const monitor = roles.body.data.find((r: { key: string }) => r.key === "monitor");
    await other.client.post(`/api/v1/accounts/${other.accountId}/invitations`, {
      emails: ["shared-md2@example.com"],
      role_id: monitor.id,
    });
    const token = tokenOf(await t.linkFor("shared-md2@example.com", /invited to join Elsewhere Two/));
    expect((await shared.client.post("/api/v1/invitations/accept", { token })).statusCode).toBe(200);
    const elsewhere = await logIn("shared-md2@example.com", { userAgent: FIREFOX_MAC });
    const switched = await elsewhere.post(`/api/v1/accounts/${other.accountId}/switch`);
    expect(switched.statusCode, switched.payload).toBe(200);

    const mine = await root.client.get(
      `/api/v1/accounts/${root.accountId}/members/${shared.userId}/sessions`,
    );
    expect(mine.statusCode).toBe(200);
    expect(mine.body.data.some((s: { user_agent: string }) => s.user_agent === FIREFOX_MAC)).toBe(false);
    const theirs = await other.client.get(
      `/api/v1/accounts/${other.accountId}/members/${shared.userId}/sessions`,
    );
    const there = theirs.body.data.find((s: { user_agent: string }) => s.user_agent === FIREFOX_MAC);
    expect(there).toBeDefined();
    // Root of this account cannot end the session acting in the other account.
    expect(
      (
        await root.client.delete(
          `/api/v1/accounts/${root.accountId}/members/${shared.userId}/sessions/${there.id}`,
        )
      ).statusCode,
    ).toBe(404);
    expect((await elsewhere.get("/api/v1/me")).statusCode).toBe(200);
  });

  it("keeps accounts apart: 404 for another account's member, and for an account you are not in", async () => {
    const root = await signUpAndLogin(t, { email: "root-md3@example.com", account: "Detail Three" });
    const other = await signUpAndLogin(t, { email: "root-md3b@example.com", account: "Elsewhere Three" });
    const stranger = await addMember(t, other, { email: "stranger-md3@example.com" });
    const strangerSessions = await other.client.get(
      `/api/v1/accounts/${other.accountId}/members/${stranger.userId}/sessions`,
    );
    const sessionId = strangerSessions.body.data[0].id as string;
    for (const suffix of ["sessions", "logins", "mfa"]) {
      // Their member, asked about in our account; our account's path, asked by an outsider.
      expect(
        (await root.client.get(`/api/v1/accounts/${root.accountId}/members/${stranger.userId}/${suffix}`))
          .statusCode,
      ).toBe(404);
      expect(
        (await root.client.get(`/api/v1/accounts/${other.accountId}/members/${stranger.userId}/${suffix}`))
          .statusCode,
      ).toBe(404);
    }
    expect(
      (
        await root.client.delete(
          `/api/v1/accounts/${root.accountId}/members/${stranger.userId}/sessions/${sessionId}`,
        )
      ).statusCode,
    ).toBe(404);
    expect(
      (
        await root.client.delete(
          `/api/v1/accounts/${other.accountId}/members/${stranger.userId}/sessions/${sessionId}`,
        )
      ).statusCode,
    ).toBe(404);
    expect((await stranger.client.get("/api/v1/me")).statusCode).toBe(200);
  });

  it("shows sign-ins and failed attempts from the audit log, with the device, newest first", async () => {
    const root = await signUpAndLogin(t, { email: "root-md4@example.com", account: "Detail Four" });
    const member = await addMember(t, root, { email: "lee-md4@example.com", firstName: "Lee" });
    const attempt = createClient(t.app, { ip: "198.51.100.4", userAgent: FIREFOX_MAC });
    const wrong = await attempt.post("/api/v1/auth/login", {
      email: "lee-md4@example.com",
      password: "wrong-pass-1",
    });
    expect(wrong.statusCode).toBe(401);
    t.services.clock.advance(60);
    await logIn("lee-md4@example.com", { ip: "198.51.100.5", userAgent: FIREFOX_MAC });
    const base = `/api/v1/accounts/${root.accountId}/members/${member.userId}`;

    const logins = await root.client.get(`${base}/logins?limit=2`);
    expect(logins.statusCode, logins.payload).toBe(200);
    expect(logins.body.data).toHaveLength(2);
    expect(logins.body.data[0]).toMatchObject({
      succeeded: true,
      ip: "198.51.100.5",
      device: { browser: "Firefox 128", os: "macOS" },
      user_agent: FIREFOX_MAC,
      method: null,
    });
    expect(logins.body.data[1]).toMatchObject({ succeeded: false, ip: "198.51.100.4" });
    expect(Date.parse(logins.body.data[0].at)).toBeGreaterThan(Date.parse(logins.body.data[1].at));
    // Someone else's sign-ins are not theirs.
    const rootLogins = await root.client.get(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/logins`,
    );
    expect(rootLogins.body.data.some((l: { ip: string }) => l.ip === "198.51.100.5")).toBe(false);

    for (const limit of ["0", "101", "x"]) {
      const bad = await root.client.get(`${base}/logins?limit=${limit}`);
      expect(bad.statusCode).toBe(400);
      expect(bad.headers["content-type"]).toMatch(/problem\+json/);
    }
  });

  it("shows a member's factors and remaining recovery codes, never a secret; and their mobile", async () => {
    const root = await signUpAndLogin(t, { email: "root-md5@example.com", account: "Detail Five" });
    const member = await addMember(t, root, { email: "kim-md5@example.com", firstName: "Kim" });
    const base = `/api/v1/accounts/${root.accountId}/members/${member.userId}`;
    expect((await root.client.get(`${base}/mfa`)).body).toEqual({
      enabled: false,
      factors: [],
      recovery_codes_remaining: 0,
    });
    await enrollTotp(member.client);
    const mfa = await root.client.get(`${base}/mfa`);
    expect(mfa.statusCode).toBe(200);
    expect(mfa.body).toMatchObject({ enabled: true, recovery_codes_remaining: 10 });
    expect(mfa.body.factors).toHaveLength(1);
    expect(Object.keys(mfa.body.factors[0]).sort()).toEqual([
      "created_at",
      "id",
      "label",
      "last_used_at",
      "type",
    ]);
    expect(mfa.body.factors[0]).toMatchObject({ type: "totp", label: "Work phone" });

    const profile = await root.client.get(base);
    expect(profile.body).toMatchObject({
      email: "kim-md5@example.com",
      mobile: null,
      joined_at: expect.any(String),
    });
    await t.services.db
      .updateTable("users")
      .set({ mobile: "+15555550123" })
      .where("id", "=", member.userId)
      .execute();
    expect((await root.client.get(base)).body.mobile).toBe("+15555550123");
  });

  it("follows the member rules: an Admin cannot end a Root's session, nobody their own here", async () => {
    const root = await signUpAndLogin(t, { email: "root-md6@example.com", account: "Detail Six" });
    await onPaidPlan(t, root.accountId);
    const admin = await addMember(t, root, { email: "admin-md6@example.com", roleKey: "admin" });
    const rootSessions = await admin.client.get(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/sessions`,
    );
    expect(rootSessions.statusCode).toBe(200);
    const rootSession = rootSessions.body.data[0].id as string;
    const refused = await admin.client.delete(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/sessions/${rootSession}`,
    );
    // The same answer as logging a Root out everywhere.
    const logout = await admin.client.post(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/logout`,
    );
    expect(refused.statusCode).toBe(logout.statusCode);
    expect(refused.body.code).toBe("root_only");
    expect((await root.client.get("/api/v1/me")).statusCode).toBe(200);

    const own = await root.client.get(`/api/v1/accounts/${root.accountId}/members/${root.userId}/sessions`);
    const self = await root.client.delete(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/sessions/${own.body.data[0].id}`,
    );
    expect(self.statusCode).toBe(403);
    expect(self.body.code).toBe("self_change");
  });

  it("authorization matrix: reading needs security:read (sessions, mfa) or audit:read (logins); revoking members:suspend", async () => {
    const root = await signUpAndLogin(t, { email: "root-md7@example.com", account: "Detail Seven" });
    await onPaidPlan(t, root.accountId);
    const target = await addMember(t, root, { email: "target-md7@example.com" });
    const callers = {
      root,
      admin: await addMember(t, root, { email: "admin-md7@example.com", roleKey: "admin" }),
      developer: await addMember(t, root, { email: "dev-md7@example.com", roleKey: "developer" }),
      monitor: await addMember(t, root, { email: "mon-md7@example.com", roleKey: "monitor" }),
      billing: await addMember(t, root, { email: "bill-md7@example.com", roleKey: "billing" }),
    };
    const base = `/api/v1/accounts/${root.accountId}/members/${target.userId}`;
    const expected = {
      root: 200,
      admin: 200,
      developer: 403,
      monitor: 403,
      billing: 403,
    } as const;
    for (const [role, caller] of Object.entries(callers)) {
      for (const suffix of ["sessions", "logins", "mfa"]) {
        const response = await caller.client.get(`${base}/${suffix}`);
        expect(response.statusCode, `${role} GET ${suffix}`).toBe(expected[role as keyof typeof expected]);
        if (response.statusCode === 403) expect(response.body.code).toBe("forbidden");
      }
    }
    for (const role of ["developer", "monitor", "billing", "admin", "root"] as const) {
      const device = await logIn("target-md7@example.com", { userAgent: `${FIREFOX_MAC} ${role}` });
      const sessions = await root.client.get(`${base}/sessions`);
      const id = sessions.body.data.find((s: { user_agent: string }) => s.user_agent.endsWith(role)).id;
      const response = await callers[role].client.delete(`${base}/sessions/${id}`);
      const allowed = role === "admin" || role === "root";
      expect(response.statusCode, `${role} DELETE session`).toBe(allowed ? 204 : 403);
      expect((await device.get("/api/v1/me")).statusCode).toBe(allowed ? 401 : 200);
    }
    // A custom role with audit:read alone reads sign-ins, not sessions or factors.
    const custom = await root.client.post(`/api/v1/accounts/${root.accountId}/roles`, {
      name: "Auditor",
      permissions: ["members:read", "audit:read"],
    });
    expect(custom.statusCode, custom.payload).toBe(201);
    const auditor = await addMember(t, root, { email: "auditor-md7@example.com", roleKey: custom.body.key });
    expect((await auditor.client.get(`${base}/logins`)).statusCode).toBe(200);
    expect((await auditor.client.get(`${base}/sessions`)).statusCode).toBe(403);
    expect((await auditor.client.get(`${base}/mfa`)).statusCode).toBe(403);
  });
});
