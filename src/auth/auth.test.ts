import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

describe.each(testDialects())("auth on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const signup = (email: string, extra: Record<string, unknown> = {}) =>
    createClient(t.app).post("/api/v1/auth/signup", {
      email,
      password: STRONG_PASSWORD,
      name: "Ada Lovelace",
      account_name: "Analytical Engines",
      ...extra,
    });

  it("signs up, mails a verification link over SMTP that works exactly once, then logs in", async () => {
    const response = await signup("ada@example.com");
    expect(response.statusCode).toBe(201);
    expect(response.body.user).toMatchObject({
      email: "ada@example.com",
      first_name: "Ada",
      last_name: "Lovelace",
    });
    expect(response.body.user.id).toMatch(/^usr_[\w-]{22}$/);
    expect(response.body.account_id).toMatch(/^acct_/);
    expect(response.body.user.memberships[0].role).toMatchObject({ key: "root", name: "Root" });
    expect(response.body.user).not.toHaveProperty("password_hash");

    const link = await t.linkFor("ada@example.com", /Confirm your email/);
    expect(link).toMatch(/^http:\/\/gatehouse\.test\/verify-email\?token=[\w-]{43}$/);
    const mail = t.mails.find((m) => m.to === "ada@example.com");
    expect(mail?.text.match(/https?:\/\//g)).toHaveLength(1);

    const anon = createClient(t.app);
    expect((await anon.post("/api/v1/auth/verify-email", { token: tokenOf(link) })).statusCode).toBe(200);
    const again = await anon.post("/api/v1/auth/verify-email", { token: tokenOf(link) });
    expect(again.statusCode).toBe(400);
    expect(again.body.code).toBe("invalid_token");

    const client = createClient(t.app);
    const login = await client.post("/api/v1/auth/login", {
      email: "ADA@Example.COM",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    expect(login.body.user.email_verified).toBe(true);
    expect(login.body.csrf_token).toEqual(expect.any(String));
    expect(login.body.session.id).toMatch(/^sess_/);
    const cookie = login.cookies.find((c) => c.name === "gatehouse_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(cookie?.value.length).toBeGreaterThanOrEqual(43);

    const session = await client.get("/api/v1/session");
    expect(session.statusCode).toBe(200);
    expect(session.body.csrf_token).toBe(login.body.csrf_token);
    expect(session.body.account_id).toBe(response.body.account_id);
  });

  it("answers a sign-up with a taken email like any other, and mails the owner instead", async () => {
    await signup("taken@example.com");
    const before = t.mails.length;
    const second = await signup("Taken@Example.com", { name: "Mallory" });
    expect(second.statusCode).toBe(201);
    expect(Object.keys(second.body).sort()).toEqual(["account_id", "user", "verification_sent"]);
    expect(Object.keys(second.body.user).sort()).toEqual(
      Object.keys((await signup("fresh@example.com")).body.user).sort(),
    );
    await expect.poll(() => t.mails.slice(before).some((m) => /Someone tried/.test(m.subject))).toBe(true);
    const count = await t.services.db
      .selectFrom("users")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("email_normalized", "=", "taken@example.com")
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });

  it("signs up several people naming their accounts alike at the same moment, each with its own slug", async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => signup(`twin-${i}@example.com`, { account_name: "Twin Slug Co" })),
    );
    for (const response of responses) expect(response.statusCode, response.payload).toBe(201);
    const slugs = await t.services.db
      .selectFrom("accounts")
      .select("slug")
      .where("name", "=", "Twin Slug Co")
      .execute();
    expect(slugs).toHaveLength(6);
    expect(new Set(slugs.map((r) => r.slug)).size).toBe(6);
    expect(slugs.map((r) => r.slug)).toContain("twin-slug-co");
  });

  it("gives the same answer for an unknown email and a wrong password", async () => {
    await signUpAndLogin(t, { email: "same@example.com" });
    const unknown = await createClient(t.app, { ip: "10.0.0.1" }).post("/api/v1/auth/login", {
      email: "nobody@example.com",
      password: STRONG_PASSWORD,
    });
    const wrong = await createClient(t.app, { ip: "10.0.0.2" }).post("/api/v1/auth/login", {
      email: "same@example.com",
      password: "not-the-password-at-all",
    });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    const strip = (b: Record<string, unknown>) => ({ ...b, request_id: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
    expect(unknown.body.code).toBe("invalid_credentials");
  });

  it("requires the CSRF header on cookie-authenticated unsafe requests", async () => {
    const { client } = await signUpAndLogin(t, { email: "csrf@example.com" });
    const token = client.csrf;
    client.csrf = undefined;
    const missing = await client.put("/api/v1/me/preferences", { theme: "dark" });
    expect(missing.statusCode).toBe(403);
    expect(missing.body.code).toBe("csrf_failed");
    expect(missing.headers["content-type"]).toContain("application/problem+json");
    client.csrf = "forged";
    expect((await client.put("/api/v1/me/preferences", { theme: "dark" })).body.code).toBe("csrf_failed");
    client.csrf = token;
    expect((await client.put("/api/v1/me/preferences", { theme: "dark" })).statusCode).toBe(200);
    expect((await client.get("/api/v1/me/preferences")).body.theme).toBe("dark");
  });

  it("logs out: the cookie stops working at once", async () => {
    const { client } = await signUpAndLogin(t, { email: "bye@example.com" });
    const stolen = client.cookie;
    expect((await client.post("/api/v1/auth/logout")).statusCode).toBe(204);
    const replay = createClient(t.app);
    replay.cookie = stolen;
    const after = await replay.get("/api/v1/me");
    expect(after.statusCode).toBe(401);
    expect(after.body.code).toBe("unauthenticated");
  });

  it("rehashes a password stored with older argon2 parameters at login", async () => {
    const { userId } = await signUpAndLogin(t, { email: "rehash@example.com" });
    const { hash } = await import("@node-rs/argon2");
    const old = await hash(STRONG_PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await t.services.db.updateTable("users").set({ password_hash: old }).where("id", "=", userId).execute();
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "rehash@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    const row = await t.services.db
      .selectFrom("users")
      .select("password_hash")
      .where("id", "=", userId)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("records successful and failed logins: last login time and IP, and audit events", async () => {
    const { userId } = await signUpAndLogin(t, { email: "audit@example.com" });
    await createClient(t.app, { ip: "192.0.2.7" }).post("/api/v1/auth/login", {
      email: "audit@example.com",
      password: "wrong-wrong-wrong",
    });
    const ok = await createClient(t.app, { ip: "192.0.2.8" }).post("/api/v1/auth/login", {
      email: "audit@example.com",
      password: STRONG_PASSWORD,
    });
    expect(ok.body.user.last_login_at).toEqual(expect.any(String));
    const user = await t.services.db
      .selectFrom("users")
      .select("last_login_ip")
      .where("id", "=", userId)
      .executeTakeFirstOrThrow();
    expect(user.last_login_ip).toBe("192.0.2.8");
    const events = await t.services.db
      .selectFrom("audit_events")
      .select(["action", "ip", "request_id"])
      .where("actor_id", "=", userId)
      .execute();
    const actions = events.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["user.signed_up", "user.email_verified", "auth.login", "auth.login_failed"]),
    );
    expect(events.find((e) => e.action === "auth.login_failed")?.ip).toBe("192.0.2.7");
    expect(events.every((e) => e.action === "user.signed_up" || e.request_id)).toBe(true);
  });
});
