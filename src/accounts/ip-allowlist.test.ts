import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { newTotp } from "../mfa/totp.js";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { clientIp, compileAllowlist, normalizeIpAllowlist, normalizeIpEntry } from "./ip-allowlist.js";

describe("IP allowlist entries", () => {
  it.each([
    ["203.0.113.0/24", "203.0.113.0/24"],
    ["203.0.113.77/24", "203.0.113.0/24"],
    [" 198.51.100.7 ", "198.51.100.7"],
    ["198.51.100.7/32", "198.51.100.7"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:DB8:0:0:0:0:0:1/32", "2001:db8::/32"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8::1/128", "2001:db8::1"],
    ["::1", "::1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::ffff:192.0.2.0/120", "192.0.2.0/24"],
  ])("%s is stored as %s", (input, stored) => {
    expect(normalizeIpEntry(input)).toBe(stored);
  });

  it.each([
    "",
    "localhost",
    "203.0.113.0/33",
    "2001:db8::/129",
    "203.0.113.0/",
    "203.0.113.0/08",
    "203.0.113.0/-1",
    "203.0.113.0/24/24",
    "203.0.113",
    "203.0.113.256",
    "01.2.3.4",
    "fe80::1%eth0",
    "２０３.０.１１３.１",
    "1.2.3.4'; drop table accounts; --",
    `${"1".repeat(70)}`,
  ])("refuses %j", (input) => {
    expect(normalizeIpEntry(input)).toBeUndefined();
  });

  it("removes duplicates (after normalizing) and names every bad entry by its index", () => {
    expect(normalizeIpAllowlist(["10.0.0.0/8", "10.1.2.3/8", "::ffff:10.0.0.0/104"])).toEqual(["10.0.0.0/8"]);
    let thrown: unknown;
    try {
      normalizeIpAllowlist(["10.0.0.0/8", "nope", "10.0.0.1", "1.2.3.4/99"]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: "validation_failed",
      errors: [
        { path: "ip_allowlist.1", code: "invalid_ip", message: expect.stringContaining('"nope"') },
        { path: "ip_allowlist.3", code: "invalid_ip", message: expect.stringContaining('"1.2.3.4/99"') },
      ],
    });
  });

  it("matches IPv4 and IPv6 ranges and single addresses; IPv4-mapped IPv6 clients match IPv4 rules", () => {
    const list = compileAllowlist(["203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "2001:db8:ffff::1"]);
    expect(list.allows("203.0.113.1")).toBe(true);
    expect(list.allows("203.0.113.255")).toBe(true);
    expect(list.allows("203.0.114.1")).toBe(false);
    expect(list.allows("198.51.100.7")).toBe(true);
    expect(list.allows("198.51.100.8")).toBe(false);
    expect(list.allows("::ffff:203.0.113.9")).toBe(true);
    expect(list.allows("::ffff:198.51.100.8")).toBe(false);
    expect(list.allows("2001:db8:1234::1")).toBe(true);
    expect(list.allows("2001:db9::1")).toBe(false);
    expect(list.allows(null)).toBe(false);
    expect(list.allows("garbage")).toBe(false);
    expect(
      compileAllowlist(["::ffff:203.0.113.0/120"].map((e) => normalizeIpEntry(e) as string)).allows(
        "203.0.113.5",
      ),
    ).toBe(true);
    expect(compileAllowlist([]).allows("192.0.2.1")).toBe(true);
    expect(clientIp("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientIp("2001:0DB8::0001")).toBe("2001:db8::1");
  });
});

describe.each(testDialects())("IP allowlist (%s)", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const security = (accountId: string) => `/api/v1/accounts/${accountId}/security`;

  async function loginFrom(ip: string, email: string, password = STRONG_PASSWORD, accountId?: string) {
    const client = createClient(t.app, { ip });
    const response = await client.post("/api/v1/auth/login", {
      email,
      password,
      ...(accountId ? { account_id: accountId } : {}),
    });
    return { client, response };
  }

  async function auditActions(client: Client, accountId: string, action: string) {
    const events = await client.get(`/api/v1/accounts/${accountId}/audit-events?action=${action}`);
    expect(events.statusCode, events.payload).toBe(200);
    return events.body.data as Array<{ action: string; changes: Record<string, unknown>; ip: string }>;
  }

  it("is empty by default, shows the caller's IP, and stores entries normalized (audited)", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-defaults@example.com" });
    const got = await root.client.get(security(root.accountId));
    expect(got.statusCode).toBe(200);
    expect(got.body.ip_allowlist).toEqual([]);
    expect(got.body.current_ip).toBe("127.0.0.1");

    const mapped = await loginFrom("::ffff:203.0.113.5", "ipa-defaults@example.com");
    expect((await mapped.client.get(security(root.accountId))).body.current_ip).toBe("203.0.113.5");

    const patched = await root.client.patch(security(root.accountId), {
      ip_allowlist: [
        " 203.0.113.77/24",
        "2001:DB8::/32",
        "203.0.113.0/24",
        "127.0.0.1/32",
        "::ffff:10.0.0.1",
      ],
    });
    expect(patched.statusCode, patched.payload).toBe(200);
    const stored = ["203.0.113.0/24", "2001:db8::/32", "127.0.0.1", "10.0.0.1"];
    expect(patched.body.ip_allowlist).toEqual(stored);
    expect((await root.client.get(security(root.accountId))).body.ip_allowlist).toEqual(stored);
    // Other settings are untouched by an allowlist change, and the allowlist by other changes.
    expect(
      (await root.client.patch(security(root.accountId), { session: { idle_minutes: 60 } })).body,
    ).toMatchObject({ ip_allowlist: stored, session: { idle_minutes: 60 } });
    const events = await auditActions(root.client, root.accountId, "account.security_updated");
    expect(events.some((e) => JSON.stringify(e.changes.ip_allowlist) === JSON.stringify(stored))).toBe(true);

    expect(
      (await root.client.patch(security(root.accountId), { ip_allowlist: [] })).body.ip_allowlist,
    ).toEqual([]);
  });

  it("answers 400 naming the bad entry for invalid, huge, unicode or injected input, and stores nothing", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-invalid@example.com" });
    const bad = await root.client.patch(security(root.accountId), {
      ip_allowlist: ["127.0.0.1", "203.0.113.0/33"],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.code).toBe("validation_failed");
    expect(bad.body.errors).toEqual([
      expect.objectContaining({ path: "ip_allowlist.1", message: expect.stringContaining("203.0.113.0/33") }),
    ]);
    const inputs: unknown[] = [
      ["２０３.０.１１３.１"],
      ["127.0.0.1", "1.2.3.4'); DROP TABLE accounts; --"],
      ["127.0.0.1", "<script>alert(1)</script>"],
      ["127.0.0.1", "\u0000"],
      ["x".repeat(10_000)],
      Array.from({ length: 101 }, (_, i) => `10.0.${i}.0/24`),
      [127001],
      "127.0.0.1",
      [null],
    ];
    for (const ip_allowlist of inputs) {
      const response = await root.client.patch(security(root.accountId), { ip_allowlist });
      expect(response.statusCode, JSON.stringify(ip_allowlist).slice(0, 80)).toBe(400);
      expect(response.body.code).toBe("validation_failed");
    }
    const long = await root.client.patch(security(root.accountId), {
      ip_allowlist: ["127.0.0.1", `10.0.0.0/8${" ".repeat(60)}x`],
    });
    expect(long.body.errors).toEqual([
      expect.objectContaining({ path: "ip_allowlist.1", message: expect.stringContaining('"10.0.0.0/8 ') }),
    ]);
    expect((await root.client.get(security(root.accountId))).body.ip_allowlist).toEqual([]);
    // 100 entries are fine.
    const hundred = [...Array.from({ length: 99 }, (_, i) => `10.0.${i}.0/24`), "127.0.0.1"];
    expect((await root.client.patch(security(root.accountId), { ip_allowlist: hundred })).statusCode).toBe(
      200,
    );
  });

  it("refuses a list that would lock out the saving admin, naming their IP; IPv6 admins too", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-lockout@example.com" });
    const refused = await root.client.patch(security(root.accountId), { ip_allowlist: ["203.0.113.0/24"] });
    expect(refused.statusCode).toBe(409);
    expect(refused.body.code).toBe("conflict");
    expect(refused.body.detail).toContain("127.0.0.1");
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ path: "ip_allowlist", code: "would_lock_out" }),
    ]);
    expect((await root.client.get(security(root.accountId))).body.ip_allowlist).toEqual([]);

    const v6 = await loginFrom("2001:db8:aa::5", "ipa-lockout@example.com");
    expect(v6.response.statusCode).toBe(200);
    const v6Refused = await v6.client.patch(security(root.accountId), { ip_allowlist: ["2001:db8:bb::/48"] });
    expect(v6Refused.statusCode).toBe(409);
    expect(v6Refused.body.detail).toContain("2001:db8:aa::5");
    const v6Ok = await v6.client.patch(security(root.accountId), { ip_allowlist: ["2001:db8:aa::/48"] });
    expect(v6Ok.statusCode, v6Ok.payload).toBe(200);
    // From now on the IPv4 session of the same admin is outside the list.
    expect((await root.client.get(security(root.accountId))).body.code).toBe("ip_not_allowed");
  });

  it("only members who may manage security settings change the list; others see it per security:read", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-perm@example.com" });
    const monitor = await addMember(t, root, { email: "ipa-perm-monitor@example.com", roleKey: "monitor" });
    const admin = await addMember(t, root, { email: "ipa-perm-admin@example.com", roleKey: "admin" });
    const forbidden = await monitor.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1"] });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.body.code).toBe("forbidden");
    const outsider = await signUpAndLogin(t, { email: "ipa-perm-outsider@example.com" });
    expect((await outsider.client.patch(security(root.accountId), { ip_allowlist: [] })).statusCode).toBe(
      404,
    );
    expect((await outsider.client.get(security(root.accountId))).statusCode).toBe(404);
    const byAdmin = await admin.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.0/8"] });
    expect(byAdmin.statusCode, byAdmin.payload).toBe(200);
    expect((await root.client.get(security(root.accountId))).body.ip_allowlist).toEqual(["127.0.0.0/8"]);
  });

  it("refuses a log-in from outside the list after the password (403 ip_not_allowed, audited)", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-login@example.com" });
    await addMember(t, root, { email: "ipa-login-member@example.com", roleKey: "developer" });
    expect(
      (
        await root.client.patch(security(root.accountId), {
          ip_allowlist: ["127.0.0.1", "203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
        })
      ).statusCode,
    ).toBe(200);
    for (const ip of ["203.0.113.9", "::ffff:203.0.113.10", "2001:db8:ffff::1", "198.51.100.7"]) {
      const { client, response } = await loginFrom(ip, "ipa-login-member@example.com");
      expect(response.statusCode, `${ip}: ${response.payload}`).toBe(200);
      expect((await client.get(`/api/v1/accounts/${root.accountId}/members`)).statusCode).toBe(200);
    }
    for (const ip of ["198.51.100.8", "::ffff:198.51.100.8", "2001:db9::1", "10.0.0.1"]) {
      const { client, response } = await loginFrom(ip, "ipa-login-member@example.com");
      expect(response.statusCode, ip).toBe(403);
      expect(response.body.code).toBe("ip_not_allowed");
      expect(response.cookies.filter((c) => c.value)).toHaveLength(0);
      expect((await client.get("/api/v1/me")).statusCode).toBe(401);
    }
    // A wrong password from outside learns nothing about the list.
    const wrong = await loginFrom("198.51.100.8", "ipa-login-member@example.com", "wrong-password-123");
    expect(wrong.response.statusCode).toBe(401);
    expect(wrong.response.body.code).toBe("invalid_credentials");

    const refusals = await auditActions(root.client, root.accountId, "auth.login_refused_ip");
    expect(refusals.map((e) => e.changes.ip).sort()).toEqual(
      ["10.0.0.1", "198.51.100.8", "198.51.100.8", "2001:db9::1"].sort(),
    );
  });

  it("checks the second-factor log-in too, and only after the code is right", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-mfa@example.com" });
    const member = await addMember(t, root, { email: "ipa-mfa-member@example.com", roleKey: "developer" });
    const start = await member.client.post("/api/v1/me/mfa/totp", {});
    const verify = await member.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    expect(verify.statusCode, verify.payload).toBe(200);
    const [recovery] = verify.body.recovery_codes as string[];
    await root.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1"] });

    const { client, response } = await loginFrom("198.51.100.20", "ipa-mfa-member@example.com");
    expect(response.body.mfa_required).toBe(true);
    const wrongCode = await client.post("/api/v1/auth/login/mfa", {
      mfa_token: response.body.mfa_token,
      method: "recovery_code",
      code: "aaaa-bbbb-cccc",
    });
    expect(wrongCode.body.code).toBe("invalid_code");
    const refused = await client.post("/api/v1/auth/login/mfa", {
      mfa_token: response.body.mfa_token,
      method: "recovery_code",
      code: recovery,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.body.code).toBe("ip_not_allowed");
    expect((await client.get("/api/v1/me")).statusCode).toBe(401);
    // Refused, nothing was used up: the same recovery code still works from an allowed address.
    const inside = await loginFrom("127.0.0.1", "ipa-mfa-member@example.com");
    const ok = await inside.client.post("/api/v1/auth/login/mfa", {
      mfa_token: inside.response.body.mfa_token,
      method: "recovery_code",
      code: recovery,
    });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(
      (await auditActions(root.client, root.accountId, "auth.login_refused_ip")).map((e) => e.changes.ip),
    ).toEqual(["198.51.100.20"]);
  });

  it("cuts off an already logged-in session at once when the list changes, and lets it back in", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-live@example.com" });
    await addMember(t, root, { email: "ipa-live-member@example.com", roleKey: "developer" });
    const { client: member } = await loginFrom("198.51.100.30", "ipa-live-member@example.com");
    const members = `/api/v1/accounts/${root.accountId}/members`;
    expect((await member.get(members)).statusCode).toBe(200);
    expect((await member.get("/api/v1/me")).statusCode).toBe(200); // session and allowlist cached now

    await root.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1", "2001:db8::/32"] });
    for (const response of [
      await member.get(members),
      await member.get("/api/v1/me"),
      await member.patch("/api/v1/me", { first_name: "Blocked" }),
    ]) {
      expect(response.statusCode).toBe(403);
      expect(response.body.code).toBe("ip_not_allowed");
      expect(response.body.detail).toContain("198.51.100.30");
    }
    // Still able to see the session and to log out.
    expect((await member.get("/api/v1/session")).statusCode).toBe(200);

    await root.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1", "198.51.100.0/24"] });
    expect((await member.get(members)).statusCode).toBe(200);
    await root.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1"] });
    expect((await member.get(members)).statusCode).toBe(403);
    expect((await member.post("/api/v1/auth/logout")).statusCode).toBe(204);
    expect((await member.get("/api/v1/session")).statusCode).toBe(401);
  });

  it("decides a request from the cache alone only when the lists it needs are cached (the warm path)", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-cached@example.com" });
    const guard = t.services.ipAllowlist;
    const check = (ip: string) => ({
      userId: root.userId,
      activeAccountId: root.accountId,
      pathAccountId: root.accountId,
      ip,
      checkActive: true,
    });
    await root.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1"] });
    // Saving dropped the cached list: only the database can tell now.
    const loading = guard.assertRequest(check("127.0.0.1"));
    expect(loading).toBeInstanceOf(Promise);
    await loading;
    // Cached: decided at once, a pass returning nothing and a refusal thrown, neither a promise.
    expect(guard.assertRequest(check("127.0.0.1"))).toBeUndefined();
    expect(() => guard.assertRequest(check("198.51.100.99"))).toThrow(/not allowed/);
    // Another account in the path with a list of its own depends on the caller's membership: not decided.
    const other = await signUpAndLogin(t, { email: "ipa-cached-other@example.com" });
    await other.client.patch(security(other.accountId), { ip_allowlist: ["127.0.0.1"] });
    await guard.allows(other.accountId, "127.0.0.1");
    const elsewhere = guard.assertRequest({ ...check("127.0.0.1"), pathAccountId: other.accountId });
    expect(elsewhere).toBeInstanceOf(Promise);
    await elsewhere;
  });

  it("with several accounts: starts in one that allows the IP, refuses a requested blocked one and switching to it", async () => {
    const blocked = await signUpAndLogin(t, { email: "ipa-multi-owner@example.com", account: "Strict Co" });
    const user = await signUpAndLogin(t, { email: "ipa-multi@example.com", account: "Own Co" });
    const roles = (await blocked.client.get(`/api/v1/accounts/${blocked.accountId}/roles`)).body
      .data as Array<{
      id: string;
      key: string;
    }>;
    await blocked.client.post(`/api/v1/accounts/${blocked.accountId}/invitations`, {
      emails: ["ipa-multi@example.com"],
      role_id: roles.find((r) => r.key === "developer")?.id,
    });
    const link = await t.linkFor("ipa-multi@example.com", /invited/);
    const accepted = await user.client.post("/api/v1/invitations/accept", {
      token: new URL(link).searchParams.get("token"),
    });
    expect(accepted.statusCode, accepted.payload).toBe(200);
    // The user's last account is the strict one.
    expect((await user.client.post(`/api/v1/accounts/${blocked.accountId}/switch`)).statusCode).toBe(200);
    await blocked.client.patch(security(blocked.accountId), { ip_allowlist: ["127.0.0.1"] });

    const outside = "192.0.2.50";
    const explicit = await loginFrom(outside, "ipa-multi@example.com", STRONG_PASSWORD, blocked.accountId);
    expect(explicit.response.statusCode).toBe(403);
    expect(explicit.response.body.code).toBe("ip_not_allowed");

    const { client, response } = await loginFrom(outside, "ipa-multi@example.com");
    expect(response.statusCode, response.payload).toBe(200);
    expect(response.body.account_id).toBe(user.accountId);
    expect((await client.get(`/api/v1/accounts/${user.accountId}/members`)).statusCode).toBe(200);
    const pathBlocked = await client.get(`/api/v1/accounts/${blocked.accountId}/members`);
    expect(pathBlocked.statusCode).toBe(403);
    expect(pathBlocked.body.code).toBe("ip_not_allowed");
    const switched = await client.post(`/api/v1/accounts/${blocked.accountId}/switch`);
    expect(switched.statusCode).toBe(403);
    expect(switched.body.code).toBe("ip_not_allowed");
    expect((await client.get("/api/v1/session")).body.account_id).toBe(user.accountId);

    // A session in the strict account that moves outside the list can still list its accounts and leave.
    const inside = await loginFrom("127.0.0.1", "ipa-multi@example.com", STRONG_PASSWORD, blocked.accountId);
    expect(inside.response.body.account_id).toBe(blocked.accountId);
    expect((await inside.client.get("/api/v1/me")).statusCode).toBe(200);
    const stuck = createClient(t.app, { ip: outside });
    stuck.cookie = inside.client.cookie;
    stuck.csrf = inside.client.csrf;
    expect((await stuck.get("/api/v1/me")).body.code).toBe("ip_not_allowed");
    expect((await stuck.get("/api/v1/accounts")).statusCode).toBe(200);
    const leave = await stuck.post(`/api/v1/accounts/${user.accountId}/switch`);
    expect(leave.statusCode, leave.payload).toBe(200);
    expect((await stuck.get("/api/v1/me")).statusCode).toBe(200);

    // Only the accounts that refused see the refusal: the own account's audit log has none.
    expect(await auditActions(user.client, user.accountId, "auth.login_refused_ip")).toEqual([]);
    expect((await auditActions(blocked.client, blocked.accountId, "auth.login_refused_ip")).length).toBe(1);
  });

  it("applies to accepting an invitation, which starts a session in the account", async () => {
    const root = await signUpAndLogin(t, { email: "ipa-invite@example.com" });
    await root.client.patch(security(root.accountId), { ip_allowlist: ["127.0.0.1"] });
    const roles = (await root.client.get(`/api/v1/accounts/${root.accountId}/roles`)).body.data as Array<{
      id: string;
      key: string;
    }>;
    await root.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: ["ipa-invitee@example.com"],
      role_id: roles.find((r) => r.key === "monitor")?.id,
    });
    const token = new URL(await t.linkFor("ipa-invitee@example.com", /invited/)).searchParams.get("token");
    const accept = (ip: string) =>
      createClient(t.app, { ip }).post("/api/v1/invitations/accept", {
        token,
        password: STRONG_PASSWORD,
        first_name: "In",
        last_name: "Vitee",
      });
    const refused = await accept("192.0.2.8");
    expect(refused.statusCode).toBe(403);
    expect(refused.body.code).toBe("ip_not_allowed");
    expect(refused.cookies.filter((c) => c.value)).toHaveLength(0);
    const invitations = await root.client.get(
      `/api/v1/accounts/${root.accountId}/invitations?status=pending`,
    );
    expect(invitations.body.data.map((i: { email: string }) => i.email)).toContain("ipa-invitee@example.com");
    expect(
      (await auditActions(root.client, root.accountId, "invitation.accept_refused_ip"))[0]?.changes.ip,
    ).toBe("192.0.2.8");
    expect((await accept("127.0.0.1")).statusCode).toBe(200);
  });

  it("never lets one account's list affect another account, nor reveals it to non-members", async () => {
    const strict = await signUpAndLogin(t, { email: "ipa-iso-strict@example.com" });
    const other = await signUpAndLogin(t, { email: "ipa-iso-other@example.com" });
    await strict.client.patch(security(strict.accountId), { ip_allowlist: ["127.0.0.1"] });
    const { client, response } = await loginFrom("192.0.2.77", "ipa-iso-other@example.com");
    expect(response.statusCode).toBe(200);
    expect((await client.get(`/api/v1/accounts/${other.accountId}/members`)).statusCode).toBe(200);
    expect((await client.get(security(other.accountId))).body.ip_allowlist).toEqual([]);
    // A non-member from outside the list gets the usual 404, not a hint that the account exists.
    const probe = await client.get(`/api/v1/accounts/${strict.accountId}/members`);
    expect(probe.statusCode).toBe(404);
    expect((await client.post(`/api/v1/accounts/${strict.accountId}/switch`)).statusCode).toBe(404);
  });
});

