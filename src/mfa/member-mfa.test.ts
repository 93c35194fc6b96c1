import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { newTotp } from "./totp.js";

describe.each(testDialects())("admin actions on a member's second factors on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  let serial = 0;
  /** A fresh account with its Root, and a member of `roleKey` who has turned on an authenticator app. */
  async function setup(roleKey = "developer") {
    const n = ++serial;
    const root = await signUpAndLogin(t, { email: `root-${n}@example.com`, account: `Org ${n}` });
    const member = await addMember(t, root, { email: `member-${n}@example.com`, roleKey });
    const start = await member.client.post("/api/v1/me/mfa/totp", {});
    const secret = start.body.secret as string;
    const verify = await member.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    expect(verify.statusCode, verify.payload).toBe(200);
    const base = `/api/v1/accounts/${root.accountId}/members/${member.userId}`;
    return {
      n,
      root,
      member,
      base,
      codes: verify.body.recovery_codes as string[],
      email: `member-${n}@example.com`,
    };
  }

  const login = (email: string) =>
    createClient(t.app).post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });

  async function auditActions(root: { client: ReturnType<typeof createClient>; accountId: string }) {
    const events = await root.client.get(`/api/v1/accounts/${root.accountId}/audit-events`);
    return (events.body.data as Array<{ action: string }>).map((e) => e.action);
  }

  it("resets a member's MFA: factors and codes gone, sessions ended, enrollment due at the next log-in", async () => {
    const { root, member, base, email, codes } = await setup("admin");
    const reset = await root.client.post(`${base}/mfa/reset`);
    expect(reset.statusCode, reset.payload).toBe(204);
    expect((await member.client.get("/api/v1/session")).statusCode).toBe(401);

    // No second step any more: the password logs in, and the old recovery codes are gone with the factors.
    const again = createClient(t.app);
    const next = await again.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect(next.statusCode).toBe(200);
    expect(next.body.mfa_required).toBeUndefined();
    expect(
      await t.services.db
        .selectFrom("recovery_codes")
        .select("id")
        .where("user_id", "=", member.userId)
        .execute(),
    ).toHaveLength(0);
    expect(codes).toHaveLength(10);
    // Admins must use MFA in new accounts, so they must enroll again before anything else.
    const session = await again.get("/api/v1/session");
    expect(Date.parse(session.body.mfa_enrollment_due_at)).toBeLessThanOrEqual(
      t.services.clock.now().getTime(),
    );
    const blocked = await again.get(`/api/v1/accounts/${root.accountId}/members`);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.body.code).toBe("mfa_enrollment_required");
    expect((await again.post("/api/v1/me/mfa/totp", {})).statusCode).toBe(201);

    await expect.poll(() => t.mails.some((m) => m.to === email && /was reset/.test(m.subject))).toBe(true);
    expect(await auditActions(root)).toContain("member.mfa_reset");
  });

  it("gives a member without a requirement a normal start after a reset", async () => {
    const { root, base, email } = await setup("developer");
    expect((await root.client.post(`${base}/mfa/reset`)).statusCode).toBe(204);
    const again = createClient(t.app);
    await again.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect((await again.get("/api/v1/session")).body.mfa_enrollment_due_at).toBeNull();
    // Nothing left to reset.
    expect((await root.client.post(`${base}/mfa/reset`)).statusCode).toBe(409);
  });

  it("issues new recovery codes for a member (old ones die) and lets an admin view the unused ones", async () => {
    const { root, member, base, email, codes } = await setup();
    const issued = await root.client.post(`${base}/recovery-codes`);
    expect(issued.statusCode, issued.payload).toBe(200);
    const fresh = issued.body.recovery_codes as string[];
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(codes[0]);
    await expect
      .poll(() => t.mails.some((m) => m.to === email && /New recovery codes were issued/.test(m.subject)))
      .toBe(true);

    // The old code no longer works; a new one does, once.
    const old = await login(email);
    const refused = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: old.body.mfa_token,
      method: "recovery_code",
      code: codes[0],
    });
    expect(refused.body.code).toBe("invalid_code");
    const used = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: old.body.mfa_token,
      method: "recovery_code",
      code: fresh[0],
    });
    expect(used.statusCode, used.payload).toBe(200);

    // Stored sealed, never in the clear; the view shows the nine unused ones.
    const rows = await t.services.db
      .selectFrom("recovery_codes")
      .select(["code_enc", "code_hash"])
      .where("user_id", "=", member.userId)
      .execute();
    expect(rows.every((r) => r.code_enc && !fresh.some((c) => r.code_enc?.includes(c)))).toBe(true);
    const before = t.mails.length;
    const view = await root.client.post(`${base}/recovery-codes/reveal`);
    expect(view.statusCode, view.payload).toBe(200);
    expect([...view.body.recovery_codes].sort()).toEqual(fresh.slice(1).sort());
    await expect
      .poll(() =>
        t.mails
          .slice(before)
          .some((m) => m.to === email && m.subject === "Security codes viewed" && m.text.includes(`root-`)),
      )
      .toBe(true);
    const actions = await auditActions(root);
    expect(actions).toContain("member.recovery_codes_issued");
    expect(actions).toContain("member.recovery_codes_viewed");
  });

  it("reveals codes only on a POST with the CSRF token: the old GET answers 405, nothing is mailed", async () => {
    const { root, base, email } = await setup();
    const mailsBefore = t.mails.filter((m) => m.to === email).length;
    const old = await root.client.get(`${base}/recovery-codes`);
    expect(old.statusCode).toBe(405);
    expect(old.headers["content-type"]).toContain("application/problem+json");
    expect(old.body.code).toBe("method_not_allowed");
    expect(old.headers.allow).toBe("POST");
    const forged = await root.client.post(`${base}/recovery-codes/reveal`, {}, { "x-csrf-token": "forged" });
    expect(forged.statusCode).toBe(403);
    expect(forged.body.code).toBe("csrf_failed");
    expect(await auditActions(root)).not.toContain("member.recovery_codes_viewed");
    const revealed = await root.client.post(`${base}/recovery-codes/reveal`);
    expect(revealed.statusCode, revealed.payload).toBe(200);
    expect(revealed.body.recovery_codes).toHaveLength(10);
    await expect.poll(() => t.mails.filter((m) => m.to === email).length).toBe(mailsBefore + 1);
    expect(await auditActions(root)).toContain("member.recovery_codes_viewed");
  });

  it("never shows a Root user's codes, and keeps no readable copy of them", async () => {
    const { root } = await setup();
    // A second Root of the account, with MFA on.
    const other = await addMember(t, root, { email: `second-root-${serial}@example.com`, roleKey: "root" });
    const start = await other.client.post("/api/v1/me/mfa/totp", {});
    await other.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    const sealed = await t.services.db
      .selectFrom("recovery_codes")
      .select("code_enc")
      .where("user_id", "=", other.userId)
      .execute();
    expect(sealed).toHaveLength(10);
    expect(sealed.every((r) => r.code_enc === null)).toBe(true);
    const view = await root.client.post(
      `/api/v1/accounts/${root.accountId}/members/${other.userId}/recovery-codes/reveal`,
    );
    expect(view.statusCode).toBe(403);
    expect(view.body.code).toBe("root_only");
  });

  it("keeps a Root of another account out of reach of this account's admins", async () => {
    const { root, member, base } = await setup("admin");
    // The member founds an account of their own, where they are Root.
    expect((await member.client.post("/api/v1/accounts", { name: "Their own" })).statusCode).toBe(201);
    for (const [method, path] of [
      ["POST", `${base}/mfa/reset`],
      ["POST", `${base}/recovery-codes`],
      ["POST", `${base}/recovery-codes/reveal`],
    ] as const) {
      const response = await root.client.request(method, path, {});
      expect(response.statusCode, path).toBe(403);
      expect(response.body.code).toBe("root_only");
    }
    expect(
      await t.services.db
        .selectFrom("mfa_factors")
        .select("id")
        .where("user_id", "=", member.userId)
        .execute(),
    ).toHaveLength(1);
  });

  it("is for security managers only, never on yourself, never on another account's member", async () => {
    const { root, base } = await setup();
    // Five people: more seats than Free has.
    await onPaidPlan(t, root.accountId);
    for (const roleKey of ["monitor", "developer", "billing"]) {
      const caller = await addMember(t, root, { email: `caller-${roleKey}-${serial}@example.com`, roleKey });
      for (const [method, path] of [
        ["POST", `${base}/mfa/reset`],
        ["POST", `${base}/recovery-codes`],
        ["POST", `${base}/recovery-codes/reveal`],
      ] as const) {
        const response = await caller.client.request(method, path, {});
        expect(response.statusCode, `${roleKey} ${method} ${path}`).toBe(403);
        expect(response.body.code).toBe("forbidden");
      }
    }
    const admin = await addMember(t, root, { email: `caller-admin-${serial}@example.com`, roleKey: "admin" });
    expect((await admin.client.post(`${base}/recovery-codes/reveal`)).statusCode).toBe(200);
    // An admin cannot act on a Root.
    const onRoot = await admin.client.post(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/mfa/reset`,
    );
    expect(onRoot.body.code).toBe("root_only");
    // Not on yourself: the Security tab is the place for that.
    const self = await root.client.post(
      `/api/v1/accounts/${root.accountId}/members/${root.userId}/recovery-codes`,
    );
    expect(self.statusCode).toBe(403);
    // Another account's admin sees nothing.
    const stranger = await signUpAndLogin(t, { email: `stranger-${serial}@example.com` });
    const foreign = await stranger.client.post(
      `${base.replace(root.accountId, stranger.accountId)}/recovery-codes/reveal`,
    );
    expect(foreign.statusCode).toBe(404);
    expect((await stranger.client.post(`${base}/recovery-codes/reveal`)).statusCode).toBe(404);
  });

  it("needs a fresh authentication of the admin", async () => {
    const { root, base } = await setup();
    // Keep the session alive past the 10 fresh minutes.
    t.services.clock.advance(6 * 60);
    await root.client.get("/api/v1/session");
    t.services.clock.advance(6 * 60);
    const stale = await root.client.post(`${base}/recovery-codes/reveal`);
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    expect((await root.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    expect((await root.client.post(`${base}/recovery-codes/reveal`)).statusCode).toBe(200);
  });

  it("answers 409 when the member has no second factor", async () => {
    const root = await signUpAndLogin(t, { email: "plain-root@example.com" });
    const plain = await addMember(t, root, { email: "plain@example.com" });
    const base = `/api/v1/accounts/${root.accountId}/members/${plain.userId}`;
    expect((await root.client.post(`${base}/recovery-codes`)).statusCode).toBe(409);
    expect((await root.client.post(`${base}/recovery-codes/reveal`)).statusCode).toBe(409);
  });
});
