import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
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
    // Stopped, so only the steps below move time (a slow run adds nothing to the idle gaps).
    t.services.clock.freeze(new Date());
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

  it("a tighter idle limit applies to existing sessions at once, even cached ones", async () => {
    const { client: old, accountId } = await signUpAndLogin(t, { email: "tighten-idle@example.com" });
    expect((await old.get("/api/v1/me")).statusCode).toBe(200); // now cached
    t.services.clock.advance(6 * 60);
    const admin = createClient(t.app);
    await admin.post("/api/v1/auth/login", { email: "tighten-idle@example.com", password: STRONG_PASSWORD });
    const saved = await admin.patch(`/api/v1/accounts/${accountId}/security`, {
      session: { idle_minutes: 5 },
    });
    expect(saved.statusCode).toBe(200);
    // Idle for 6 minutes, beyond the new 5.
    expect((await old.get("/api/v1/me")).statusCode).toBe(401);
    expect((await admin.get("/api/v1/me")).statusCode).toBe(200);
    const [current] = (await admin.get("/api/v1/me/sessions")).body.data;
    expect(Date.parse(current.expires_at) - Date.parse(current.last_seen_at)).toBe(5 * 60_000);
    // The new limit slides like the old one did.
    t.services.clock.advance(4 * 60);
    expect((await admin.get("/api/v1/me")).statusCode).toBe(200);
    t.services.clock.advance(4 * 60);
    expect((await admin.get("/api/v1/me")).statusCode).toBe(200);
    t.services.clock.advance(6 * 60);
    expect((await admin.get("/api/v1/me")).statusCode).toBe(401);
  });

  it("a shorter absolute lifetime ends older sessions at once", async () => {
    t.services.clock.freeze(new Date());
    const { client: old, accountId } = await signUpAndLogin(t, { email: "tighten-abs@example.com" });
    for (let i = 0; i < 6; i++) {
      t.services.clock.advance(20 * 60);
      expect((await old.get("/api/v1/session")).statusCode).toBe(200);
    }
    const admin = createClient(t.app);
    await admin.post("/api/v1/auth/login", { email: "tighten-abs@example.com", password: STRONG_PASSWORD });
    await admin.patch(`/api/v1/accounts/${accountId}/security`, { session: { absolute_hours: 1 } });
    // Two hours old, beyond the new one hour.
    expect((await old.get("/api/v1/session")).statusCode).toBe(401);
    const state = await admin.get("/api/v1/session");
    expect(state.statusCode).toBe(200);
    const sessions = (await admin.get("/api/v1/me/sessions")).body.data;
    expect(sessions).toHaveLength(1);
    expect(Date.parse(sessions[0].expires_at) - Date.parse(sessions[0].created_at)).toBeLessThanOrEqual(
      3600_000,
    );
  });

  it("a session switched into another account lives under that account's limits", async () => {
    const strict = await signUpAndLogin(t, { email: "strict-owner@example.com", account: "Strict" });
    await strict.client.patch(`/api/v1/accounts/${strict.accountId}/security`, {
      session: { idle_minutes: 5, absolute_hours: 1 },
    });
    const user = await signUpAndLogin(t, { email: "switcher@example.com", account: "Lax" });
    await strict.client.post(`/api/v1/accounts/${strict.accountId}/invitations`, {
      emails: ["switcher@example.com"],
    });
    const token = tokenOf(await t.linkFor("switcher@example.com", /invited to join Strict/));
    expect((await user.client.post("/api/v1/invitations/accept", { token })).statusCode).toBe(200);
    expect((await user.client.post(`/api/v1/accounts/${user.accountId}/switch`)).statusCode).toBe(200);

    // Idle: 20 minutes are fine in Lax; in Strict 5 are not.
    t.services.clock.advance(20 * 60);
    const switched = await user.client.post(`/api/v1/accounts/${strict.accountId}/switch`);
    expect(switched.statusCode).toBe(200);
    expect(
      Date.parse(switched.body.session.expires_at) - t.services.clock.now().getTime(),
    ).toBeLessThanOrEqual(5 * 60_000);
    t.services.clock.advance(6 * 60);
    expect((await user.client.get("/api/v1/me")).statusCode).toBe(401);

    // Absolute: a session older than Strict allows cannot move there; the next log-in lands there.
    const other = createClient(t.app);
    await other.post("/api/v1/auth/login", {
      email: "switcher@example.com",
      password: STRONG_PASSWORD,
      account_id: user.accountId,
    });
    for (let i = 0; i < 4; i++) {
      t.services.clock.advance(20 * 60);
      expect((await other.get("/api/v1/me")).statusCode).toBe(200);
    }
    const late = await other.post(`/api/v1/accounts/${strict.accountId}/switch`);
    expect(late.statusCode).toBe(401);
    expect(late.body.code).toBe("unauthenticated");
    expect((await other.get("/api/v1/me")).statusCode).toBe(401);
    const again = await other.post("/api/v1/auth/login", {
      email: "switcher@example.com",
      password: STRONG_PASSWORD,
    });
    expect(again.body.account_id).toBe(strict.accountId);
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

  it("answers a cached cookie without waiting; anything else waits for the database", async () => {
    const { client } = await signUpAndLogin(t, { email: "warm@example.com" });
    const login = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: "warm@example.com", password: STRONG_PASSWORD },
    });
    const token = login.cookies.find((c) => c.name === "gatehouse_session")?.value as string;
    const sessions = t.services.sessions;
    // Malformed: refused at once. Unknown: only the database can tell.
    expect(sessions.authenticate("")).toBeUndefined();
    expect(sessions.authenticate("x".repeat(129))).toBeUndefined();
    const unknown = sessions.authenticate("not-a-session-token-anyone-was-given");
    expect(unknown).toBeInstanceOf(Promise);
    expect(await unknown).toBeUndefined();
    const session = await sessions.authenticate(token);
    expect(session?.userId).toBe(login.json().user.id);
    // Now cached by its cookie value: the same session, not a promise.
    const warm = sessions.authenticate(token);
    expect(warm).not.toBeInstanceOf(Promise);
    expect(warm).toMatchObject({ id: session?.id, userId: session?.userId });
    expect(await client.delete(`/api/v1/me/sessions/${session?.id}`)).toMatchObject({ statusCode: 204 });
    // Revoked: no longer in the cache, and the database refuses it.
    const revoked = sessions.authenticate(token);
    expect(revoked).toBeInstanceOf(Promise);
    expect(await revoked).toBeUndefined();
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

  it("a tighter idle limit saved through one process ends an idle session cached in another", async () => {
    const other = await t.sibling();
    const { client, accountId } = await signUpAndLogin(t, { email: "multi-idle@example.com" });
    const elsewhere = createClient(other.app);
    elsewhere.cookie = client.cookie;
    expect((await elsewhere.get("/api/v1/me")).statusCode).toBe(200); // cached in the other process
    t.services.clock.advance(6 * 60);
    const admin = createClient(t.app);
    await admin.post("/api/v1/auth/login", { email: "multi-idle@example.com", password: STRONG_PASSWORD });
    expect(
      (await admin.patch(`/api/v1/accounts/${accountId}/security`, { session: { idle_minutes: 5 } }))
        .statusCode,
    ).toBe(200);
    await expect
      .poll(async () => (await elsewhere.get("/api/v1/me")).statusCode, { timeout: 2000, interval: 5 })
      .toBe(401);
  });

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
