import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe.each(testDialects())("roles, teams and authz on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { PERMISSIONS: "flows:deploy=Deploy flows,flows:read" });
  });
  afterAll(() => t?.close());

  it("publishes the permission catalog with installation and account keys", async () => {
    const root = await signUpAndLogin(t, { email: "catalog@example.com" });
    const base = await root.client.get("/api/v1/permissions");
    const keys = base.body.data.map((p: { key: string }) => p.key);
    for (const key of [
      "account:close",
      "members:update_role",
      "billing:manage",
      "api_keys:manage",
      "data:export",
      "resources:write",
      "flows:deploy",
    ]) {
      expect(keys).toContain(key);
    }
    expect(base.body.data.find((p: { key: string }) => p.key === "flows:deploy")).toEqual({
      key: "flows:deploy",
      description: "Deploy flows",
      group: "flows",
      custom: true,
    });
    const registered = await root.client.post(`/api/v1/accounts/${root.accountId}/permissions`, {
      key: "reports:export",
      description: "Export reports",
    });
    expect(registered.statusCode).toBe(201);
    expect(
      (
        await root.client.post(`/api/v1/accounts/${root.accountId}/permissions`, {
          key: "Not A Key",
          description: "x",
        })
      ).statusCode,
    ).toBe(400);
    const withAccount = await root.client.get(`/api/v1/permissions?account_id=${root.accountId}`);
    expect(withAccount.body.data.map((p: { key: string }) => p.key)).toContain("reports:export");
    expect(
      (await root.client.get("/api/v1/permissions")).body.data.map((p: { key: string }) => p.key),
    ).not.toContain("reports:export");
  });

  it("has the five built-in roles, adds templates with one click, edits and deletes custom roles", async () => {
    const root = await signUpAndLogin(t, { email: "roles@example.com" });
    const base = `/api/v1/accounts/${root.accountId}/roles`;
    const list = await root.client.get(base);
    expect(
      list.body.data.filter((r: { builtin: boolean }) => r.builtin).map((r: { key: string }) => r.key),
    ).toEqual(["root", "admin", "billing", "developer", "monitor"]);
    const admin = list.body.data.find((r: { key: string }) => r.key === "admin");
    expect(admin.permissions).not.toContain("account:close");
    expect(list.body.data.find((r: { key: string }) => r.key === "billing").permissions).not.toContain(
      "resources:read",
    );
    expect(
      list.body.data
        .find((r: { key: string }) => r.key === "monitor")
        .permissions.every((p: string) => p.endsWith(":read")),
    ).toBe(true);
    expect((await root.client.patch(`${base}/${admin.id}`, { name: "Boss" })).body.code).toBe("builtin_role");
    expect((await root.client.delete(`${base}/${admin.id}`)).body.code).toBe("builtin_role");

    const templates = await root.client.get(`/api/v1/accounts/${root.accountId}/role-templates`);
    expect(templates.body.data.map((r: { key: string }) => r.key)).toEqual([
      "manager",
      "agent",
      "viewer",
      "user",
    ]);
    const manager = await root.client.post(base, { template: "manager" });
    expect(manager.body).toMatchObject({ key: "manager", name: "Manager", builtin: false });
    expect(manager.body.permissions).toContain("teams:manage");

    const custom = await root.client.post(base, {
      name: "Deployer",
      description: "Ships flows",
      permissions: ["flows:deploy", "resources:read"],
    });
    expect(custom.statusCode).toBe(201);
    expect(
      (await root.client.post(base, { name: "Bad", permissions: ["nope:nothing"] })).body.errors[0],
    ).toMatchObject({
      path: "permissions.0",
      code: "unknown_permission",
    });
    const edited = await root.client.patch(`${base}/${custom.body.id}`, {
      permissions: ["flows:deploy", "flows:read"],
    });
    expect(edited.body.permissions).toEqual(["flows:deploy", "flows:read"]);

    const member = await addMember(t, root, { email: "deployer@example.com", roleKey: "monitor" });
    await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
      role_id: custom.body.id,
    });
    const inUse = await root.client.delete(`${base}/${custom.body.id}`);
    expect(inUse.body.code).toBe("role_in_use");
    expect(
      (await root.client.delete(`${base}/${custom.body.id}?move_to=${manager.body.id}`)).statusCode,
    ).toBe(204);
    const moved = await root.client.get(`/api/v1/accounts/${root.accountId}/members/${member.userId}`);
    expect(moved.body.role.key).toBe("manager");
  });

  it("takes role edits into account immediately in authz checks", async () => {
    const root = await signUpAndLogin(t, { email: "live@example.com" });
    const role = await root.client.post(`/api/v1/accounts/${root.accountId}/roles`, {
      name: "Shipper",
      permissions: ["flows:deploy"],
    });
    const member = await addMember(t, root, { email: "shipper@example.com" });
    await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
      role_id: role.body.id,
    });
    const check = { account_id: root.accountId, user_id: member.userId, permission: "flows:deploy" };
    expect((await root.client.post("/api/v1/authz/check", check)).body.allowed).toBe(true);
    expect((await member.client.post("/api/v1/authz/check", check)).body.allowed).toBe(true); // about oneself
    await root.client.patch(`/api/v1/accounts/${root.accountId}/roles/${role.body.id}`, {
      permissions: ["flows:read"],
    });
    expect((await root.client.post("/api/v1/authz/check", check)).body).toEqual({
      allowed: false,
      reason: "missing_permission",
    });
    const batch = await root.client.post("/api/v1/authz/check", {
      checks: [
        { ...check, permission: "flows:read" },
        { ...check, user_id: root.userId, permission: "account:close" },
        { ...check, account_id: "acct_nowhere" },
      ],
    });
    expect(batch.body.results).toEqual([
      { allowed: true, reason: "granted" },
      { allowed: true, reason: "granted" },
      { allowed: false, reason: "not_member" },
    ]);
    // A member without members:read may only ask about themselves.
    expect(
      (
        await member.client.post("/api/v1/authz/check", {
          ...check,
          user_id: root.userId,
          permission: "account:read",
        })
      ).body.reason,
    ).toBe("not_member");
    expect((await root.client.post("/api/v1/authz/check", { checks: [] })).statusCode).toBe(400);
  });

  it("answers a warm check from the access cache alone, and waits for the database again after a change", async () => {
    const root = await signUpAndLogin(t, { email: "warm-authz@example.com" });
    const member = await addMember(t, root, { email: "warm-authz-member@example.com", roleKey: "developer" });
    const checks = [
      { account_id: root.accountId, user_id: member.userId, permission: "members:read" },
      { account_id: root.accountId, user_id: root.userId, permission: "account:close" },
    ];
    const authz = t.services.authz;
    // Cold (the member's addition dropped the account's entries): only the database can tell.
    const cold = authz.check(root.userId, checks);
    expect(cold).toBeInstanceOf(Promise);
    const answered = await cold;
    expect(answered).toEqual([
      { allowed: true, reason: "granted" },
      { allowed: true, reason: "granted" },
    ]);
    // Warm: the same answers at once, no promise.
    expect(authz.check(root.userId, checks)).toEqual(answered);
    // Suspending the member drops the account's entries: no stale answer from the cache.
    const suspended = await root.client.post(
      `/api/v1/accounts/${root.accountId}/members/${member.userId}/suspend`,
      {},
    );
    expect(suspended.statusCode).toBe(200);
    const afterChange = authz.check(root.userId, checks);
    expect(afterChange).toBeInstanceOf(Promise);
    await afterChange;
    expect((await root.client.post("/api/v1/authz/check", { checks })).body.results).toEqual([
      { allowed: false, reason: "suspended" },
      { allowed: true, reason: "granted" },
    ]);
    // Warm again: the same answer without waiting.
    expect(authz.check(root.userId, checks)).toEqual([
      { allowed: false, reason: "suspended" },
      { allowed: true, reason: "granted" },
    ]);
  });

  it("gives team members the union of their role and the team's role; deletes a team with reassignment", async () => {
    const root = await signUpAndLogin(t, { email: "teams@example.com" });
    const roles = Object.fromEntries(
      (
        (await root.client.get(`/api/v1/accounts/${root.accountId}/roles`)).body.data as Array<{
          key: string;
          id: string;
        }>
      ).map((r) => [r.key, r.id]),
    );
    const member = await addMember(t, root, { email: "teamer@example.com", roleKey: "monitor" });
    const base = `/api/v1/accounts/${root.accountId}/teams`;
    const devs = await root.client.post(base, {
      name: "Developers",
      description: "Builders",
      role_id: roles.developer,
    });
    expect(devs.statusCode).toBe(201);
    expect((await root.client.post(base, { name: "developers" })).statusCode).toBe(409);
    const ops = await root.client.post(base, { name: "Ops" });
    const check = { account_id: root.accountId, user_id: member.userId, permission: "resources:write" };
    expect((await root.client.post("/api/v1/authz/check", check)).body.allowed).toBe(false);

    const set = await root.client.put(`${base}/${devs.body.id}/members`, { user_ids: [member.userId] });
    expect(set.body.member_ids).toEqual([member.userId]);
    expect((await root.client.post("/api/v1/authz/check", check)).body.allowed).toBe(true);
    const listed = await root.client.get(
      `/api/v1/accounts/${root.accountId}/members?team_id=${devs.body.id}`,
    );
    expect(listed.body.data.map((m: { email: string; team_ids: string[] }) => [m.email, m.team_ids])).toEqual(
      [["teamer@example.com", [devs.body.id]]],
    );
    expect(
      (await root.client.put(`${base}/${devs.body.id}/members`, { user_ids: ["usr_stranger"] })).statusCode,
    ).toBe(400);

    const resource = await t.services.db
      .insertInto("resources")
      .values({
        id: "res_1",
        account_id: root.accountId,
        name: "Flow",
        owner_team_id: devs.body.id,
        created_by: member.userId,
        created_at: "2026-01-01T00:00:00.000Z",
        updated_at: "2026-01-01T00:00:00.000Z",
      })
      .execute();
    expect(resource).toBeDefined();
    expect((await root.client.request("DELETE", `${base}/${devs.body.id}`, {})).statusCode).toBe(400); // choices are required
    const deleted = await root.client.request("DELETE", `${base}/${devs.body.id}`, {
      reassign_members_to: ops.body.id,
      transfer_resources_to: "account",
    });
    expect(deleted.statusCode).toBe(204);
    expect((await root.client.get(`${base}/${ops.body.id}`)).body.member_ids).toEqual([member.userId]);
    const row = await t.services.db
      .selectFrom("resources")
      .select("owner_team_id")
      .where("id", "=", "res_1")
      .executeTakeFirstOrThrow();
    expect(row.owner_team_id).toBeNull();
    // The team's grant is gone with it.
    expect((await root.client.post("/api/v1/authz/check", check)).body.allowed).toBe(false);
  });

  it("lists, creates and switches accounts; log-in lands in the last used one", async () => {
    const user = await signUpAndLogin(t, { email: "multi-acct@example.com", account: "First Co" });
    const created = await user.client.post("/api/v1/accounts", { name: "Second Co" });
    expect(created.statusCode).toBe(201);
    const list = await user.client.get("/api/v1/accounts");
    expect(
      list.body.data.map((a: { name: string; current: boolean; role: { key: string } }) => [
        a.name,
        a.current,
        a.role.key,
      ]),
    ).toEqual([
      ["First Co", true, "root"],
      ["Second Co", false, "root"],
    ]);
    const switched = await user.client.post(`/api/v1/accounts/${created.body.id}/switch`);
    expect(switched.body.account_id).toBe(created.body.id);
    expect((await user.client.get("/api/v1/session")).body.account_id).toBe(created.body.id);
    const again = createClient(t.app);
    const login = await again.post("/api/v1/auth/login", {
      email: "multi-acct@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.body.account_id).toBe(created.body.id);
    const explicit = await createClient(t.app).post("/api/v1/auth/login", {
      email: "multi-acct@example.com",
      password: STRONG_PASSWORD,
      account_id: user.accountId,
    });
    expect(explicit.body.account_id).toBe(user.accountId);
    expect((await user.client.post("/api/v1/accounts/acct_unknown/switch")).statusCode).toBe(404);

    const patched = await user.client.patch(`/api/v1/accounts/${user.accountId}`, {
      name: "First Company",
      industry: "software",
      contact_email: "billing@first.example",
      tax_id: "DE123456789",
    });
    expect(patched.body).toMatchObject({
      name: "First Company",
      industry: "software",
      tax_id: "DE123456789",
    });
    expect(
      (await user.client.patch(`/api/v1/accounts/${user.accountId}`, { contact_email: "nope" })).statusCode,
    ).toBe(400);
  });
});

