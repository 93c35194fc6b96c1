import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../mfa/totp.js";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

const FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:131.0) Gecko/20100101 Firefox/131.0";

describe.each(testDialects())("new-device sign-in mails on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const newSignIns = (to: string) =>
    t.mails.filter((m) => m.to === to && /New sign-in to your account/.test(m.subject));
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it("stays quiet for the first device and a known one, and announces a new one once", async () => {
    const user = await signUpAndLogin(t, { email: "devices@example.com" });
    // First device: nothing to compare with.
    expect(user.client.device).toEqual(expect.any(String));
    await user.client.post("/api/v1/auth/logout");
    const again = await user.client.post("/api/v1/auth/login", {
      email: "devices@example.com",
      password: STRONG_PASSWORD,
    });
    expect(again.statusCode).toBe(200);
    await settle();
    expect(newSignIns("devices@example.com")).toHaveLength(0);

    // A wrong password from a new device announces nothing.
    const stranger = createClient(t.app, { ip: "203.0.113.9", userAgent: FIREFOX_MAC });
    await stranger.post("/api/v1/auth/login", { email: "devices@example.com", password: "wrong-one" });
    await settle();
    expect(newSignIns("devices@example.com")).toHaveLength(0);

    t.services.clock.set(new Date("2026-11-23T08:30:00.000Z"));
    const login = await stranger.post("/api/v1/auth/login", {
      email: "devices@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    const cookie = login.cookies.find((c) => c.name === "gatehouse_device");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(cookie?.maxAge).toBe(365 * 86400);
    expect(cookie?.secure).toBeFalsy();
    await expect.poll(() => newSignIns("devices@example.com").length).toBe(1);
    const mail = newSignIns("devices@example.com")[0]?.text ?? "";
    // The recipient's time zone and language (UTC and English by default).
    expect(mail.replace(/\s/g, " ")).toContain("When: Nov 23, 2026, 8:30:00 AM UTC");
    expect(mail).toContain("203.0.113.9");
    expect(mail).toContain("Firefox 131 on macOS");
    expect(mail).toMatch(/If it wasn't you, reset your password/);
    const stored = await t.services.db.selectFrom("user_devices").select("device_hash").execute();
    expect(stored.map((d) => d.device_hash)).not.toContain(stranger.device);

    // Now known: quiet.
    await stranger.post("/api/v1/auth/logout");
    await stranger.post("/api/v1/auth/login", { email: "devices@example.com", password: STRONG_PASSWORD });
    await settle();
    expect(newSignIns("devices@example.com")).toHaveLength(1);
    const events = await t.services.db
      .selectFrom("audit_events")
      .select("changes")
      .where("actor_id", "=", user.userId)
      .where("action", "=", "auth.login")
      .orderBy("seq")
      .execute();
    expect(events.map((e) => (e.changes ? JSON.parse(e.changes).new_device : undefined))).toEqual([
      undefined,
      undefined,
      "Firefox 131 on macOS",
      undefined,
    ]);
  });

  it("announces after the second factor, not at the password step, and ignores forged device cookies", async () => {
    const user = await signUpAndLogin(t, { email: "mfa-device@example.com" });
    const start = await user.client.post("/api/v1/me/mfa/totp", {});
    const secret = start.body.secret as string;
    const code = () => newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() });
    await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, { code: code() });

    const other = createClient(t.app, { userAgent: FIREFOX_MAC });
    other.device = "not a token; injected=1";
    const first = await other.post("/api/v1/auth/login", {
      email: "mfa-device@example.com",
      password: STRONG_PASSWORD,
    });
    expect(first.body.mfa_required).toBe(true);
    expect(first.cookies).toHaveLength(0);
    await settle();
    expect(newSignIns("mfa-device@example.com")).toHaveLength(0);
    t.services.clock.advance(30);
    const done = await other.post("/api/v1/auth/login/mfa", {
      mfa_token: first.body.mfa_token,
      method: "totp",
      code: code(),
    });
    expect(done.statusCode, done.payload).toBe(200);
    expect(other.device).toMatch(/^[\w-]{43}$/);
    await expect.poll(() => newSignIns("mfa-device@example.com").length).toBe(1);
  });

  it("marks the device cookie Secure when PUBLIC_URL is https", async () => {
    const secure = await createTestApp(dialect, { PUBLIC_URL: "https://gatehouse.test" });
    try {
      const client = createClient(secure.app);
      await client.post("/api/v1/auth/signup", {
        email: "secure@example.com",
        password: STRONG_PASSWORD,
        name: "Sec Ure",
        account_name: "Sec",
      });
      const login = await client.post("/api/v1/auth/login", {
        email: "secure@example.com",
        password: STRONG_PASSWORD,
      });
      expect(login.cookies.find((c) => c.name === "gatehouse_device")?.secure).toBe(true);
    } finally {
      await secure.close();
    }
  });
});
