import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../lib/ids.js";
import {
  addMember,
  type Client,
  createApiKey,
  createClient,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { rangeWindow } from "./overview.service.js";

type Member = { client: Client; userId: string };

const DAY_MS = 86_400_000;
const dateOf = (date: Date) => date.toISOString().slice(0, 10);
const RANGES = ["today", "last_7_days", "last_30_days", "last_90_days", "last_12_months", "year_to_date"];

describe("rangeWindow", () => {
  const now = new Date("2026-03-10T15:30:00.000Z");
  it("buckets days up to today (UTC), and the last 12 calendar months by month", () => {
    expect(rangeWindow("today", now)).toEqual({
      bucket: "day",
      keys: ["2026-03-10"],
      window: { from: "2026-03-10T00:00:00.000Z", to: "2026-03-11T00:00:00.000Z" },
      days: { from: "2026-03-10", to: "2026-03-10" },
    });
    const week = rangeWindow("last_7_days", now);
    expect(week.keys).toEqual([
      "2026-03-04",
      "2026-03-05",
      "2026-03-06",
      "2026-03-07",
      "2026-03-08",
      "2026-03-09",
      "2026-03-10",
    ]);
    expect(rangeWindow("last_30_days", now).keys[0]).toBe("2026-02-09");
    expect(rangeWindow("last_90_days", now).keys).toHaveLength(90);
    const ytd = rangeWindow("year_to_date", now);
    expect(ytd.keys).toHaveLength(31 + 28 + 10);
    expect(ytd.window.from).toBe("2026-01-01T00:00:00.000Z");
    const year = rangeWindow("last_12_months", now);
    expect(year.bucket).toBe("month");
    expect(year.keys[0]).toBe("2025-04");
    expect(year.keys.at(-1)).toBe("2026-03");
    expect(year.window).toEqual({ from: "2025-04-01T00:00:00.000Z", to: "2026-04-01T00:00:00.000Z" });
    expect(year.days).toEqual({ from: "2025-04-01", to: "2026-03-31" });
  });
});

describe.each(testDialects())("Account overview on %s", (dialect) => {
  let t: TestApp;
  let root: Member & { accountId: string; password: string };
  let admin: Member;
  let mona: Member;
  let dev: Member;
  let bill: Member;
  let url: string;
  let today: string;

  const signIn = (email: string, password = STRONG_PASSWORD) =>
    createClient(t.app).post("/api/v1/auth/login", { email, password });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const db = t.services.db;
    root = await signUpAndLogin(t, {
      email: "olivia@overview.example",
      name: "Olivia Root",
      account: "Overview Co",
    });
    await onPaidPlan(t, root.accountId, { plan: "team", seatLimit: 20 });
    today = dateOf(t.services.clock.now());
    url = `/api/v1/accounts/${root.accountId}/overview`;
    // Ivy joined and last signed in 40 days ago.
    t.services.clock.set(new Date(Date.now() - 40 * DAY_MS));
    await addMember(t, root, { email: "ivy@overview.example", roleKey: "monitor", firstName: "Ivy" });
    expect((await signIn("ivy@overview.example")).statusCode).toBe(200);
    t.services.clock.reset();

    admin = await addMember(t, root, { email: "adam@overview.example", roleKey: "admin", firstName: "Adam" });
    mona = await addMember(t, root, {
      email: "mona@overview.example",
      roleKey: "monitor",
      firstName: "Mona",
    });
    dev = await addMember(t, root, { email: "dev@overview.example", roleKey: "developer", firstName: "Dev" });
    bill = await addMember(t, root, {
      email: "bill@overview.example",
      roleKey: "billing",
      firstName: "Bill",
    });
    const sam = await addMember(t, root, {
      email: "sam@overview.example",
      roleKey: "monitor",
      firstName: "Sam",
    });
    expect(
      (await root.client.post(`/api/v1/accounts/${root.accountId}/members/${sam.userId}/suspend`)).statusCode,
    ).toBe(200);
    const roles = await root.client.get(`/api/v1/accounts/${root.accountId}/roles`);
    const monitorRole = (roles.body.data as Array<{ id: string; key: string }>).find(
      (r) => r.key === "monitor",
    );
    const invited = await root.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: ["pending@overview.example"],
      role_id: monitorRole?.id,
    });
    expect(invited.statusCode).toBe(201);

    // Today: Dev and Mona sign in; Dev mistypes his password twice first.
    expect((await signIn("dev@overview.example", "wrong-password-1")).statusCode).toBe(401);
    expect((await signIn("dev@overview.example", "wrong-password-2")).statusCode).toBe(401);
    expect((await signIn("dev@overview.example")).statusCode).toBe(200);
    expect((await signIn("mona@overview.example")).statusCode).toBe(200);

    // Bill was imported and has never signed in; Adam and Mona have a second factor.
    await db
      .updateTable("memberships")
      .set({ last_login_at: null })
      .where("account_id", "=", root.accountId)
      .where("user_id", "=", bill.userId)
      .execute();
    for (const member of [admin, mona]) {
      const at = new Date().toISOString();
      await db
        .insertInto("mfa_factors")
        .values({
          id: newId("factor"),
          user_id: member.userId,
          type: "email",
          label: "Email",
          secret_enc: null,
          last_used_step: 0,
          confirmed_at: at,
          last_used_at: null,
          created_at: at,
        })
        .execute();
    }

    // An API key makes three calls, one of them a 404.
    const key = await createApiKey(root, ["members:read"]);
    const keyClient = createKeyClient(t.app, key.secret);
    const base = `/api/v1/accounts/${root.accountId}`;
    expect((await keyClient.get(`${base}/members`)).statusCode).toBe(200);
    expect((await keyClient.get(`${base}/members?limit=5`)).statusCode).toBe(200);
    expect((await keyClient.get(`${base}/members/usr_nobody`)).statusCode).toBe(404);
    await t.services.writeBehind.flush();
  });
  afterAll(async () => {
    t?.services.clock.reset();
    await t?.close();
  });

  it("shows members and seats, second-factor adoption, inactive members, admin activity and the next bill", async () => {
    const response = await root.client.get(`${url}?range=last_30_days&metric=logins`);
    expect(response.statusCode, response.payload).toBe(200);
    const body = response.body;
    expect(body.members).toEqual({
      active: 6,
      suspended: 1,
      deactivated: 0,
      pending: 1,
      seats_used: 8,
      seat_limit: 20,
    });
    expect(body.mfa).toEqual({
      members_with_mfa: 2,
      members_total: 6,
      percent: 33,
      // Root and Admin must use a second factor in a new account: Olivia has none, Adam has one.
      missing_required: [{ user_id: root.userId, name: "Olivia Root", email: "olivia@overview.example" }],
      missing_required_count: 1,
    });
    expect(body.inactive_members.count).toBe(2);
    expect(body.inactive_members.data.map((m: { email: string }) => m.email)).toEqual([
      "bill@overview.example",
      "ivy@overview.example",
    ]);
    expect(body.inactive_members.data[0].last_login_at).toBeNull();
    expect(body.inactive_members.data[1].last_login_at < body.inactive_members.since).toBe(true);

    const actions = (body.recent_admin_activity as Array<{ action: string; actor: { name: string } }>).map(
      (e) => e.action,
    );
    expect(actions[0]).toBe("api_key.created");
    expect(actions).toContain("member.suspended");
    expect(actions).toContain("invitation.created");
    expect(actions.some((a) => a.startsWith("auth.") || a === "invitation.accepted")).toBe(false);
    expect(body.recent_admin_activity.length).toBeGreaterThanOrEqual(9);
    expect(body.recent_admin_activity.length).toBeLessThanOrEqual(10);
    // Shaped as the audit log shows events: the target named, the category given.
    const suspension = body.recent_admin_activity.find(
      (e: { action: string }) => e.action === "member.suspended",
    );
    expect(suspension.target).toMatchObject({ type: "user", id: expect.stringMatching(/^usr_/) });
    expect(suspension.target.name).toMatch(/^Sam\b/);
    expect(suspension.category).toBe("members");
    expect(body.recent_admin_activity[0].actor).toMatchObject({
      type: "user",
      user_id: root.userId,
      name: "Olivia Root",
      email: "olivia@overview.example",
    });

    expect(body.billing).toMatchObject({
      plan: "team",
      plan_name: "Team",
      interval: "month",
      currency: "USD",
    });
    expect(typeof body.billing.next_billing_date).toBe("string");
    expect(body.billing.estimated_next_amount).toBeGreaterThan(0);
  });

  it("counts sign-ins per UTC day: succeeded, failed, and the chosen metric", async () => {
    const logins = (await root.client.get(`${url}?range=last_30_days&metric=logins`)).body;
    expect(logins).toMatchObject({ range: "last_30_days", metric: "logins", bucket: "day", to: today });
    expect(logins.series).toHaveLength(30);
    expect(logins.series.at(-1)).toEqual({ date: today, succeeded: 3, failed: 2, value: 3 });
    // Ivy's sign-in 40 days ago is outside the last 30 days.
    expect(logins.totals).toEqual({ succeeded: 3, failed: 2, value: 3 });

    const active = (await root.client.get(`${url}?range=last_90_days&metric=active_users`)).body;
    expect(active.series).toHaveLength(90);
    expect(active.totals).toEqual({ succeeded: 4, failed: 2, value: 4 });
    expect(active.series.at(-1).value).toBe(3);
    const earlier = active.series.find(
      (p: { date: string }) => p.date === dateOf(new Date(Date.now() - 40 * DAY_MS)),
    );
    expect(earlier).toMatchObject({ succeeded: 1, failed: 0, value: 1 });

    const calls = (await root.client.get(`${url}?range=today&metric=api_calls`)).body;
    expect(calls.series).toEqual([{ date: today, succeeded: 3, failed: 2, value: 3 }]);
    const errors = (await root.client.get(`${url}?range=last_7_days&metric=errors`)).body;
    expect(errors.series).toHaveLength(7);
    // Two failed sign-ins and the key's 404.
    expect(errors.series.at(-1).value).toBe(3);
    expect(errors.totals.value).toBe(3);

    const sessions = (await root.client.get(`${url}?range=today&metric=sessions`)).body;
    const stored = await t.services.db
      .selectFrom("sessions")
      .select("created_at")
      .where("account_id", "=", root.accountId)
      .execute();
    const startedToday = stored.filter((s) => s.created_at.startsWith(today)).length;
    expect(startedToday).toBeGreaterThanOrEqual(3);
    expect(sessions.series).toEqual([{ date: today, succeeded: 3, failed: 2, value: startedToday }]);
  });

  it("answers every range and metric, months for the last 12 months", async () => {
    for (const range of RANGES) {
      for (const metric of ["active_users", "sessions", "logins", "api_calls", "errors"]) {
        const response = await root.client.get(`${url}?range=${range}&metric=${metric}`);
        expect(response.statusCode, `${range} ${metric}: ${response.payload}`).toBe(200);
        expect(response.body).toMatchObject({ range, metric });
        const series = response.body.series as Array<{ date: string }>;
        expect(series.at(-1)?.date).toBe(range === "last_12_months" ? today.slice(0, 7) : today);
      }
    }
    const year = (await root.client.get(`${url}?range=last_12_months&metric=logins`)).body;
    expect(year.bucket).toBe("month");
    expect(year.series).toHaveLength(12);
    expect(year.totals).toMatchObject({ succeeded: 4, failed: 2, value: 4 });
    const month40 = dateOf(new Date(Date.now() - 40 * DAY_MS)).slice(0, 7);
    expect(year.series.find((p: { date: string }) => p.date === month40)?.succeeded).toBe(1);
    // Without a range or metric: the last 30 days, active users (the preferences' defaults).
    const plain = (await root.client.get(url)).body;
    expect(plain).toMatchObject({ range: "last_30_days", metric: "active_users" });
  });

  it("refuses an unknown range, metric or parameter with a 400 problem", async () => {
    for (const query of ["range=last_week", "metric=revenue", "range=", "colour=blue"]) {
      const response = await root.client.get(`${url}?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.body.code).toBe("validation_failed");
    }
  });

  it("needs members:read; shows admin activity only with audit:read and the bill only with billing:read", async () => {
    const forAdmin = await admin.client.get(url);
    expect(forAdmin.statusCode, forAdmin.payload).toBe(200);
    expect(forAdmin.body.recent_admin_activity).not.toBeNull();
    expect(forAdmin.body.billing).not.toBeNull();

    for (const member of [mona, dev]) {
      const response = await member.client.get(url);
      expect(response.statusCode, response.payload).toBe(200);
      expect(response.body.members.active).toBe(6);
      expect(response.body.recent_admin_activity).toBeNull();
      expect(response.body.billing).toBeNull();
    }

    const forBilling = await bill.client.get(url);
    expect(forBilling.statusCode).toBe(403);
    expect(forBilling.body.code).toBe("forbidden");

    // A member whose role lacks members:read (the Viewer template) is refused too.
    const template = await root.client.post(`/api/v1/accounts/${root.accountId}/roles`, {
      name: "Viewer",
      permissions: ["account:read", "resources:read"],
    });
    expect(template.statusCode, template.payload).toBe(201);
    const viewer = await addMember(t, root, { email: "viewer@overview.example", roleKey: template.body.key });
    expect((await viewer.client.get(url)).statusCode).toBe(403);

    // API keys are bound by their scopes.
    const readKey = createKeyClient(t.app, (await createApiKey(root, ["members:read"])).secret);
    const keyAnswer = await readKey.get(url);
    expect(keyAnswer.statusCode, keyAnswer.payload).toBe(200);
    expect(keyAnswer.body.billing).toBeNull();
    expect(keyAnswer.body.recent_admin_activity).toBeNull();
    const fullKey = createKeyClient(
      t.app,
      (await createApiKey(root, ["members:read", "billing:read", "audit:read"])).secret,
    );
    const full = await fullKey.get(url);
    expect(full.body.billing).toMatchObject({ plan: "team" });
    expect(full.body.recent_admin_activity.length).toBeGreaterThan(0);
    const billingKey = createKeyClient(t.app, (await createApiKey(root, ["billing:read"])).secret);
    expect((await billingKey.get(url)).statusCode).toBe(403);
  });

  it("is 404 for an account the caller is not in, and never mixes accounts", async () => {
    const other = await signUpAndLogin(t, { email: "other@elsewhere.example", account: "Elsewhere" });
    const theirs = await other.client.get(`/api/v1/accounts/${other.accountId}/overview?range=last_90_days`);
    expect(theirs.statusCode).toBe(200);
    expect(theirs.body.members).toMatchObject({ active: 1, suspended: 0, pending: 0, seats_used: 1 });
    expect(theirs.body.totals).toMatchObject({ succeeded: 1, failed: 0 });
    expect(theirs.body.inactive_members.count).toBe(0);

    for (const [client, accountId] of [
      [other.client, root.accountId],
      [root.client, other.accountId],
      [root.client, "acct_doesnotexist"],
    ] as const) {
      const response = await client.get(`/api/v1/accounts/${accountId}/overview`);
      expect(response.statusCode).toBe(404);
      expect(response.body.code).toBe("not_found");
    }
  });
});
