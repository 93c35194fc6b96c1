import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

describe.each(testDialects())("sessions on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  it("lists own sessions with device, IP and the current flag; revokes one and all others", async () => {
    const { client } = await signUpAndLogin(t, { email: "devices@example.com" });
    const laptop = createClient(t.app, { ip: "203.0.113.5", userAgent: FIREFOX });
    const phone = createClient(t.app, { ip: "203.0.113.6" });
    for (const c of [laptop, phone])
      await c.post("/api/v1/auth/login", { email: "devices@example.com", password: STRONG_PASSWORD });

    const list = await client.get("/api/v1/me/sessions");
    expect(list.body.data).toHaveLength(3);
    expect(list.body.data.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    const firefox = list.body.data.find((s: { ip: string }) => s.ip === "203.0.113.5");
    expect(firefox).toMatchObject({
      device: { browser: "Firefox 133", os: "Linux", type: "desktop" },
      user_agent: FIREFOX,
    });
    expect(firefox).not.toHaveProperty("token_hash");
    expect(Object.keys(firefox).sort()).toEqual([
      "created_at",
      "current",
      "device",
      "expires_at",
      "id",
      "ip",
      "last_seen_at",
      "user_agent",
    ]);

    expect((await client.delete(`/api/v1/me/sessions/${firefox.id}`)).statusCode).toBe(204);
    expect((await laptop.get("/api/v1/me")).statusCode).toBe(401);
    expect((await phone.get("/api/v1/me")).statusCode).toBe(200);
    expect((await client.delete(`/api/v1/me/sessions/${firefox.id}`)).statusCode).toBe(404);

    const others = await client.post("/api/v1/me/sessions/revoke-others");
    expect(others.body.revoked).toBe(1);
    expect((await phone.get("/api/v1/me")).statusCode).toBe(401);
    expect((await client.get("/api/v1/me")).statusCode).toBe(200);
  });

  it("cannot see or end another user's session", async () => {
    const alice = await signUpAndLogin(t, { email: "alice-s@example.com" });
    const bob = await signUpAndLogin(t, { email: "bob-s@example.com" });
    const bobSessions = await bob.client.get("/api/v1/me/sessions");
    const bobSession = bobSessions.body.data[0].id;
    const attempt = await alice.client.delete(`/api/v1/me/sessions/${bobSession}`);
    expect(attempt.statusCode).toBe(404);
    expect((await bob.client.get("/api/v1/me")).statusCode).toBe(200);
    const aliceList = await alice.client.get("/api/v1/me/sessions");
    expect(aliceList.body.data.map((s: { id: string }) => s.id)).not.toContain(bobSession);
  });

  it("ends a session after 30 idle minutes, and slides while in use", async () => {
    const { client } = await signUpAndLogin(t, { email: "idle@example.com" });
    t.services.clock.advance(20 * 60);
    expect((await client.get("/api/v1/me")).statusCode).toBe(200);
    t.services.clock.advance(20 * 60);
    expect((await client.get("/api/v1/me")).statusCode).toBe(200);
    t.services.clock.advance(31 * 60);
    expect((await client.get("/api/v1/me")).statusCode).toBe(401);
  });

  it("ends a session after its absolute lifetime even when in use", async () => {
    const { client } = await signUpAndLogin(t, { email: "absolute@example.com" });
    for (let i = 0; i < 49; i++) {
      t.services.clock.advance(29 * 60);
      expect((await client.get("/api/v1/session")).statusCode).toBe(200);
    }
    t.services.clock.advance(29 * 60); // 24 h 10 min after login
    expect((await client.get("/api/v1/session")).statusCode).toBe(401);
  });

  it("applies the account's session policy within bounds", async () => {
    const { client, accountId } = await signUpAndLogin(t, { email: "policy-s@example.com" });
    const bad = await client.patch(`/api/v1/accounts/${accountId}/security`, {
      session: { idle_minutes: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.errors[0].path).toBe("session.idle_minutes");
    const ok = await client.patch(`/api/v1/accounts/${accountId}/security`, {
      session: { idle_minutes: 5, absolute_hours: 1 },
    });
    expect(ok.body.session).toEqual({ idle_minutes: 5, absolute_hours: 1 });
    const fresh = createClient(t.app);
    await fresh.post("/api/v1/auth/login", { email: "policy-s@example.com", password: STRONG_PASSWORD });
    t.services.clock.advance(6 * 60);
    expect((await fresh.get("/api/v1/me")).statusCode).toBe(401);
  });

  it("keeps other accounts' security settings out of reach", async () => {
    const alice = await signUpAndLogin(t, { email: "alice-sec@example.com" });
    const bob = await signUpAndLogin(t, { email: "bob-sec@example.com" });
    const read = await alice.client.get(`/api/v1/accounts/${bob.accountId}/security`);
    expect(read.statusCode).toBe(404);
    const write = await alice.client.patch(`/api/v1/accounts/${bob.accountId}/security`, {
      password_policy: { min_length: 8 },
    });
    expect(write.statusCode).toBe(404);
    expect((await alice.client.get("/api/v1/accounts/acct_doesnotexist/security")).statusCode).toBe(404);
    expect(
      (await bob.client.get(`/api/v1/accounts/${bob.accountId}/security`)).body.password_policy.min_length,
    ).toBe(12);
  });

  it("never serves a revoked session from the cache", async () => {
    const { client } = await signUpAndLogin(t, { email: "cache@example.com" });
    const second = createClient(t.app);
    await second.post("/api/v1/auth/login", { email: "cache@example.com", password: STRONG_PASSWORD });
    expect((await second.get("/api/v1/me")).statusCode).toBe(200); // now cached
    await client.post("/api/v1/me/sessions/revoke-others");
    expect((await second.get("/api/v1/me")).statusCode).toBe(401);
  });
});

describe.runIf(testDialects().includes("postgres"))("session revocation across processes (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("postgres");
  });
  afterAll(() => t?.close());

  it("a session revoked through one process stops working in another at once", async () => {
    const other = await t.sibling();
    const { client } = await signUpAndLogin(t, { email: "multi@example.com" });
    const elsewhere = createClient(other.app);
    elsewhere.cookie = client.cookie;
    expect((await elsewhere.get("/api/v1/me")).statusCode).toBe(200); // cached in the other process
    expect((await elsewhere.get("/api/v1/me")).statusCode).toBe(200);
    expect((await client.post("/api/v1/auth/logout")).statusCode).toBe(204);
    await expect
      .poll(async () => (await elsewhere.get("/api/v1/me")).statusCode, { timeout: 2000, interval: 5 })
      .toBe(401);
  });
});