describe.runIf(testDialects().includes("postgres"))("IP allowlist across processes (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("postgres");
  });
  afterAll(() => t?.close());

  it("a list saved through one process cuts off a session in another at once", async () => {
    const other = await t.sibling();
    const root = await signUpAndLogin(t, { email: "ipa-xproc@example.com" });
    await addMember(t, root, { email: "ipa-xproc-member@example.com", roleKey: "developer" });
    const elsewhere = createClient(other.app, { ip: "198.51.100.40" });
    const login = await elsewhere.post("/api/v1/auth/login", {
      email: "ipa-xproc-member@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    const members = `/api/v1/accounts/${root.accountId}/members`;
    expect((await elsewhere.get(members)).statusCode).toBe(200);
    expect((await elsewhere.get(members)).statusCode).toBe(200); // warm in the other process

    await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, { ip_allowlist: ["127.0.0.1"] });
    await expect
      .poll(async () => (await elsewhere.get(members)).body.code, { timeout: 2000, interval: 5 })
      .toBe("ip_not_allowed");
    await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, { ip_allowlist: [] });
    await expect
      .poll(async () => (await elsewhere.get(members)).statusCode, { timeout: 2000, interval: 5 })
      .toBe(200);
  });
});

describe("client IP behind proxies (TRUST_PROXY)", () => {
  it("parses a hop count, proxy addresses or true; refuses anything else", () => {
    const base = { NODE_ENV: "test", SECRET_KEY: "x".repeat(32), DATABASE_URL: "sqlite::memory:" };
    expect(loadConfig(base).trustProxy).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: "1" }).trustProxy).toBe(1);
    expect(loadConfig({ ...base, TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ ...base, TRUST_PROXY: "10.0.0.0/8, fd00::1" }).trustProxy).toEqual([
      "10.0.0.0/8",
      "fd00::1",
    ]);
    expect(() => loadConfig({ ...base, TRUST_PROXY: "yes please" })).toThrow(/TRUST_PROXY/);
  });
});

