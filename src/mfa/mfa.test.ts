import { execFileSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { matchingStep, newTotp, TOTP_PERIOD } from "./totp.js";

// RFC 6238 Appendix B, SHA-1 seed "12345678901234567890"; six digits are the last six of the eight.
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const RFC_VECTORS: Array<[number, string]> = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

describe("TOTP (RFC 6238)", () => {
  it.each(RFC_VECTORS)("matches the appendix B vector at t=%i", (seconds, eightDigits) => {
    const at = new Date(seconds * 1000);
    const step = Math.floor(seconds / TOTP_PERIOD);
    expect(newTotp(RFC_SECRET).generate({ timestamp: at.getTime() })).toBe(eightDigits.slice(2));
    expect(matchingStep(RFC_SECRET, eightDigits.slice(2), at)).toBe(step);
    // One step of clock drift either way is accepted, two are not.
    expect(matchingStep(RFC_SECRET, eightDigits.slice(2), new Date((seconds + TOTP_PERIOD) * 1000))).toBe(
      step,
    );
    expect(
      matchingStep(RFC_SECRET, eightDigits.slice(2), new Date((seconds + 3 * TOTP_PERIOD) * 1000)),
    ).toBeUndefined();
  });

  it("interoperates with oathtool, a separate authenticator implementation", () => {
    const now = new Date();
    const code = execFileSync("oathtool", ["--totp", "--base32", RFC_SECRET]).toString().trim();
    expect(code).toMatch(/^\d{6}$/);
    expect(matchingStep(RFC_SECRET, code, now)).toBeDefined();
  });

  it("refuses malformed codes", () => {
    expect(matchingStep(RFC_SECRET, "12345", new Date())).toBeUndefined();
    expect(matchingStep(RFC_SECRET, "abcdef", new Date())).toBeUndefined();
  });
});

describe.each(testDialects())("two-factor authentication on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const codeFor = (secret: string, offsetSteps = 0) =>
    newTotp(secret).generate({
      timestamp: t.services.clock.now().getTime() + offsetSteps * TOTP_PERIOD * 1000,
    });

  async function enroll(email: string) {
    const user = await signUpAndLogin(t, { email });
    const start = await user.client.post("/api/v1/me/mfa/totp", { label: "Phone" });
    expect(start.statusCode).toBe(201);
    expect(start.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Gatehouse:.*secret=/);
    expect(start.body.qr_svg).toMatch(/^<svg/);
    const secret = start.body.secret as string;
    const verify = await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: codeFor(secret),
    });
    expect(verify.statusCode, verify.payload).toBe(200);
    return {
      ...user,
      secret,
      codes: verify.body.recovery_codes as string[],
      factorId: start.body.factor_id as string,
    };
  }

  it("enrolls an authenticator, stores its seed encrypted, and returns 10 recovery codes once", async () => {
    const user = await enroll("totp@example.com");
    expect(user.codes).toHaveLength(10);
    expect(new Set(user.codes).size).toBe(10);
    const row = await t.services.db
      .selectFrom("mfa_factors")
      .select(["secret_enc"])
      .where("id", "=", user.factorId)
      .executeTakeFirstOrThrow();
    expect(row.secret_enc).not.toContain(user.secret);
    const stored = await t.services.db
      .selectFrom("recovery_codes")
      .select("code_hash")
      .where("user_id", "=", user.userId)
      .execute();
    expect(stored.map((r) => r.code_hash)).not.toContain(user.codes[0]);
    expect((await user.client.get("/api/v1/me/mfa")).body).toMatchObject({
      enabled: true,
      recovery_codes_remaining: 10,
      factors: [{ type: "totp", label: "Phone" }],
    });
    expect((await user.client.get("/api/v1/me")).body.mfa_enabled).toBe(true);
    await expect
      .poll(() =>
        t.mails.some((m) => m.to === "totp@example.com" && /Two-factor authentication is on/.test(m.subject)),
      )
      .toBe(true);
  });

  it("refuses a wrong code at enrollment", async () => {
    const user = await signUpAndLogin(t, { email: "wrong-enroll@example.com" });
    const start = await user.client.post("/api/v1/me/mfa/totp", {});
    const bad = await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: "000000",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.code).toBe("invalid_code");
    expect((await user.client.get("/api/v1/me/mfa")).body.enabled).toBe(false);
  });

  it("counts wrong enrollment codes per user: the tenth locks verifying for a while, the session stays", async () => {
    const user = await signUpAndLogin(t, { email: "enroll-guess@example.com" });
    const start = await user.client.post("/api/v1/me/mfa/totp", {});
    const secret = start.body.secret as string;
    const valid = new Set([-1, 0, 1, 2].map((s) => codeFor(secret, s)));
    const wrong = ["000000", "111111", "222222", "333333", "444444"].find((c) => !valid.has(c)) as string;
    const verify = (code: string) =>
      user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, { code });
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) codes.push((await verify(wrong)).body.code);
    expect(codes).toEqual([...Array(9).fill("invalid_code"), "rate_limited"]);
    const locked = await verify(codeFor(secret));
    expect(locked.statusCode).toBe(429);
    expect((await user.client.get("/api/v1/session")).statusCode).toBe(200);
    t.services.clock.advance(61);
    const ok = await verify(codeFor(secret));
    expect(ok.statusCode, ok.payload).toBe(200);
  });

  it("asks for the second factor at log-in, accepts each TOTP code once, and a recovery code once", async () => {
    // Stopped: a slow run must not cross into the next TOTP step between enrolling and the replay.
    t.services.clock.freeze(new Date());
    const user = await enroll("login2fa@example.com");
    const anon = createClient(t.app);
    const first = await anon.post("/api/v1/auth/login", {
      email: "login2fa@example.com",
      password: STRONG_PASSWORD,
    });
    expect(first.statusCode).toBe(200);
    expect(first.body).toEqual({
      mfa_required: true,
      mfa_token: expect.any(String),
      methods: ["totp", "recovery_code"],
    });
    expect(first.cookies).toHaveLength(0);

    // The code used at enrollment is spent; the next step's code works.
    const replay = await anon.post("/api/v1/auth/login/mfa", {
      mfa_token: first.body.mfa_token,
      method: "totp",
      code: codeFor(user.secret),
    });
    expect(replay.body.code).toBe("invalid_code");
    t.services.clock.advance(TOTP_PERIOD);
    const code = codeFor(user.secret);
    const ok = await anon.post("/api/v1/auth/login/mfa", {
      mfa_token: first.body.mfa_token,
      method: "totp",
      code,
    });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(ok.body.user.email).toBe("login2fa@example.com");
    expect((await anon.get("/api/v1/me")).statusCode).toBe(200);
    // The token is spent, and so is the code.
    expect(
      (await anon.post("/api/v1/auth/login/mfa", { mfa_token: first.body.mfa_token, method: "totp", code }))
        .body.code,
    ).toBe("invalid_token");
    const again = await createClient(t.app).post("/api/v1/auth/login", {
      email: "login2fa@example.com",
      password: STRONG_PASSWORD,
    });
    expect(
      (
        await createClient(t.app).post("/api/v1/auth/login/mfa", {
          mfa_token: again.body.mfa_token,
          method: "totp",
          code,
        })
      ).body.code,
    ).toBe("invalid_code");

    // A recovery code, typed sloppily, works once.
    const recovery = user.codes[0] as string;
    const viaCode = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: again.body.mfa_token,
      method: "recovery_code",
      code: ` ${recovery.toUpperCase().replaceAll("-", " ")} `,
    });
    expect(viaCode.statusCode).toBe(200);
    const third = await createClient(t.app).post("/api/v1/auth/login", {
      email: "login2fa@example.com",
      password: STRONG_PASSWORD,
    });
    expect(
      (
        await createClient(t.app).post("/api/v1/auth/login/mfa", {
          mfa_token: third.body.mfa_token,
          method: "recovery_code",
          code: recovery,
        })
      ).body.code,
    ).toBe("invalid_code");
  });

  it("throttles guessing: five wrong codes kill the sign-in attempt", async () => {
    await enroll("guess@example.com");
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "guess@example.com",
      password: STRONG_PASSWORD,
    });
    const token = login.body.mfa_token;
    const results = [];
    for (let i = 0; i < 6; i++) {
      results.push(
        (
          await createClient(t.app).post("/api/v1/auth/login/mfa", {
            mfa_token: token,
            method: "totp",
            code: String(100000 + i),
          })
        ).statusCode,
      );
    }
    expect(results).toEqual([400, 400, 400, 400, 429, 429]);
    const failures = await t.services.db
      .selectFrom("audit_events")
      .select("id")
      .where("action", "=", "auth.mfa_failed")
      .execute();
    expect(failures.length).toBeGreaterThanOrEqual(5);
  });

  it("lets a sign-in attempt expire after 5 minutes", async () => {
    const user = await enroll("slow@example.com");
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "slow@example.com",
      password: STRONG_PASSWORD,
    });
    t.services.clock.advance(301);
    const late = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "totp",
      code: codeFor(user.secret),
    });
    expect(late.body.code).toBe("invalid_token");
  });

  it("needs a fresh authentication to regenerate recovery codes; old codes die at once", async () => {
    const user = await enroll("regen@example.com");
    t.services.clock.advance(11 * 60);
    // Keep the session alive across the idle limit by re-logging in through the second factor.
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "regen@example.com",
      password: STRONG_PASSWORD,
    });
    const client = createClient(t.app);
    await client.post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "totp",
      code: codeFor(user.secret),
    });
    t.services.clock.advance(11 * 60);
    const stale = await client.post("/api/v1/me/mfa/recovery-codes");
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    expect((await client.post("/api/v1/auth/reauth", { password: "wrong-password-x" })).body.code).toBe(
      "incorrect_password",
    );
    expect((await client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(200);
    const fresh = await client.post("/api/v1/me/mfa/recovery-codes");
    expect(fresh.statusCode).toBe(200);
    expect(fresh.body.recovery_codes).toHaveLength(10);
    const attempt = await createClient(t.app).post("/api/v1/auth/login", {
      email: "regen@example.com",
      password: STRONG_PASSWORD,
    });
    const old = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: attempt.body.mfa_token,
      method: "recovery_code",
      code: user.codes[1],
    });
    expect(old.body.code).toBe("invalid_code");
    const next = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: attempt.body.mfa_token,
      method: "recovery_code",
      code: fresh.body.recovery_codes[0],
    });
    expect(next.statusCode).toBe(200);
  });

  it("turns MFA off only with the password", async () => {
    const user = await enroll("off@example.com");
    expect(
      (await user.client.post("/api/v1/me/mfa/disable", { password: "not-my-password" })).body.code,
    ).toBe("incorrect_password");
    expect(
      (await user.client.request("DELETE", `/api/v1/me/mfa/factors/${user.factorId}`, {})).statusCode,
    ).toBe(400);
    expect((await user.client.post("/api/v1/me/mfa/disable", { password: STRONG_PASSWORD })).statusCode).toBe(
      204,
    );
    expect((await user.client.get("/api/v1/me/mfa")).body).toEqual({
      enabled: false,
      factors: [],
      recovery_codes_remaining: 0,
    });
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "off@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.body.csrf_token).toEqual(expect.any(String));
    const events = await t.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("actor_id", "=", user.userId)
      .execute();
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(["mfa.enabled", "mfa.disabled"]));
  });

  it("needs a fresh authentication, besides the password, to remove a factor or turn MFA off", async () => {
    const user = await enroll("stale-off@example.com");
    // Stay active past the 10 fresh minutes of the log-in.
    t.services.clock.advance(6 * 60);
    await user.client.get("/api/v1/session");
    t.services.clock.advance(6 * 60);
    const off = await user.client.post("/api/v1/me/mfa/disable", { password: STRONG_PASSWORD });
    expect(off.body.code).toBe("reauth_required");
    const remove = await user.client.request("DELETE", `/api/v1/me/mfa/factors/${user.factorId}`, {
      password: STRONG_PASSWORD,
    });
    expect(remove.body.code).toBe("reauth_required");
    expect((await user.client.get("/api/v1/me/mfa")).body.enabled).toBe(true);
    const reauth = await user.client.post("/api/v1/auth/reauth", {
      method: "totp",
      code: codeFor(user.secret, 1),
    });
    expect(reauth.statusCode, reauth.payload).toBe(200);
    expect((await user.client.post("/api/v1/me/mfa/disable", { password: STRONG_PASSWORD })).statusCode).toBe(
      204,
    );
  });

  const lastCode = async (email: string, after: number) => {
    let found: string | undefined;
    await expect
      .poll(() => {
        found = t.mails
          .slice(after)
          .reverse()
          .find((m) => m.to === email && /Your Gatehouse code/.test(m.subject))
          ?.subject.slice(-6);
        return found;
      })
      .toMatch(/^\d{6}$/);
    return found as string;
  };

  it("uses email codes as a second factor: 10 minutes, once, not resent within 30 s", async () => {
    const user = await signUpAndLogin(t, { email: "mailcode@example.com" });
    let before = t.mails.length;
    const start = await user.client.post("/api/v1/me/mfa/email");
    expect(start.statusCode).toBe(201);
    const wrong = await user.client.post(`/api/v1/me/mfa/email/${start.body.factor_id}/verify`, {
      code: "000000",
    });
    expect(wrong.body.code).toBe("invalid_code");
    const enrollCode = await lastCode("mailcode@example.com", before);
    const ok = await user.client.post(`/api/v1/me/mfa/email/${start.body.factor_id}/verify`, {
      code: enrollCode,
    });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(ok.body.recovery_codes).toHaveLength(10);

    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "mailcode@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.body.methods).toEqual(["email", "recovery_code"]);
    // The enrollment code was sent moments ago.
    expect(
      (
        await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
          mfa_token: login.body.mfa_token,
          method: "email",
        })
      ).statusCode,
    ).toBe(429);
    t.services.clock.advance(31);
    before = t.mails.length;
    const sent = await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: login.body.mfa_token,
      method: "email",
    });
    expect(sent.statusCode).toBe(202);
    const code = await lastCode("mailcode@example.com", before);
    expect(
      (
        await createClient(t.app).post("/api/v1/auth/login/mfa", {
          mfa_token: login.body.mfa_token,
          method: "email",
          code: enrollCode,
        })
      ).body.code,
    ).toBe("invalid_code");
    const signedIn = createClient(t.app);
    const done = await signedIn.post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "email",
      code,
    });
    expect(done.statusCode, done.payload).toBe(200);

    // Spent, and a later code expires after 10 minutes.
    t.services.clock.advance(31);
    const next = await createClient(t.app).post("/api/v1/auth/login", {
      email: "mailcode@example.com",
      password: STRONG_PASSWORD,
    });
    expect(
      (
        await createClient(t.app).post("/api/v1/auth/login/mfa", {
          mfa_token: next.body.mfa_token,
          method: "email",
          code,
        })
      ).body.code,
    ).toBe("invalid_code");
    before = t.mails.length;
    await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: next.body.mfa_token,
      method: "email",
    });
    const late = await lastCode("mailcode@example.com", before);
    // Ten minutes later the code no longer proves anything (checked through re-authentication).
    t.services.clock.advance(10 * 60 + 1);
    const reauth = await signedIn.post("/api/v1/auth/reauth", { method: "email", code: late });
    expect(reauth.body.code).toBe("invalid_code");
  });

  it("refuses email codes for an unverified address", async () => {
    const client = createClient(t.app);
    await client.post("/api/v1/auth/signup", {
      email: "unverified-mfa@example.com",
      password: STRONG_PASSWORD,
      name: "U V",
      account_name: "U",
    });
    await client.post("/api/v1/auth/login", {
      email: "unverified-mfa@example.com",
      password: STRONG_PASSWORD,
    });
    const start = await client.post("/api/v1/me/mfa/email");
    expect(start.statusCode).toBe(409);
  });

  it("records when email codes were last used: at enrollment, log-in and re-authentication", async () => {
    t.services.clock.freeze(new Date());
    const user = await signUpAndLogin(t, { email: "mailcode-used@example.com" });
    const lastUsed = async () =>
      (
        (await user.client.get("/api/v1/me/mfa")).body.factors as Array<{
          type: string;
          last_used_at: string;
        }>
      )
        .filter((f) => f.type === "email")
        .map((f) => f.last_used_at);
    let before = t.mails.length;
    const start = await user.client.post("/api/v1/me/mfa/email");
    const enrolledAt = t.services.clock.now().toISOString();
    await user.client.post(`/api/v1/me/mfa/email/${start.body.factor_id}/verify`, {
      code: await lastCode("mailcode-used@example.com", before),
    });
    expect(await lastUsed()).toEqual([enrolledAt]);

    t.services.clock.advance(600);
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "mailcode-used@example.com",
      password: STRONG_PASSWORD,
    });
    before = t.mails.length;
    await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: login.body.mfa_token,
      method: "email",
    });
    const signedIn = createClient(t.app);
    const done = await signedIn.post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "email",
      code: await lastCode("mailcode-used@example.com", before),
    });
    expect(done.statusCode, done.payload).toBe(200);
    const loggedInAt = t.services.clock.now().toISOString();
    expect(await lastUsed()).toEqual([loggedInAt]);

    // A wrong code is not a use; a right one at re-authentication is.
    t.services.clock.advance(600);
    before = t.mails.length;
    expect((await signedIn.post("/api/v1/auth/reauth/send", { method: "email" })).statusCode).toBe(202);
    const code = await lastCode("mailcode-used@example.com", before);
    const wrong = await signedIn.post("/api/v1/auth/reauth", {
      method: "email",
      code: code === "111111" ? "222222" : "111111",
    });
    expect(wrong.body.code).toBe("invalid_code");
    expect(await lastUsed()).toEqual([loggedInAt]);
    const reauth = await signedIn.post("/api/v1/auth/reauth", { method: "email", code });
    expect(reauth.statusCode, reauth.payload).toBe(200);
    expect(await lastUsed()).toEqual([t.services.clock.now().toISOString()]);
  });

  it("requires Root and Admin to enroll in new accounts, after a 7-day grace period", async () => {
    const root = await signUpAndLogin(t, { email: "forced-root@example.com" });
    const session = await root.client.get("/api/v1/session");
    const due = Date.parse(session.body.mfa_enrollment_due_at);
    expect(Math.round((due - t.services.clock.now().getTime()) / 86_400_000)).toBe(7);
    expect((await root.client.get(`/api/v1/accounts/${root.accountId}/members`)).statusCode).toBe(200);
    const security = await root.client.get(`/api/v1/accounts/${root.accountId}/security`);
    expect(security.body.mfa).toMatchObject({
      grace_days: 7,
      allowed_methods: ["totp", "email", "sms", "passkey"],
    });
    expect(security.body.mfa.required_role_ids).toHaveLength(2);

    t.services.clock.advance(8 * 86400);
    const later = createClient(t.app);
    await later.post("/api/v1/auth/login", { email: "forced-root@example.com", password: STRONG_PASSWORD });
    const blocked = await later.get(`/api/v1/accounts/${root.accountId}/members`);
    expect(blocked.statusCode).toBe(403);
    expect(blocked.body.code).toBe("mfa_enrollment_required");
    expect((await later.get("/api/v1/me")).statusCode).toBe(200);
    expect((await later.get("/api/v1/session")).statusCode).toBe(200);
    const start = await later.post("/api/v1/me/mfa/totp", {});
    expect(start.statusCode).toBe(201);
    const verified = await later.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: codeFor(start.body.secret),
    });
    expect(verified.statusCode).toBe(200);
    expect((await later.get("/api/v1/session")).body.mfa_enrollment_due_at).toBeNull();
    expect((await later.get(`/api/v1/accounts/${root.accountId}/members`)).statusCode).toBe(200);
  });

  it("lets an admin require MFA for a role, with the grace and methods the account chooses", async () => {
    const root = await signUpAndLogin(t, { email: "policy-root@example.com" });
    const roles = Object.fromEntries(
      (
        (await root.client.get(`/api/v1/accounts/${root.accountId}/roles`)).body.data as Array<{
          key: string;
          id: string;
        }>
      ).map((r) => [r.key, r.id]),
    );
    const dev = await addMember(t, root, { email: "policy-dev@example.com", roleKey: "developer" });
    expect((await dev.client.get("/api/v1/session")).body.mfa_enrollment_due_at).toBeNull();

    const bad = await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, {
      mfa: { required_role_ids: ["role_nope"] },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      (
        await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, {
          mfa: { allowed_methods: [] },
        })
      ).statusCode,
    ).toBe(400);
    const set = await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, {
      mfa: {
        required_role_ids: [roles.root, roles.admin, roles.developer],
        grace_days: 0,
        allowed_methods: ["totp"],
      },
    });
    expect(set.statusCode).toBe(200);
    expect((await dev.client.get(`/api/v1/accounts/${root.accountId}/members`)).statusCode).toBe(200); // this session predates the rule

    const next = createClient(t.app);
    await next.post("/api/v1/auth/login", { email: "policy-dev@example.com", password: dev.password });
    expect((await next.get(`/api/v1/accounts/${root.accountId}/members`)).body.code).toBe(
      "mfa_enrollment_required",
    );
    const email = await next.post("/api/v1/me/mfa/email");
    expect(email.statusCode).toBe(403);
    const start = await next.post("/api/v1/me/mfa/totp", {});
    await next.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: codeFor(start.body.secret),
    });
    expect((await next.get(`/api/v1/accounts/${root.accountId}/members`)).statusCode).toBe(200);
    const events = await t.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("account_id", "=", root.accountId)
      .execute();
    expect(events.map((e) => e.action)).toContain("account.security_updated");
  });
});
