import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { normalizePhone } from "../lib/phone.js";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe("phone numbers", () => {
  it.each([
    ["+44 7700 900123", "+447700900123"],
    ["+1 (415) 555-0100", "+14155550100"],
    ["0049 151 2345 6789", "+4915123456789"],
    ["+33.6.12.34.56.78", "+33612345678"],
    // The trunk "(0)" people write after the country code is not part of the number.
    ["+44 (0)7700 900123", "+447700900123"],
  ])("normalizes %s to E.164", (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });

  it.each([
    "07700 900123",
    "+0 1234567",
    "+12",
    "+1234567890123456",
    "+44 7700 ٩٠٠١٢٣",
    "<b>+447700900123</b>",
    // A length no number of that country has, and a country code nobody has.
    "+44 1234 5678",
    "+999 1234 5678",
  ])("refuses %s", (input) => {
    expect(normalizePhone(input)).toBeUndefined();
  });
});

describe.each(testDialects())("text-message codes on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  /** The code in the newest text message to `phone`, read through the development outbox route. */
  async function lastSms(phone: string): Promise<string> {
    const outbox = await createClient(t.app).get(`/dev/sms?to=${encodeURIComponent(phone)}`);
    const text = (outbox.body.data as Array<{ text: string }>)[0]?.text ?? "";
    const code = /\b(\d{6})\b/.exec(text)?.[1];
    if (!code) throw new Error(`no code sent to ${phone}`);
    return code;
  }

  async function enrollSms(email: string, phone: string) {
    const user = await signUpAndLogin(t, { email });
    const start = await user.client.post("/api/v1/me/mfa/sms", { phone });
    expect(start.statusCode, start.payload).toBe(201);
    return { ...user, factorId: start.body.factor_id as string, start };
  }

  it("verifies the number with a code sent to it before it becomes a factor, and keeps it sealed", async () => {
    const user = await enrollSms("sms-enroll@example.com", "+44 7700 900123");
    expect(user.start.body.phone).toBe("•••• 0123");
    // Not a factor yet: nothing is on until the number is proven.
    expect((await user.client.get("/api/v1/me/mfa")).body.enabled).toBe(false);
    const wrong = await user.client.post(`/api/v1/me/mfa/sms/${user.factorId}/verify`, { code: "000000" });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body.code).toBe("invalid_code");
    const ok = await user.client.post(`/api/v1/me/mfa/sms/${user.factorId}/verify`, {
      code: await lastSms("+447700900123"),
    });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(ok.body.recovery_codes).toHaveLength(10);
    expect((await user.client.get("/api/v1/me/mfa")).body).toMatchObject({
      enabled: true,
      factors: [{ type: "sms", label: "Text message (•••• 0123)" }],
    });
    const row = await t.services.db
      .selectFrom("mfa_factors")
      .select("secret_enc")
      .where("id", "=", user.factorId)
      .executeTakeFirstOrThrow();
    expect(row.secret_enc).toBeTruthy();
    expect(row.secret_enc).not.toContain("7700900123");
    // One number at a time.
    t.services.clock.advance(31);
    const again = await user.client.post("/api/v1/me/mfa/sms", { phone: "+44 7700 900999" });
    expect(again.statusCode).toBe(409);
  });

  it.each([
    ["a number without country code", "07700 900123"],
    ["letters", "call me maybe"],
    ["markup", "<script>alert(1)</script>"],
    ["SQL", "+44'; drop table users; --"],
    ["unicode digits", "+44 ٧٧٠٠ ٩٠٠١٢٣"],
  ])("refuses %s with a 400 naming the phone field", async (_what, phone) => {
    const user = await signUpAndLogin(t, {
      email: `bad-phone-${phone.length}-${phone.charCodeAt(1)}@example.com`,
    });
    const response = await user.client.post("/api/v1/me/mfa/sms", { phone });
    expect(response.statusCode).toBe(400);
    expect(response.body.errors[0].path).toBe("phone");
  });

  it("refuses wrong types and huge input with 400", async () => {
    const user = await signUpAndLogin(t, { email: "sms-types@example.com" });
    expect((await user.client.post("/api/v1/me/mfa/sms", { phone: 447700900123 })).statusCode).toBe(400);
    expect((await user.client.post("/api/v1/me/mfa/sms", { phone: "+4".padEnd(5000, "4") })).statusCode).toBe(
      400,
    );
    expect((await user.client.post("/api/v1/me/mfa/sms", {})).statusCode).toBe(400);
  });

  it("signs in with a texted code once; an expired or used code is refused; guessing is throttled", async () => {
    const user = await enrollSms("sms-login@example.com", "+1 415 555 0100");
    await user.client.post(`/api/v1/me/mfa/sms/${user.factorId}/verify`, {
      code: await lastSms("+14155550100"),
    });

    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "sms-login@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.body.methods).toEqual(["sms", "recovery_code"]);
    t.services.clock.advance(31);
    const sent = await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: login.body.mfa_token,
      method: "sms",
    });
    expect(sent.statusCode).toBe(202);
    const code = await lastSms("+14155550100");
    // A code sent by text is not an email code.
    const asEmail = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "email",
      code,
    });
    expect(asEmail.body.code).toBe("invalid_code");
    const signedIn = createClient(t.app);
    const done = await signedIn.post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "sms",
      code,
    });
    expect(done.statusCode, done.payload).toBe(200);
    expect(done.body.user.email).toBe("sms-login@example.com");

    // Used: a second log-in cannot reuse it.
    const next = await createClient(t.app).post("/api/v1/auth/login", {
      email: "sms-login@example.com",
      password: STRONG_PASSWORD,
    });
    const replay = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: next.body.mfa_token,
      method: "sms",
      code,
    });
    expect(replay.body.code).toBe("invalid_code");

    // Expired after 10 minutes.
    t.services.clock.advance(31);
    await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: next.body.mfa_token,
      method: "sms",
    });
    const late = await lastSms("+14155550100");
    t.services.clock.advance(10 * 60 + 1);
    const third = await createClient(t.app).post("/api/v1/auth/login", {
      email: "sms-login@example.com",
      password: STRONG_PASSWORD,
    });
    const expired = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: third.body.mfa_token,
      method: "sms",
      code: late,
    });
    expect(expired.body.code).toBe("invalid_code");

    // Guessing is throttled: within five wrong codes the attempt is locked, and then a right code fails too.
    t.services.clock.advance(31);
    await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: third.body.mfa_token,
      method: "sms",
    });
    const fresh = await lastSms("+14155550100");
    const wrongCode = fresh === "111111" ? "222222" : "111111";
    const statuses: number[] = [];
    for (let i = 0; i < 5 && !statuses.includes(429); i++) {
      const guess = await createClient(t.app).post("/api/v1/auth/login/mfa", {
        mfa_token: third.body.mfa_token,
        method: "sms",
        code: wrongCode,
      });
      statuses.push(guess.statusCode);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 400 && s !== 429)).toEqual([]);
    const blocked = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: third.body.mfa_token,
      method: "sms",
      code: fresh,
    });
    expect(blocked.statusCode).toBe(429);
  });

  it("records when text-message codes were last used: at enrollment, log-in and re-authentication", async () => {
    t.services.clock.freeze(new Date());
    const user = await enrollSms("sms-used@example.com", "+1 415 555 0107");
    const lastUsed = async () =>
      (
        (await user.client.get("/api/v1/me/mfa")).body.factors as Array<{
          type: string;
          last_used_at: string;
        }>
      )
        .filter((f) => f.type === "sms")
        .map((f) => f.last_used_at);
    await user.client.post(`/api/v1/me/mfa/sms/${user.factorId}/verify`, {
      code: await lastSms("+14155550107"),
    });
    expect(await lastUsed()).toEqual([t.services.clock.now().toISOString()]);

    t.services.clock.advance(600);
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "sms-used@example.com",
      password: STRONG_PASSWORD,
    });
    await createClient(t.app).post("/api/v1/auth/login/mfa/send", {
      mfa_token: login.body.mfa_token,
      method: "sms",
    });
    const signedIn = createClient(t.app);
    const done = await signedIn.post("/api/v1/auth/login/mfa", {
      mfa_token: login.body.mfa_token,
      method: "sms",
      code: await lastSms("+14155550107"),
    });
    expect(done.statusCode, done.payload).toBe(200);
    const loggedInAt = t.services.clock.now().toISOString();
    expect(await lastUsed()).toEqual([loggedInAt]);

    // A wrong code is not a use; a right one at re-authentication is.
    t.services.clock.advance(600);
    expect((await signedIn.post("/api/v1/auth/reauth/send", { method: "sms" })).statusCode).toBe(202);
    const code = await lastSms("+14155550107");
    const wrong = await signedIn.post("/api/v1/auth/reauth", {
      method: "sms",
      code: code === "111111" ? "222222" : "111111",
    });
    expect(wrong.body.code).toBe("invalid_code");
    expect(await lastUsed()).toEqual([loggedInAt]);
    const reauth = await signedIn.post("/api/v1/auth/reauth", { method: "sms", code });
    expect(reauth.statusCode, reauth.payload).toBe(200);
    expect(await lastUsed()).toEqual([t.services.clock.now().toISOString()]);
  });

  it("counts wrong texted codes per user across sign-in attempts, not only per code", async () => {
    const email = "sms-guess@example.com";
    const user = await enrollSms(email, "+1 415 555 0199");
    await user.client.post(`/api/v1/me/mfa/sms/${user.factorId}/verify`, {
      code: await lastSms("+14155550199"),
    });
    const codes: string[] = [];
    let token = "";
    let code = "";
    for (let round = 0; round < 3; round++) {
      t.services.clock.advance(31);
      const login = await createClient(t.app).post("/api/v1/auth/login", {
        email,
        password: STRONG_PASSWORD,
      });
      token = login.body.mfa_token;
      await createClient(t.app).post("/api/v1/auth/login/mfa/send", { mfa_token: token, method: "sms" });
      code = await lastSms("+14155550199");
      // Four wrong tries per code and per mfa_token: under both of their own limits.
      for (let i = 0; i < 4 && codes.length < 10; i++) {
        const guess = await createClient(t.app).post("/api/v1/auth/login/mfa", {
          mfa_token: token,
          method: "sms",
          code: code === "111111" ? "222222" : "111111",
        });
        codes.push(guess.body.code);
      }
    }
    expect(codes).toEqual([...Array(9).fill("invalid_code"), "rate_limited"]);
    const right = { mfa_token: token, method: "sms", code };
    expect((await createClient(t.app).post("/api/v1/auth/login/mfa", right)).statusCode).toBe(429);
    t.services.clock.advance(61);
    const done = await createClient(t.app).post("/api/v1/auth/login/mfa", right);
    expect(done.statusCode, done.payload).toBe(200);
  });

  it("sends at most one text every 30 s and ten a day", async () => {
    const user = await enrollSms("sms-limit@example.com", "+33 6 12 34 56 78");
    const soon = await user.client.post("/api/v1/me/mfa/sms", { phone: "+33 6 12 34 56 78" });
    expect(soon.statusCode).toBe(429);
    expect(soon.headers["retry-after"]).toBeDefined();
    // The first enrollment used one of the day's ten.
    for (let i = 0; i < 9; i++) {
      t.services.clock.advance(31);
      expect((await user.client.post("/api/v1/me/mfa/sms", { phone: "+33 6 12 34 56 78" })).statusCode).toBe(
        201,
      );
    }
    t.services.clock.advance(31);
    const capped = await user.client.post("/api/v1/me/mfa/sms", { phone: "+33 6 12 34 56 78" });
    expect(capped.statusCode).toBe(429);
    expect(capped.body.detail).toMatch(/today/);
    const sent = await t.services.db
      .selectFrom("sms_outbox")
      .select("id")
      .where("to_number", "=", "+33612345678")
      .execute();
    expect(sent).toHaveLength(10);
  });

  it("refuses SMS when an account that requires MFA of the user does not allow it", async () => {
    const user = await signUpAndLogin(t, { email: "sms-policy@example.com" });
    const patch = await user.client.patch(`/api/v1/accounts/${user.accountId}/security`, {
      mfa: { allowed_methods: ["totp"] },
    });
    expect(patch.statusCode, patch.payload).toBe(200);
    const refused = await user.client.post("/api/v1/me/mfa/sms", { phone: "+44 7700 900555" });
    expect(refused.statusCode).toBe(403);
    expect(
      await t.services.db
        .selectFrom("sms_outbox")
        .select("id")
        .where("to_number", "=", "+447700900555")
        .execute(),
    ).toHaveLength(0);
  });
});

