import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listSmsOutbox } from "../sms/sms.js";
import {
  addMember,
  type Client,
  createApiKey,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { unsubscribeToken } from "./unsubscribe-tokens.js";

describe.each(testDialects())("notifications on %s", (dialect) => {
  let t: TestApp;
  let root: { client: Client; accountId: string; userId: string };
  let admin: { client: Client; userId: string };
  let monitor: { client: Client; userId: string };
  let monitorRoleId: string;
  const adminEmail = "notify-admin@example.com";
  const monitorEmail = "notify-monitor@example.com";

  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, { email: "notify-root@example.com", account: "Notify Co" });
    await onPaidPlan(t, root.accountId);
    admin = await addMember(t, root, { email: adminEmail, roleKey: "admin", firstName: "Ada" });
    monitor = await addMember(t, root, { email: monitorEmail, roleKey: "monitor" });
    monitorRoleId = (await addMember(t, root, { email: "notify-extra@example.com", roleKey: "monitor" }))
      .roleId;
  });
  afterAll(() => t?.close());

  const invite = async (email: string) => {
    const response = await root.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: [email],
      role_id: monitorRoleId,
    });
    expect(response.statusCode).toBe(201);
    await t.services.jobs.idle();
  };
  const mailsTo = (to: string, subject: RegExp) =>
    t.mails.filter((m) => m.to === to && subject.test(m.subject));
  const listOf = async (client: Client, query = "") =>
    (await client.get(`/api/v1/me/notifications${query}`)).body;

  it("preferences: defaults, with security mail and SMS (no verified mobile) locked", async () => {
    const response = await monitor.client.get("/api/v1/me/notification-preferences");
    expect(response.statusCode).toBe(200);
    expect(response.body.categories).toEqual([
      { key: "security", channels: { email: true, in_app: true, sms: false }, locked: ["email", "sms"] },
      { key: "members", channels: { email: true, in_app: true, sms: false }, locked: ["sms"] },
      { key: "billing", channels: { email: true, in_app: true, sms: false }, locked: ["sms"] },
      { key: "product_updates", channels: { email: true, in_app: true, sms: false }, locked: ["sms"] },
      { key: "reports", channels: { email: true, in_app: true, sms: false }, locked: ["sms"] },
    ]);
  });

  it("preferences: refuses locked changes with 400 naming the field, and API keys", async () => {
    const put = (categories: unknown) =>
      monitor.client.put("/api/v1/me/notification-preferences", { categories });
    const security = await put([{ key: "security", channels: { email: false } }]);
    expect(security.statusCode).toBe(400);
    expect(security.body.errors).toEqual([
      expect.objectContaining({ path: "categories.0.channels.email", code: "locked" }),
    ]);
    const members = await put([
      { key: "reports", channels: { in_app: false } },
      { key: "members", channels: { sms: true } },
    ]);
    expect(members.statusCode).toBe(400);
    expect(members.body.errors).toEqual([
      expect.objectContaining({ path: "categories.1.channels.sms", code: "locked" }),
    ]);
    const billing = await put([{ key: "billing", channels: { sms: true } }]);
    expect(billing.statusCode).toBe(400);
    expect(billing.body.errors[0]).toMatchObject({ code: "mobile_not_verified" });
    expect(billing.body.detail).toMatch(/Verify your mobile number/);
    expect((await put([{ key: "nope", channels: {} }])).statusCode).toBe(400);
    // Nothing of the refused requests was kept.
    const after = await monitor.client.get("/api/v1/me/notification-preferences");
    expect(after.body.categories.find((c: { key: string }) => c.key === "reports").channels.in_app).toBe(
      true,
    );
    // Echoing GET's answer (with `locked`) is accepted.
    expect((await put(after.body.categories)).statusCode).toBe(200);

    const key = await createApiKey({ client: root.client, accountId: root.accountId }, ["members:read"]);
    const keyClient = createKeyClient(t.app, key.secret);
    expect((await keyClient.get("/api/v1/me/notification-preferences")).body.code).toBe("session_required");
    expect((await keyClient.get("/api/v1/me/notifications")).statusCode).toBe(403);
  });

  it("member.invited: an admin (members:read + members:invite) hears in-app and by mail; a monitor and the inviter do not", async () => {
    const before = (await listOf(admin.client)).unread_count as number;
    const rootBefore = (await listOf(root.client)).data.length as number;
    await invite("invitee-1@example.com");

    const adminList = await listOf(admin.client);
    expect(adminList.unread_count).toBe(before + 1);
    expect(adminList.data[0]).toMatchObject({
      id: expect.stringMatching(/^ntf_/),
      type: "member.invited",
      title: "invitee-1@example.com was invited to Notify Co",
      link: "/settings/members",
      read_at: null,
    });
    const mail = mailsTo(adminEmail, /invitee-1@example.com was invited/);
    expect(mail).toHaveLength(1);
    expect(mail[0]?.text).toContain("http://gatehouse.test/settings/notifications");
    expect(mail[0]?.headers["list-unsubscribe"]).toMatch(
      /^<http:\/\/gatehouse\.test\/api\/v1\/notifications\/unsubscribe\?token=[\w.-]+>$/,
    );
    expect(mail[0]?.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");

    expect(
      (await listOf(monitor.client)).data.filter((n: { type: string }) => n.type === "member.invited"),
    ).toEqual([]);
    expect(mailsTo(monitorEmail, /invitee-1/)).toEqual([]);
    // The inviter made the change: not told about it.
    expect((await listOf(root.client)).data.length).toBe(rootBefore);
    expect(mailsTo("notify-root@example.com", /invitee-1/)).toEqual([]);
  });

  it("a category's email off: no mail, still in-app; in-app off: no row", async () => {
    const off = await admin.client.put("/api/v1/me/notification-preferences", {
      categories: [{ key: "members", channels: { email: false } }],
    });
    expect(off.statusCode).toBe(200);
    expect(off.body.categories[1]).toMatchObject({
      key: "members",
      channels: { email: false, in_app: true },
    });
    const before = (await listOf(admin.client)).unread_count as number;
    await invite("invitee-2@example.com");
    expect(mailsTo(adminEmail, /invitee-2/)).toEqual([]);
    expect((await listOf(admin.client)).unread_count).toBe(before + 1);

    await admin.client.put("/api/v1/me/notification-preferences", {
      categories: [{ key: "members", channels: { email: true, in_app: false } }],
    });
    await invite("invitee-3@example.com");
    expect(mailsTo(adminEmail, /invitee-3/)).toHaveLength(1);
    expect((await listOf(admin.client)).unread_count).toBe(before + 1);
    await admin.client.put("/api/v1/me/notification-preferences", {
      categories: [{ key: "members", channels: { email: true, in_app: true } }],
    });
  });

  it("one-click unsubscribe: GET changes nothing, a forged token is refused, POST turns that category's mail off", async () => {
    const header = mailsTo(adminEmail, /invitee-3/)[0]?.headers["list-unsubscribe"] as string;
    const url = new URL(header.slice(1, -1));
    const path = `${url.pathname}${url.search}`;
    const anonymous = (method: "GET" | "POST", target: string) =>
      t.app.inject({
        method,
        url: target,
        ...(method === "POST"
          ? {
              headers: { "content-type": "application/x-www-form-urlencoded" },
              payload: "List-Unsubscribe=One-Click",
            }
          : {}),
      });
    const emailOn = async () =>
      (await admin.client.get("/api/v1/me/notification-preferences")).body.categories[1].channels.email;

    const page = await anonymous("GET", path);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('method="post"');
    expect(await emailOn()).toBe(true);

    const forged = unsubscribeToken(Buffer.alloc(32, 7), admin.userId, "members");
    expect((await anonymous("POST", `/api/v1/notifications/unsubscribe?token=${forged}`)).statusCode).toBe(
      400,
    );
    const tampered = path.replace(/token=(.)/, (_m, c: string) => `token=${c === "A" ? "B" : "A"}`);
    expect((await anonymous("POST", tampered)).statusCode).toBe(400);
    const security = unsubscribeToken(t.config.secretKey, admin.userId, "security");
    expect((await anonymous("POST", `/api/v1/notifications/unsubscribe?token=${security}`)).statusCode).toBe(
      400,
    );
    expect(await emailOn()).toBe(true);

    const done = await anonymous("POST", path);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ unsubscribed: true });
    expect(await emailOn()).toBe(false);
    await invite("invitee-4@example.com");
    expect(mailsTo(adminEmail, /invitee-4/)).toEqual([]);
  });

  it("security mail (an API key created) has the settings footer and no List-Unsubscribe", async () => {
    await createApiKey({ client: root.client, accountId: root.accountId }, ["members:read"], {
      name: "Footer key",
    });
    await t.services.jobs.idle();
    const mail = mailsTo("notify-root@example.com", /API key created in Notify Co: Footer key/);
    expect(mail).toHaveLength(1);
    expect(mail[0]?.headers["list-unsubscribe"]).toBeUndefined();
    expect(mail[0]?.text).toContain("This security mail cannot be turned off");
    expect(mail[0]?.text).toContain("http://gatehouse.test/settings/notifications");
    // Admins (security:manage) hear of it too.
    expect(mailsTo(adminEmail, /API key created in Notify Co: Footer key/)).toHaveLength(1);
  });

  it("SMS: only with a verified mobile; the number is verified by a texted code; changing it unverifies", async () => {
    const number = "+447700900123";
    expect((await admin.client.post("/api/v1/me/mobile/verification")).statusCode).toBe(400);
    expect((await admin.client.patch("/api/v1/me", { mobile: number })).body.mobile_verified).toBe(false);
    const sent = await admin.client.post("/api/v1/me/mobile/verification");
    expect(sent.statusCode).toBe(202);
    expect(sent.body.mobile).toBe("•••• 0123");
    expect((await admin.client.post("/api/v1/me/mobile/verification")).statusCode).toBe(429);
    const text = (await listSmsOutbox(t.services.db, number))[0]?.text ?? "";
    const code = /\d{6}/.exec(text)?.[0] as string;
    const wrong = await admin.client.post("/api/v1/me/mobile/verification/confirm", {
      code: code === "000000" ? "111111" : "000000",
    });
    expect(wrong.statusCode).toBe(400);
    const confirmed = await admin.client.post("/api/v1/me/mobile/verification/confirm", { code });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body.mobile_verified).toBe(true);
    expect((await admin.client.get("/api/v1/me")).body.mobile_verified).toBe(true);

    const prefs = await admin.client.get("/api/v1/me/notification-preferences");
    expect(prefs.body.categories[0].locked).toEqual(["email"]);
    expect(prefs.body.categories[1].locked).toEqual(["sms"]);
    expect(
      (
        await admin.client.put("/api/v1/me/notification-preferences", {
          categories: [{ key: "members", channels: { sms: true } }],
        })
      ).statusCode,
    ).toBe(400);
    const on = await admin.client.put("/api/v1/me/notification-preferences", {
      categories: [{ key: "security", channels: { sms: true } }],
    });
    expect(on.statusCode).toBe(200);
    const smsBefore = (await listSmsOutbox(t.services.db, number)).length;
    await createApiKey({ client: root.client, accountId: root.accountId }, ["members:read"], {
      name: "Texted key",
    });
    await t.services.jobs.idle();
    const texts = await listSmsOutbox(t.services.db, number);
    expect(texts.length).toBe(smsBefore + 1);
    expect(texts[0]?.text).toContain("API key created in Notify Co: Texted key");
    // Members notifications are not critical: no text even though the number is verified.
    await invite("invitee-5@example.com");
    expect((await listSmsOutbox(t.services.db, number)).length).toBe(smsBefore + 1);

    expect((await admin.client.patch("/api/v1/me", { mobile: "+447700900999" })).body.mobile_verified).toBe(
      false,
    );
    const relocked = await admin.client.get("/api/v1/me/notification-preferences");
    expect(relocked.body.categories[0]).toMatchObject({ channels: { sms: false }, locked: ["email", "sms"] });
    await createApiKey({ client: root.client, accountId: root.accountId }, ["members:read"], {
      name: "Unverified",
    });
    await t.services.jobs.idle();
    expect(await listSmsOutbox(t.services.db, "+447700900999")).toEqual([]);
  });

  it("mark read: some (only your own), all; unread filter and count; cursor pages", async () => {
    await invite("invitee-6@example.com");
    await invite("invitee-7@example.com");
    const all = await listOf(admin.client);
    expect(all.unread_count).toBeGreaterThanOrEqual(2);
    const [first, second] = all.data as Array<{ id: string }>;
    const rootsOwn = (await listOf(root.client)).data[0]?.id as string;
    const marked = await admin.client.post("/api/v1/me/notifications/read", {
      ids: [first?.id, rootsOwn, "ntf_unknown"],
    });
    expect(marked.statusCode).toBe(200);
    expect(marked.body).toEqual({ marked: 1, unread_count: all.unread_count - 1 });
    expect((await listOf(root.client)).data[0].read_at).toBeNull();
    const unread = await listOf(admin.client, "?unread=true");
    expect(unread.data.map((n: { id: string }) => n.id)).not.toContain(first?.id);
    expect(unread.data.map((n: { id: string }) => n.id)).toContain(second?.id);

    const page1 = await listOf(admin.client, "?limit=1");
    expect(page1.data).toHaveLength(1);
    const page2 = await listOf(admin.client, `?limit=1&cursor=${page1.next_cursor}`);
    expect(page2.data[0].id).toBe(second?.id);
    expect((await admin.client.get("/api/v1/me/notifications?cursor=nonsense")).statusCode).toBe(400);

    const everything = await admin.client.post("/api/v1/me/notifications/read", { all: true });
    expect(everything.body.unread_count).toBe(0);
    expect((await listOf(admin.client, "?unread=true")).data).toEqual([]);
    expect((await admin.client.post("/api/v1/me/notifications/read", { all: false })).statusCode).toBe(400);
  });
});
