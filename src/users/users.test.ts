import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

describe.each(testDialects())("profile and preferences on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it("returns the profile with memberships and the role", async () => {
    const { client, accountId } = await signUpAndLogin(t, {
      email: "me@example.com",
      name: "Mae Jemison",
      account: "Orbit",
    });
    const me = await client.get("/api/v1/me");
    expect(me.body).toMatchObject({
      email: "me@example.com",
      first_name: "Mae",
      last_name: "Jemison",
      full_name: "Mae Jemison",
      timezone: "UTC",
      mfa_enabled: false,
      memberships: [{ account_id: accountId, account_name: "Orbit", role: { key: "root", name: "Root" } }],
    });
    expect(me.body.memberships[0].role.description).toMatch(/Full control/);
  });

  it("updates username, names, timezone; keeps email read-only", async () => {
    const { client } = await signUpAndLogin(t, { email: "edit@example.com" });
    const before = (await client.get("/api/v1/me")).body;
    const updated = await client.patch("/api/v1/me", {
      username: "Ed.Itor",
      first_name: "Édith",
      last_name: "Piaf 🎤",
      timezone: "Europe/Paris",
      locale: "fr-FR",
      mobile: "+33 6 12 34 56 78",
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.body).toMatchObject({
      username: "ed.itor",
      first_name: "Édith",
      last_name: "Piaf 🎤",
      timezone: "Europe/Paris",
      locale: "fr-FR",
    });
    expect(updated.body.updated_at >= before.updated_at).toBe(true);

    const email = await client.patch("/api/v1/me", { email: "new@example.com" });
    expect(email.statusCode).toBe(400);
    expect(email.body.errors[0]).toMatchObject({ path: "email", code: "unknown_field" });
    expect((await client.get("/api/v1/me")).body.email).toBe("edit@example.com");

    const cleared = await client.patch("/api/v1/me", { username: null, mobile: null });
    expect(cleared.body).toMatchObject({ username: null, mobile: null, first_name: "Édith" });
  });

  it("validates the timezone against IANA names", async () => {
    const { client } = await signUpAndLogin(t, { email: "tz@example.com" });
    const bad = await client.patch("/api/v1/me", { timezone: "Mars/Olympus_Mons" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.errors).toEqual([
      expect.objectContaining({ path: "timezone", code: "invalid_timezone" }),
    ]);
    expect(
      (await client.patch("/api/v1/me", { timezone: "America/Argentina/Buenos_Aires" })).statusCode,
    ).toBe(200);
  });

  it("keeps usernames unique across the installation, case-insensitively, even under a race", async () => {
    const a = await signUpAndLogin(t, { email: "u1@example.com" });
    const b = await signUpAndLogin(t, { email: "u2@example.com" });
    expect((await a.client.patch("/api/v1/me", { username: "unique_one" })).statusCode).toBe(200);
    const taken = await b.client.patch("/api/v1/me", { username: "UNIQUE_one" });
    expect(taken.statusCode).toBe(409);
    expect(taken.body.errors[0]).toMatchObject({ path: "username", code: "taken" });

    const race = await Promise.all([
      a.client.patch("/api/v1/me", { username: "contested" }),
      b.client.patch("/api/v1/me", { username: "contested" }),
    ]);
    expect(race.map((r) => r.statusCode).sort()).toEqual([200, 409]);
  });

  it("refuses bad usernames, over-long names and wrong types with field errors", async () => {
    const { client } = await signUpAndLogin(t, { email: "badin@example.com" });
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ username: "a b" }, "username", "invalid_format"],
      [{ username: "ab" }, "username", "too_short"],
      [{ first_name: "x".repeat(101) }, "first_name", "too_long"],
      [{ first_name: 42 }, "first_name", "invalid_type"],
      [{ avatar_url: "https://tracker.example/pixel.gif" }, "avatar_url", "read_only"],
      [{ mobile: "call me" }, "mobile", "invalid_format"],
    ];
    for (const [body, path, code] of cases) {
      const r = await client.patch("/api/v1/me", body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.body.errors).toContainEqual(expect.objectContaining({ path, code }));
    }
  });

  it("stores injection-looking text verbatim and harmlessly", async () => {
    const { client } = await signUpAndLogin(t, { email: "inject@example.com" });
    const nasty = { first_name: "Robert'); DROP TABLE users;--", last_name: "<script>alert('x')</script>" };
    const r = await client.patch("/api/v1/me", nasty);
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatchObject(nasty);
    expect((await client.get("/api/v1/me")).body).toMatchObject(nasty);
  });

  it("keeps a typed preferences document with defaults", async () => {
    const { client } = await signUpAndLogin(t, { email: "prefs@example.com" });
    const defaults = await client.get("/api/v1/me/preferences");
    expect(defaults.body).toEqual({
      theme: "system",
      animations: true,
      default_date_range: "last_30_days",
      default_chart_metric: "active_users",
      default_list_filters: { status: "all", page_size: 50 },
      default_audit_filter: { category: "all", range: "all_time" },
      default_invoices_filter: { status: "all" },
    });
    const put = await client.put("/api/v1/me/preferences", {
      theme: "dark",
      animations: false,
      default_list_filters: { page_size: 100 },
    });
    expect(put.statusCode).toBe(200);
    expect(put.body).toEqual({
      theme: "dark",
      animations: false,
      default_date_range: "last_30_days",
      default_chart_metric: "active_users",
      default_list_filters: { status: "all", page_size: 100 },
      default_audit_filter: { category: "all", range: "all_time" },
      default_invoices_filter: { status: "all" },
    });
    expect((await client.get("/api/v1/me/preferences")).body).toEqual(put.body);

    for (const bad of [
      { theme: "neon" },
      { animations: "yes" },
      { default_list_filters: { page_size: 7 } },
      { colour: "red" },
    ]) {
      const r = await client.put("/api/v1/me/preferences", bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.body.code).toBe("validation_failed");
    }
    expect((await client.get("/api/v1/me/preferences")).body).toEqual(put.body);
  });

  it("lets users deactivate their own login and reactivate it through the mailed link", async () => {
    const { client, password } = await signUpAndLogin(t, { email: "sleepy@example.com" });
    expect((await client.post("/api/v1/me/deactivate", { password: "wrong-password-here" })).body.code).toBe(
      "incorrect_password",
    );
    expect((await client.post("/api/v1/me/deactivate", { password })).statusCode).toBe(204);
    expect((await client.get("/api/v1/me")).statusCode).toBe(401);

    const attempt = await createClient(t.app).post("/api/v1/auth/login", {
      email: "sleepy@example.com",
      password,
    });
    expect(attempt.statusCode).toBe(403);
    expect(attempt.body.code).toBe("account_deactivated");
    const wrong = await createClient(t.app).post("/api/v1/auth/login", {
      email: "sleepy@example.com",
      password: "not-it-at-all",
    });
    expect(wrong.body.code).toBe("invalid_credentials");

    const link = await t.linkFor("sleepy@example.com", /Reactivate/);
    expect(link).toMatch(/^http:\/\/gatehouse\.test\/reactivate\?token=/);
    expect(
      (await createClient(t.app).post("/api/v1/auth/reactivate", { token: tokenOf(link) })).statusCode,
    ).toBe(200);
    expect(
      (await createClient(t.app).post("/api/v1/auth/reactivate", { token: tokenOf(link) })).body.code,
    ).toBe("invalid_token");
    expect(
      (await createClient(t.app).post("/api/v1/auth/login", { email: "sleepy@example.com", password }))
        .statusCode,
    ).toBe(200);
  });
});
