import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

type Result = {
  user_id: string;
  member?: { role: { key: string } };
  error?: { code: string; detail: string };
};

describe.each(testDialects())("bulk role change on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  /** A Root owner on a plan with room, and the account's role ids by key. */
  async function account(name: string) {
    const owner = await signUpAndLogin(t, { email: `owner-${unique()}@example.com`, account: name });
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    const roles = Object.fromEntries(
      (
        (await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`)).body.data as Array<{
          key: string;
          id: string;
        }>
      ).map((r) => [r.key, r.id]),
    ) as Record<string, string>;
    const add = (roleKey: string) =>
      addMember(t, owner, { email: `${roleKey}-${unique()}@example.com`, roleKey, firstName: roleKey });
    return { ...owner, roles, add, base: `/api/v1/accounts/${owner.accountId}` };
  }

  const bulk = (client: Client, base: string, user_ids: string[], role_id: string) =>
    client.post(`${base}/members/bulk-role`, { user_ids, role_id });

  const byUser = (data: Result[]) => Object.fromEntries(data.map((r) => [r.user_id, r]));

  it("changes each member as PATCH would: one audit event and one member.role_changed each, refusals per member", async () => {
    const a = await account("Bulk Co");
    const m1 = await a.add("monitor");
    const m2 = await a.add("monitor");
    const dev = await a.add("developer");
    const other = await account("Elsewhere");
    const stranger = await other.add("monitor");

    const response = await bulk(
      a.client,
      a.base,
      [m1.userId, m2.userId, m1.userId, dev.userId, "usr_doesnotexist", stranger.userId],
      a.roles.developer as string,
    );
    expect(response.statusCode, response.payload).toBe(200);
    const data = response.body.data as Result[];
    // Duplicates are answered once, in the order first given.
    expect(data.map((r) => r.user_id)).toEqual([
      m1.userId,
      m2.userId,
      dev.userId,
      "usr_doesnotexist",
      stranger.userId,
    ]);
    const results = byUser(data);
    expect(results[m1.userId]?.member?.role.key).toBe("developer");
    expect(results[m2.userId]?.member?.role.key).toBe("developer");
    // Already a Developer: answered with the member, nothing changed.
    expect(results[dev.userId]).toMatchObject({ member: { role: { key: "developer" } } });
    expect(results[dev.userId]?.error).toBeUndefined();
    // Unknown, and a member of another account: the same not_found (nothing about the other account).
    expect(results.usr_doesnotexist?.error?.code).toBe("not_found");
    expect(results[stranger.userId]?.error?.code).toBe("not_found");
    expect(results[stranger.userId]?.error?.detail).toBe(results.usr_doesnotexist?.error?.detail);
    expect(
      (await other.client.get(`${other.base}/members/${stranger.userId}`)).body.role.key,
      "the other account's member is untouched",
    ).toBe("monitor");

    const audit = await t.services.db
      .selectFrom("audit_events")
      .select(["action", "target_id", "changes"])
      .where("account_id", "=", a.accountId)
      .where("action", "=", "member.role_changed")
      .execute();
    expect(audit.map((e) => e.target_id).sort()).toEqual([m1.userId, m2.userId].sort());
    const events = await t.services.db
      .selectFrom("events")
      .select(["type", "data"])
      .where("account_id", "=", a.accountId)
      .where("type", "=", "member.role_changed")
      .execute();
    expect(events.map((e) => (JSON.parse(e.data) as { user_id: string }).user_id).sort()).toEqual(
      [m1.userId, m2.userId].sort(),
    );
    expect(JSON.parse(events[0]?.data ?? "{}")).toMatchObject({
      role: { key: "developer" },
      previous_role: { key: "monitor" },
    });

    // What they may do changed at once (the access cache heard the change).
    const check = await a.client.post("/api/v1/authz/check", {
      account_id: a.accountId,
      user_id: m1.userId,
      permission: "resources:write",
    });
    expect(check.body).toEqual({ allowed: true, reason: "granted" });
  });

  it("refuses per member exactly what PATCH refuses: Root targets and the Root role for an Admin, your own role, roles beyond yours", async () => {
    const a = await account("Escalation Co");
    const admin = await a.add("admin");
    const root2 = await a.add("root");
    const monitor = await a.add("monitor");
    const closer = await a.client.post(`${a.base}/roles`, {
      name: "Closer",
      permissions: ["account:read", "account:close"],
    });
    expect(closer.statusCode, closer.payload).toBe(201);

    const patch = (userId: string, roleId: string) =>
      admin.client.patch(`${a.base}/members/${userId}`, { role_id: roleId });
    const cases: Array<[string, string, string]> = [
      // [target, role, expected code]
      [root2.userId, a.roles.developer as string, "root_only"],
      [monitor.userId, a.roles.root as string, "root_only"],
      // An Admin raising themselves: never your own membership here.
      [admin.userId, a.roles.root as string, "self_change"],
      [admin.userId, a.roles.developer as string, "self_change"],
      [monitor.userId, closer.body.id as string, "privilege_escalation"],
    ];
    for (const [target, role, code] of cases) {
      const response = await bulk(admin.client, a.base, [target], role);
      expect(response.statusCode, response.payload).toBe(200);
      const [result] = response.body.data as Result[];
      expect(result?.error?.code, `${target} → ${role}`).toBe(code);
      const single = await patch(target, role);
      expect(single.body.code, "PATCH answers the same").toBe(code);
    }

    // One refused and one allowed in one request: the allowed one is kept.
    const mixed = await bulk(
      admin.client,
      a.base,
      [root2.userId, monitor.userId],
      a.roles.developer as string,
    );
    const results = byUser(mixed.body.data as Result[]);
    expect(results[root2.userId]?.error?.code).toBe("root_only");
    expect(results[monitor.userId]?.member?.role.key).toBe("developer");
    const members = (await a.client.get(`${a.base}/members`)).body.data as Array<{
      user_id: string;
      role: { key: string };
    }>;
    const roleOf = (id: string) => members.find((m) => m.user_id === id)?.role.key;
    expect([roleOf(root2.userId), roleOf(monitor.userId), roleOf(admin.userId)]).toEqual([
      "root",
      "developer",
      "admin",
    ]);
  });

  it("keeps the last active Root, also when the request itself demotes the others", async () => {
    const a = await account("Last Root Co");
    const root2 = await a.add("root");
    // Root through a team only: may act on Roots, but is not counted as a Root member.
    const admin = await a.add("admin");
    const owners = await a.client.post(`${a.base}/teams`, { name: "Owners", role_id: a.roles.root });
    expect(owners.statusCode, owners.payload).toBe(201);
    const put = await a.client.put(`${a.base}/teams/${owners.body.id}/members`, { user_ids: [admin.userId] });
    expect(put.statusCode, put.payload).toBe(200);

    const response = await bulk(admin.client, a.base, [a.userId, root2.userId], a.roles.developer as string);
    expect(response.statusCode, response.payload).toBe(200);
    const results = byUser(response.body.data as Result[]);
    expect(results[a.userId]?.member?.role.key).toBe("developer");
    expect(results[root2.userId]?.error?.code).toBe("last_root");
    const audit = await t.services.db
      .selectFrom("audit_events")
      .select("target_id")
      .where("account_id", "=", a.accountId)
      .where("action", "=", "member.role_changed")
      .execute();
    expect(audit.map((e) => e.target_id)).toEqual([a.userId]);
  });

  it("checks the request as a whole: ids 1..200, a known role, the permission, the account", async () => {
    const a = await account("Limits Co");
    const monitor = await a.add("monitor");
    const developer = a.roles.developer as string;
    const tooMany = Array.from({ length: 201 }, (_, i) => `usr_${i}`);
    expect((await bulk(a.client, a.base, tooMany, developer)).statusCode).toBe(400);
    expect((await bulk(a.client, a.base, [], developer)).statusCode).toBe(400);
    const exactly = await bulk(a.client, a.base, tooMany.slice(0, 200), developer);
    expect(exactly.statusCode).toBe(200);
    expect(exactly.body.data).toHaveLength(200);
    const unknownRole = await bulk(a.client, a.base, [monitor.userId], "role_nope");
    expect(unknownRole.statusCode).toBe(400);
    expect(unknownRole.body.code).toBe("validation_failed");
    const extra = await a.client.post(`${a.base}/members/bulk-role`, {
      user_ids: [monitor.userId],
      role_id: developer,
      force: true,
    });
    expect(extra.statusCode).toBe(400);

    // Another account's Root: the account does not exist for them.
    const other = await account("Other Limits Co");
    const foreign = await bulk(other.client, a.base, [monitor.userId], developer);
    expect(foreign.statusCode).toBe(404);
    expect((await bulk(a.client, `/api/v1/accounts/acct_nope`, [monitor.userId], developer)).statusCode).toBe(
      404,
    );
    expect((await a.client.get(`${a.base}/members/${monitor.userId}`)).body.role.key).toBe("monitor");
  });

  it("authorization matrix: members:update_role (Root, Admin, a key with the scope)", async () => {
    const a = await account("Matrix Co");
    const actors: Record<string, Client> = { root: a.client };
    for (const key of ["admin", "developer", "monitor", "billing"]) actors[key] = (await a.add(key)).client;
    const expected: Record<string, boolean> = {
      root: true,
      admin: true,
      developer: false,
      monitor: false,
      billing: false,
    };
    for (const [role, client] of Object.entries(actors)) {
      const target = await a.add("monitor");
      const response = await bulk(client, a.base, [target.userId], a.roles.developer as string);
      if (expected[role]) {
        expect(response.statusCode, `${role}: ${response.payload}`).toBe(200);
        expect((response.body.data as Result[])[0]?.member?.role.key).toBe("developer");
      } else {
        expect(response.statusCode, role).toBe(403);
        expect(response.body.code).toBe("forbidden");
      }
    }
    await a.client.post("/api/v1/auth/reauth", { password: a.password });
    const developerPermissions = [
      "account:read",
      "members:read",
      "teams:read",
      "roles:read",
      "resources:read",
      "resources:write",
      "api_keys:manage",
      "webhooks:manage",
    ];
    const withScope = createKeyClient(
      t.app,
      (
        await createApiKey({ client: a.client, accountId: a.accountId }, [
          ...developerPermissions,
          "members:update_role",
        ])
      ).secret,
    );
    // The grant rule binds a key by its scopes: it cannot give a role bigger than them.
    const narrow = createKeyClient(
      t.app,
      (
        await createApiKey({ client: a.client, accountId: a.accountId }, [
          "members:read",
          "members:update_role",
        ])
      ).secret,
    );
    const without = createKeyClient(
      t.app,
      (await createApiKey({ client: a.client, accountId: a.accountId }, developerPermissions)).secret,
    );
    const target = await a.add("monitor");
    const refused = await without.post(`${a.base}/members/bulk-role`, {
      user_ids: [target.userId],
      role_id: a.roles.developer,
    });
    expect(refused.statusCode).toBe(403);
    const escalating = await narrow.post(`${a.base}/members/bulk-role`, {
      user_ids: [target.userId],
      role_id: a.roles.developer,
    });
    expect(escalating.statusCode).toBe(200);
    expect((escalating.body.data as Result[])[0]?.error?.code).toBe("privilege_escalation");
    const allowed = await withScope.post(`${a.base}/members/bulk-role`, {
      user_ids: [target.userId],
      role_id: a.roles.developer,
    });
    expect(allowed.statusCode, allowed.payload).toBe(200);
    expect((allowed.body.data as Result[])[0]?.member?.role.key).toBe("developer");
  });
});