describe.runIf(testDialects().includes("postgres"))("authz across processes (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("postgres");
  });
  afterAll(() => t?.close());

  it("no stale allow in another process after a role change, suspension or removal", async () => {
    const other = await t.sibling();
    const root = await signUpAndLogin(t, { email: "xproc@example.com" });
    const roles = Object.fromEntries(
      (
        (await root.client.get(`/api/v1/accounts/${root.accountId}/roles`)).body.data as Array<{
          key: string;
          id: string;
        }>
      ).map((r) => [r.key, r.id]),
    );
    const member = await addMember(t, root, { email: "xproc-member@example.com", roleKey: "developer" });
    const elsewhere = createClient(other.app);
    elsewhere.cookie = root.client.cookie;
    elsewhere.csrf = root.client.csrf;
    const check = () =>
      elsewhere.post("/api/v1/authz/check", {
        account_id: root.accountId,
        user_id: member.userId,
        permission: "resources:write",
      });
    expect((await check()).body.allowed).toBe(true);
    expect((await check()).body.allowed).toBe(true); // warm in the other process

    await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
      role_id: roles.monitor,
    });
    await expect.poll(async () => (await check()).body.allowed, { timeout: 2000, interval: 5 }).toBe(false);

    await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
      role_id: roles.developer,
    });
    await expect.poll(async () => (await check()).body.allowed, { timeout: 2000, interval: 5 }).toBe(true);
    await root.client.post(`/api/v1/accounts/${root.accountId}/members/${member.userId}/suspend`);
    await expect
      .poll(async () => (await check()).body.reason, { timeout: 2000, interval: 5 })
      .toBe("suspended");
    await root.client.delete(`/api/v1/accounts/${root.accountId}/members/${member.userId}`);
    await expect
      .poll(async () => (await check()).body.reason, { timeout: 2000, interval: 5 })
      .toBe("not_member");
  });
});