describe.each(testDialects())("the SMS webhook provider on %s", (dialect) => {
  const received: Array<{ authorization?: string; body: unknown }> = [];
  const server = createServer((request: IncomingMessage, response) => {
    let data = "";
    request.on("data", (chunk) => {
      data += chunk;
    });
    request.on("end", () => {
      received.push({ authorization: request.headers.authorization, body: JSON.parse(data) });
      response.writeHead(204).end();
    });
  });
  let t: TestApp;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    t = await createTestApp(dialect, {
      SMS_WEBHOOK_URL: `http://127.0.0.1:${port}/sms`,
      SMS_WEBHOOK_TOKEN: "gateway-secret",
    });
  });
  afterAll(async () => {
    await t?.close();
    server.close();
  });

  it("POSTs {to, text} with the bearer token, and the code it carries confirms the factor", async () => {
    const user = await signUpAndLogin(t, { email: "webhook-sms@example.com" });
    const start = await user.client.post("/api/v1/me/mfa/sms", { phone: "+44 7700 900777" });
    expect(start.statusCode).toBe(201);
    expect(received).toHaveLength(1);
    expect(received[0]?.authorization).toBe("Bearer gateway-secret");
    const body = received[0]?.body as { to: string; text: string };
    expect(body.to).toBe("+447700900777");
    const code = /\b(\d{6})\b/.exec(body.text)?.[1] as string;
    const ok = await user.client.post(`/api/v1/me/mfa/sms/${start.body.factor_id}/verify`, { code });
    expect(ok.statusCode, ok.payload).toBe(200);
    // Nothing went to the development outbox.
    expect(await t.services.db.selectFrom("sms_outbox").select("id").execute()).toHaveLength(0);
  });
});
