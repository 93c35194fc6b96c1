import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
});
