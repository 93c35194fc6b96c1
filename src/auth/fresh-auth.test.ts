import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp, TOTP_PERIOD } from "../mfa/totp.js";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe.each(testDialects())("fresh authentication for sensitive actions on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const codeMail = async (email: string, after: number) => {
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

  it("asks again before a password change and a deactivation once the log-in is 10 minutes old", async () => {
    const user = await signUpAndLogin(t, { email: "stale@example.com" });
    t.services.clock.advance(10 * 60 + 1);
    const change = await user.client.post("/api/v1/me/password", {
      current_password: STRONG_PASSWORD,
      new_password: "Fresh-Harbor-Light-77",
    });
    expect(change.statusCode).toBe(403);
    expect(change.body.code).toBe("reauth_required");
    const deactivate = await user.client.post("/api/v1/me/deactivate", { password: STRONG_PASSWORD });
    expect(deactivate.statusCode).toBe(403);
    expect(deactivate.body.code).toBe("reauth_required");
    // Nothing happened: the old password still works.
    expect(
      (
        await createClient(t.app).post("/api/v1/auth/login", {
          email: "stale@example.com",
          password: STRONG_PASSWORD,
        })
      ).statusCode,
    ).toBe(200);

    expect((await user.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    const changed = await user.client.post("/api/v1/me/password", {
      current_password: STRONG_PASSWORD,
      new_password: "Fresh-Harbor-Light-77",
    });
    expect(changed.statusCode, changed.payload).toBe(200);
    await expect
      .poll(() =>
        t.mails.filter((m) => m.to === "stale@example.com" && /password was changed/.test(m.subject)),
      )
      .toHaveLength(1);
    expect(
      (await user.client.post("/api/v1/me/deactivate", { password: "Fresh-Harbor-Light-77" })).statusCode,
    ).toBe(204);
  });

  it("asks again before adding even a first factor once the log-in is 10 minutes old", async () => {
    // A factor added through a stolen session would let its holder pass every later re-authentication.
    const user = await signUpAndLogin(t, { email: "first-factor@example.com" });
    t.services.clock.advance(10 * 60 + 1);
    for (const [path, body] of [
      ["/api/v1/me/mfa/totp", {}],
      ["/api/v1/me/mfa/email", {}],
      ["/api/v1/me/mfa/sms", { phone: "+14155550123" }],
      ["/api/v1/me/passkeys/options", {}],
    ] as const) {
      const refused = await user.client.post(path, body);
      expect(refused.statusCode, `${path}: ${refused.payload}`).toBe(403);
      expect(refused.body.code).toBe("reauth_required");
    }
    expect((await user.client.get("/api/v1/me/mfa")).body.factors).toEqual([]);
    expect((await user.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    const started = await user.client.post("/api/v1/me/mfa/totp", {});
    expect(started.statusCode, started.payload).toBe(201);
  });

  it("keeps the forced password change working, also after the fresh window", async () => {
    await signUpAndLogin(t, { email: "forced@example.com" });
    await t.services.auth.adminResetPassword("forced@example.com", "Operator-Set-Harbor-1");
    const client = createClient(t.app);
    const login = await client.post("/api/v1/auth/login", {
      email: "forced@example.com",
      password: "Operator-Set-Harbor-1",
    });
    expect(login.body.password_change_required).toBe(true);
    t.services.clock.advance(11 * 60);
    const stale = await client.post("/api/v1/me/password", {
      current_password: "Operator-Set-Harbor-1",
      new_password: "Chosen-By-Me-Harbor-2",
    });
    expect(stale.body.code).toBe("reauth_required");
    // Re-authenticating is allowed while the change is pending.
    expect((await client.post("/api/v1/auth/reauth", { password: "Operator-Set-Harbor-1" })).statusCode).toBe(
      200,
    );
    const changed = await client.post("/api/v1/me/password", {
      current_password: "Operator-Set-Harbor-1",
      new_password: "Chosen-By-Me-Harbor-2",
    });
    expect(changed.statusCode, changed.payload).toBe(200);
    expect((await client.get("/api/v1/session")).body.password_change_required).toBe(false);
  });

  it("re-authenticates with an emailed code: sent on request, once, 10 minutes, not resent within 30 s", async () => {
    const user = await signUpAndLogin(t, { email: "reauth-mail@example.com" });
    // No email factor yet: nothing to send, and a code method the user lacks is refused.
    const none = await user.client.post("/api/v1/auth/reauth/send", { method: "email" });
    expect(none.statusCode).toBe(400);
    let before = t.mails.length;
    const start = await user.client.post("/api/v1/me/mfa/email");
    const enrollCode = await codeMail("reauth-mail@example.com", before);
    const pendingUse = await user.client.post("/api/v1/auth/reauth", { method: "email", code: enrollCode });
    expect(pendingUse.statusCode).toBe(400);
    expect(pendingUse.body.code).toBe("validation_failed");
    await user.client.post(`/api/v1/me/mfa/email/${start.body.factor_id}/verify`, { code: enrollCode });

    t.services.clock.advance(11 * 60);
    expect((await user.client.post("/api/v1/me/mfa/recovery-codes")).body.code).toBe("reauth_required");
    before = t.mails.length;
    const sent = await user.client.post("/api/v1/auth/reauth/send", { method: "email" });
    expect(sent.statusCode).toBe(202);
    const code = await codeMail("reauth-mail@example.com", before);
    expect((await user.client.post("/api/v1/auth/reauth/send", { method: "email" })).statusCode).toBe(429);
    const wrong = await user.client.post("/api/v1/auth/reauth", {
      method: "email",
      code: code === "000000" ? "111111" : "000000",
    });
    expect(wrong.body.code).toBe("invalid_code");
    const ok = await user.client.post("/api/v1/auth/reauth", { method: "email", code });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect((await user.client.post("/api/v1/me/mfa/recovery-codes")).statusCode).toBe(200);
    // Once only.
    expect((await user.client.post("/api/v1/auth/reauth", { method: "email", code })).body.code).toBe(
      "invalid_code",
    );

    // Ten minutes only.
    t.services.clock.advance(31);
    before = t.mails.length;
    await user.client.post("/api/v1/auth/reauth/send", { method: "email" });
    const late = await codeMail("reauth-mail@example.com", before);
    t.services.clock.advance(10 * 60 + 1);
    expect((await user.client.post("/api/v1/auth/reauth", { method: "email", code: late })).body.code).toBe(
      "invalid_code",
    );

    // Unknown methods and junk are 400s.
    for (const body of [{ method: "carrier-pigeon" }, { method: "email", extra: "x".repeat(10_000) }, {}]) {
      expect((await user.client.post("/api/v1/auth/reauth/send", body)).statusCode).toBe(400);
    }
    const csrf = await user.client.post(
      "/api/v1/auth/reauth/send",
      { method: "email" },
      { "x-csrf-token": "no" },
    );
    expect(csrf.body.code).toBe("csrf_failed");
  });

  it("limits wrong emailed codes to five per code", async () => {
    const user = await signUpAndLogin(t, { email: "reauth-brute@example.com" });
    let before = t.mails.length;
    const start = await user.client.post("/api/v1/me/mfa/email");
    await user.client.post(`/api/v1/me/mfa/email/${start.body.factor_id}/verify`, {
      code: await codeMail("reauth-brute@example.com", before),
    });
    t.services.clock.advance(31);
    before = t.mails.length;
    await user.client.post("/api/v1/auth/reauth/send", { method: "email" });
    const code = await codeMail("reauth-brute@example.com", before);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++)
      await user.client.post("/api/v1/auth/reauth", { method: "email", code: wrong });
    expect((await user.client.post("/api/v1/auth/reauth", { method: "email", code })).body.code).toBe(
      "invalid_code",
    );
  });

  const lockMails = (email: string) =>
    t.mails.filter((m) => m.to === email && /^Too many wrong codes/.test(m.subject));

  /** A new session of `email` from `ip` (password only). */
  async function loginFrom(email: string, ip: string) {
    const client = createClient(t.app, { ip });
    const login = await client.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect(login.statusCode, login.payload).toBe(200);
    return client;
  }

  it("ends the session that guesses passwords at re-authentication: 10 wrong, then 429, then log in again", async () => {
    const email = "reauth-guess@example.com";
    await signUpAndLogin(t, { email });
    const attacker = await loginFrom(email, "198.51.100.31");
    const owner = await loginFrom(email, "192.0.2.31");
    const answers = [];
    for (let i = 0; i < 10; i++)
      answers.push(await attacker.post("/api/v1/auth/reauth", { password: `wrong-guess-${i}-harbor` }));
    expect(answers.slice(0, 9).map((r) => r.body.code)).toEqual(Array(9).fill("incorrect_password"));
    const locking = answers[9] as (typeof answers)[number];
    expect(locking.statusCode).toBe(429);
    expect(locking.body.code).toBe("rate_limited");
    expect(locking.headers["retry-after"]).toBe("60");
    expect(locking.body.detail).toMatch(/session has ended/);

    // That session is over: the next request is 401, and the right password cannot revive it.
    expect((await attacker.get("/api/v1/session")).statusCode).toBe(401);
    expect((await attacker.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(401);
    expect(
      (await attacker.post("/api/v1/me/email", { new_email: "taken-over@example.com" })).statusCode,
    ).toBe(401);
    // The user's other session is refused while the lock holds (the right password too), and kept.
    const during = await owner.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
    expect(during.statusCode).toBe(429);
    expect(Number(during.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect((await owner.get("/api/v1/session")).statusCode).toBe(200);
    await expect.poll(() => lockMails(email).length).toBe(1);

    t.services.clock.advance(61);
    expect((await owner.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(200);
    // From scratch: logging in again works (this lock is not on the password step).
    await loginFrom(email, "198.51.100.31");
    expect(lockMails(email)).toHaveLength(1);
  });

  it("counts wrong codes and recovery codes at re-authentication together and ends the guessing session", async () => {
    const email = "reauth-codes@example.com";
    const user = await signUpAndLogin(t, { email });
    const totpAt = (secret: string, steps: number) =>
      newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() + steps * TOTP_PERIOD * 1000 });
    const start = await user.client.post("/api/v1/me/mfa/totp", {});
    const secret = start.body.secret as string;
    const enrolled = await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: totpAt(secret, 0),
    });
    const recovery = enrolled.body.recovery_codes as string[];
    // The owner's own second session, signed in with a recovery code.
    const owner = createClient(t.app, { ip: "192.0.2.32" });
    const login = await owner.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect(
      (
        await owner.post("/api/v1/auth/login/mfa", {
          mfa_token: login.body.mfa_token,
          method: "recovery_code",
          code: recovery[0],
        })
      ).statusCode,
    ).toBe(200);

    const valid = new Set([-1, 0, 1, 2].map((s) => totpAt(secret, s)));
    const wrongTotp = ["000000", "111111", "222222", "333333", "444444"].find((c) => !valid.has(c)) as string;
    const answers = [];
    for (let i = 0; i < 10; i++) {
      answers.push(
        await user.client.post(
          "/api/v1/auth/reauth",
          i % 2
            ? { method: "recovery_code", code: `zzzz-zzzz-zzz${i}` }
            : { method: "totp", code: wrongTotp },
        ),
      );
    }
    expect(answers.slice(0, 9).map((r) => r.body.code)).toEqual(Array(9).fill("invalid_code"));
    expect(answers[9]?.statusCode).toBe(429);
    expect(answers[9]?.headers["retry-after"]).toBe("60");
    expect(
      (await user.client.post("/api/v1/auth/reauth", { method: "recovery_code", code: recovery[1] }))
        .statusCode,
    ).toBe(401);
    expect((await user.client.get("/api/v1/me")).statusCode).toBe(401);
    // A right code from another session does not get through the lock either (and is not spent).
    const during = await owner.post("/api/v1/auth/reauth", { method: "recovery_code", code: recovery[1] });
    expect(during.statusCode).toBe(429);
    await expect.poll(() => lockMails(email).length).toBe(1);

    t.services.clock.advance(61);
    const after = await owner.post("/api/v1/auth/reauth", { method: "recovery_code", code: recovery[1] });
    expect(after.statusCode, after.payload).toBe(200);
  });

  it("counts wrong passwords of password-confirmed actions like re-authentication", async () => {
    const email = "confirm-guess@example.com";
    await signUpAndLogin(t, { email });
    const session = await loginFrom(email, "198.51.100.33");
    const wrong = "not-the-password-harbor-1";
    const answers = [];
    for (let i = 0; i < 3; i++)
      answers.push(
        await session.post("/api/v1/me/password", {
          current_password: wrong,
          new_password: "Fresh-Harbor-Light-78",
        }),
      );
    for (let i = 0; i < 3; i++)
      answers.push(await session.post("/api/v1/me/deactivate", { password: wrong }));
    for (let i = 0; i < 2; i++)
      answers.push(await session.post("/api/v1/me/mfa/disable", { password: wrong }));
    answers.push(await session.request("DELETE", "/api/v1/me/mfa/factors/factor_x", { password: wrong }));
    answers.push(await session.post("/api/v1/auth/reauth", { password: wrong }));
    expect(answers.slice(0, 9).map((r) => r.body.code)).toEqual(Array(9).fill("incorrect_password"));
    expect(answers[9]?.statusCode).toBe(429);
    expect((await session.get("/api/v1/session")).statusCode).toBe(401);
    await expect.poll(() => lockMails(email).length).toBe(1);
    // Nothing changed: the password still works once the lock is over, and the login is active.
    t.services.clock.advance(61);
    await loginFrom(email, "198.51.100.33");
  });
});
