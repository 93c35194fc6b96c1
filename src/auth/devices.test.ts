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
import { deviceFamily, networkOf } from "./device-identity.js";

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

  it("recognises cookie-less clients by browser, system and network, and mails at most once an hour", async () => {
    const user = await signUpAndLogin(t, { email: "cli@example.com" });
    t.services.clock.set(new Date("2026-11-24T10:00:00.000Z"));
    // Each log-in from a new client object: no device cookie, as curl, the CLI or a load test send.
    const logInFrom = async (ip: string, userAgent: string) => {
      const response = await createClient(t.app, { ip, userAgent }).post("/api/v1/auth/login", {
        email: "cli@example.com",
        password: STRONG_PASSWORD,
      });
      expect(response.statusCode).toBe(200);
      await settle();
    };
    const devicesOfUser = async () =>
      (
        await t.services.db
          .selectFrom("user_devices")
          .select(["family", "network"])
          .where("user_id", "=", user.userId)
          .execute()
      )
        .map((d) => `${d.family} @ ${d.network}`)
        .sort();

    await logInFrom("198.51.100.20", "curl/8.5.0");
    expect(newSignIns("cli@example.com")).toHaveLength(1);
    // The same client again, and from another address of the same /24: known, no mail, no new row.
    for (const ip of ["198.51.100.20", "198.51.100.20", "198.51.100.77"]) await logInFrom(ip, "curl/8.6.0");
    expect(newSignIns("cli@example.com")).toHaveLength(1);
    expect(await devicesOfUser()).toEqual([
      "Chrome on Linux @ 127.0.0.0/24",
      "curl on Unknown @ 198.51.100.0/24",
    ]);

    // A really new device within the hour is remembered and audited, but the user gets no second mail.
    t.services.clock.advance(600);
    await logInFrom("203.0.113.9", FIREFOX_MAC);
    expect(newSignIns("cli@example.com")).toHaveLength(1);
    const last = await t.services.db
      .selectFrom("audit_events")
      .select("changes")
      .where("actor_id", "=", user.userId)
      .where("action", "=", "auth.login")
      .orderBy("seq", "desc")
      .executeTakeFirstOrThrow();
    expect(JSON.parse(last.changes ?? "{}").new_device).toBe("Firefox 131 on macOS");

    // An hour after the first mail, the next new device is announced again. IPv6: the /48 is the network.
    t.services.clock.advance(3001);
    await logInFrom(
      "2001:db8:1:2::5",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Mobile/15E148 Safari/604.1",
    );
    await expect.poll(() => newSignIns("cli@example.com").length).toBe(2);
    await logInFrom(
      "2001:db8:1:ffff::9",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) Version/17.6 Mobile/15E148 Safari/604.1",
    );
    // Another network with a known browser family is a new device again (remembered, no mail: within the hour).
    await logInFrom("192.0.2.44", "curl/8.6.0");
    expect(newSignIns("cli@example.com")).toHaveLength(2);
    expect(await devicesOfUser()).toEqual(
      [
        "Chrome on Linux @ 127.0.0.0/24",
        "curl on Unknown @ 198.51.100.0/24",
        "Firefox on macOS @ 203.0.113.0/24",
        "Safari on iOS @ 2001:db8:1::/48",
        "curl on Unknown @ 192.0.2.0/24",
      ].sort(),
    );
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

describe("device identity", () => {
  it("names the network of an address and the family of a browser", () => {
    expect(networkOf("203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkOf("::ffff:203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkOf("2001:DB8:1:2:3:4:5:6")).toBe("2001:db8:1::/48");
    expect(networkOf("not an address")).toBeNull();
    expect(networkOf("10.0.0.0/8")).toBeNull();
    expect(networkOf(null)).toBeNull();
    expect(deviceFamily(FIREFOX_MAC)).toBe("Firefox on macOS");
    expect(deviceFamily(null)).toBe("Unknown on Unknown");
  });
});