describe.each(testDialects())("client IP for the allowlist (%s)", (dialect) => {
  let direct: TestApp;
  let proxied: TestApp;
  beforeAll(async () => {
    direct = await createTestApp(dialect);
    proxied = await createTestApp(dialect, { TRUST_PROXY: "1" });
  });
  afterAll(async () => {
    await direct?.close();
    await proxied?.close();
  });

  it("ignores X-Forwarded-For without TRUST_PROXY, so it cannot be used to get past the list", async () => {
    const root = await signUpAndLogin(direct, { email: "ipa-xff@example.com" });
    await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, { ip_allowlist: ["127.0.0.1"] });
    const spoofer = createClient(direct.app, { ip: "192.0.2.99" });
    const login = await spoofer.post(
      "/api/v1/auth/login",
      { email: "ipa-xff@example.com", password: STRONG_PASSWORD },
      { "x-forwarded-for": "127.0.0.1" },
    );
    expect(login.statusCode).toBe(403);
    expect(login.body.detail).toContain("192.0.2.99");
  });

  it("with TRUST_PROXY=1 takes the address the proxy saw, not one the client wrote into the header", async () => {
    const root = await signUpAndLogin(proxied, { email: "ipa-proxied@example.com" });
    const viaProxy = createClient(proxied.app, { ip: "10.0.0.1" });
    const xff = { "x-forwarded-for": "127.0.0.1, 203.0.113.5" };
    const login = await viaProxy.post(
      "/api/v1/auth/login",
      { email: "ipa-proxied@example.com", password: STRONG_PASSWORD },
      xff,
    );
    expect(login.statusCode).toBe(200);
    const got = await viaProxy.get(`/api/v1/accounts/${root.accountId}/security`, xff);
    expect(got.body.current_ip).toBe("203.0.113.5");
    const patched = await viaProxy.request(
      "PATCH",
      `/api/v1/accounts/${root.accountId}/security`,
      { ip_allowlist: ["203.0.113.0/24"] },
      xff,
    );
    expect(patched.statusCode, patched.payload).toBe(200);
    const spoofed = await viaProxy.get(`/api/v1/accounts/${root.accountId}/members`, {
      "x-forwarded-for": "203.0.113.5, 192.0.2.1",
    });
    expect(spoofed.body.code).toBe("ip_not_allowed");
    expect((await viaProxy.get(`/api/v1/accounts/${root.accountId}/members`, xff)).statusCode).toBe(200);
  });
});
