import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_ROLES, PERMISSIONS } from "../roles/permissions.js";
import {
  addMember,
  type Client,
  createApiKey,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

/**
 * Tenant isolation: A's Root, using every endpoint with account B's ids, learns nothing (404, as for an
 * account that does not exist) and changes nothing of B.
 */

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

/** The two accounts and their objects; paths name them as `{key}`. */
type Ids = {
  A: string;
  B: string;
  A_member: string;
  A_team: string;
  A_monitor_role: string;
  B_root: string;
  B_member: string;
  B_admin_role: string;
  B_monitor_role: string;
  B_custom_role: string;
  B_team: string;
  B_invitation: string;
  B_key: string;
};

type Call = {
  method: Method;
  /** Under /api/v1, with `{key}` of Ids. */
  path: string;
  body?: (ids: Ids) => unknown;
  /** Only a person may call it: an API key gets 403 `session_required` before any account is looked at. */
  personOnly?: boolean;
};

const MONITOR_PERMISSIONS = [...(BUILTIN_ROLES.find((r) => r.key === "monitor")?.permissions ?? [])];
const KEEP_TEAM = { reassign_members_to: null, transfer_resources_to: "account" };

/** Every /accounts/{B}/… endpoint (and the catalog for B), with B's own object ids where it takes one. */
const B_ENDPOINTS: Call[] = [
  { method: "GET", path: "/accounts/{B}" },
  { method: "PATCH", path: "/accounts/{B}", body: () => ({ name: "Taken over" }) },
  { method: "POST", path: "/accounts/{B}/switch", personOnly: true },
  { method: "GET", path: "/accounts/{B}/seats" },
  { method: "GET", path: "/accounts/{B}/billing" },
  {
    method: "POST",
    path: "/accounts/{B}/billing/subscription",
    body: () => ({ plan: "pro", interval: "month", preview: true }),
  },
  { method: "DELETE", path: "/accounts/{B}/billing/subscription" },
  { method: "PATCH", path: "/accounts/{B}/billing/auto-pay", body: () => ({ auto_pay: false }) },
  { method: "GET", path: "/accounts/{B}/payment-methods" },
  {
    method: "POST",
    path: "/accounts/{B}/payment-methods",
    body: () => ({ type: "card", token: "tok_visa" }),
  },
  { method: "GET", path: "/accounts/{B}/invoices" },
  { method: "GET", path: "/accounts/{B}/invoices.csv" },
  { method: "GET", path: "/accounts/{B}/security" },
  {
    method: "PATCH",
    path: "/accounts/{B}/security",
    body: () => ({ session: { idle_minutes: 5 }, password_policy: { min_length: 64 } }),
  },
  { method: "GET", path: "/accounts/{B}/members" },
  { method: "GET", path: "/accounts/{B}/members/{B_member}" },
  { method: "PATCH", path: "/accounts/{B}/members/{B_member}", body: (i) => ({ role_id: i.B_admin_role }) },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/suspend" },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/reactivate" },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/logout" },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/force-password-reset" },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/mfa/reset", personOnly: true },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/recovery-codes", personOnly: true },
  { method: "POST", path: "/accounts/{B}/members/{B_member}/recovery-codes/reveal", personOnly: true },
  { method: "DELETE", path: "/accounts/{B}/members/{B_member}" },
  { method: "POST", path: "/accounts/{B}/members/{B_root}/suspend" },
  { method: "DELETE", path: "/accounts/{B}/members/{B_root}" },
  { method: "POST", path: "/accounts/{B}/members/bulk-delete", body: (i) => ({ user_ids: [i.B_member] }) },
  { method: "GET", path: "/accounts/{B}/invitations" },
  {
    method: "POST",
    path: "/accounts/{B}/invitations",
    body: (i) => ({ emails: ["intruder@example.com"], role_id: i.B_monitor_role }),
  },
  { method: "POST", path: "/accounts/{B}/invitations/{B_invitation}/resend" },
  { method: "DELETE", path: "/accounts/{B}/invitations/{B_invitation}" },
  { method: "GET", path: "/accounts/{B}/roles" },
  { method: "GET", path: "/accounts/{B}/role-templates" },
  {
    method: "POST",
    path: "/accounts/{B}/roles",
    body: () => ({ name: "Intruder", permissions: MONITOR_PERMISSIONS }),
  },
  { method: "POST", path: "/accounts/{B}/roles", body: () => ({ template: "manager" }) },
  {
    method: "PATCH",
    path: "/accounts/{B}/roles/{B_custom_role}",
    body: () => ({ description: "Edited from A" }),
  },
  { method: "DELETE", path: "/accounts/{B}/roles/{B_custom_role}" },
  { method: "DELETE", path: "/accounts/{B}/roles/{B_custom_role}?move_to={B_monitor_role}" },
  {
    method: "POST",
    path: "/accounts/{B}/permissions",
    body: () => ({ key: "intruder:deploy", description: "Registered from A" }),
  },
  { method: "GET", path: "/permissions?account_id={B}" },
  { method: "GET", path: "/accounts/{B}/teams" },
  { method: "GET", path: "/accounts/{B}/teams/{B_team}" },
  { method: "POST", path: "/accounts/{B}/teams", body: () => ({ name: "Intruders" }) },
  {
    method: "PATCH",
    path: "/accounts/{B}/teams/{B_team}",
    body: () => ({ description: "Edited from A" }),
  },
  { method: "PUT", path: "/accounts/{B}/teams/{B_team}/members", body: () => ({ user_ids: [] }) },
  { method: "DELETE", path: "/accounts/{B}/teams/{B_team}", body: () => KEEP_TEAM },
  { method: "GET", path: "/accounts/{B}/audit-events" },
  { method: "GET", path: "/accounts/{B}/audit-events?target_id={B_member}" },
  { method: "GET", path: "/accounts/{B}/audit-events?actor_id={B_key}" },
  { method: "GET", path: "/accounts/{B}/api-keys" },
  {
    method: "POST",
    path: "/accounts/{B}/api-keys",
    body: () => ({ name: "Intruder", scopes: ["members:read"] }),
    personOnly: true,
  },
  { method: "GET", path: "/accounts/{B}/api-keys/{B_key}" },
  { method: "PATCH", path: "/accounts/{B}/api-keys/{B_key}", body: () => ({ allowed_ips: [] }) },
  { method: "POST", path: "/accounts/{B}/api-keys/{B_key}/rotate", body: () => ({ grace_seconds: 0 }) },
  { method: "GET", path: "/accounts/{B}/api-keys/{B_key}/usage" },
  { method: "GET", path: "/accounts/{B}/api-keys/{B_key}/logs" },
  { method: "DELETE", path: "/accounts/{B}/api-keys/{B_key}" },
];

/** A's own endpoints, addressed with B's object ids in the path. */
const A_PATHS_WITH_B_IDS: Call[] = [
  { method: "GET", path: "/accounts/{A}/members/{B_member}" },
  {
    method: "PATCH",
    path: "/accounts/{A}/members/{B_member}",
    body: (i) => ({ role_id: i.A_monitor_role }),
  },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/suspend" },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/reactivate" },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/logout" },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/force-password-reset" },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/mfa/reset", personOnly: true },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/recovery-codes", personOnly: true },
  { method: "POST", path: "/accounts/{A}/members/{B_member}/recovery-codes/reveal", personOnly: true },
  { method: "DELETE", path: "/accounts/{A}/members/{B_member}" },
  { method: "POST", path: "/accounts/{A}/invitations/{B_invitation}/resend" },
  { method: "DELETE", path: "/accounts/{A}/invitations/{B_invitation}" },
  {
    method: "PATCH",
    path: "/accounts/{A}/roles/{B_custom_role}",
    body: () => ({ description: "Edited from A" }),
  },
  {
    method: "PATCH",
    path: "/accounts/{A}/roles/{B_monitor_role}",
    body: () => ({ description: "Edited from A" }),
  },
  { method: "DELETE", path: "/accounts/{A}/roles/{B_custom_role}" },
  { method: "DELETE", path: "/accounts/{A}/roles/{B_custom_role}?move_to={A_monitor_role}" },
  { method: "GET", path: "/accounts/{A}/teams/{B_team}" },
  {
    method: "PATCH",
    path: "/accounts/{A}/teams/{B_team}",
    body: () => ({ description: "Edited from A" }),
  },
  { method: "PUT", path: "/accounts/{A}/teams/{B_team}/members", body: () => ({ user_ids: [] }) },
  { method: "DELETE", path: "/accounts/{A}/teams/{B_team}", body: () => KEEP_TEAM },
  { method: "GET", path: "/accounts/{A}/api-keys/{B_key}" },
  { method: "PATCH", path: "/accounts/{A}/api-keys/{B_key}", body: () => ({ allowed_ips: [] }) },
  { method: "POST", path: "/accounts/{A}/api-keys/{B_key}/rotate", body: () => ({ grace_seconds: 0 }) },
  { method: "GET", path: "/accounts/{A}/api-keys/{B_key}/usage" },
  { method: "GET", path: "/accounts/{A}/api-keys/{B_key}/logs" },
  { method: "DELETE", path: "/accounts/{A}/api-keys/{B_key}" },
];

/**
 * A's own objects, pointed at B's in the body. The contract names no code for a foreign id in a body
 * (the implementation answers 400 `validation_failed`, as for any unknown id, or 409 for bulk delete);
 * 404 would do as well. What matters is the refusal, and that B is untouched.
 */
const A_BODIES_WITH_B_IDS: Call[] = [
  { method: "PATCH", path: "/accounts/{A}/members/{A_member}", body: (i) => ({ role_id: i.B_admin_role }) },
  { method: "POST", path: "/accounts/{A}/members/bulk-delete", body: (i) => ({ user_ids: [i.B_member] }) },
  {
    method: "POST",
    path: "/accounts/{A}/invitations",
    body: (i) => ({ emails: ["role-from-b@example.com"], role_id: i.B_monitor_role }),
  },
  {
    method: "POST",
    path: "/accounts/{A}/invitations",
    body: (i) => ({ emails: ["team-from-b@example.com"], team_ids: [i.B_team] }),
  },
  {
    method: "POST",
    path: "/accounts/{A}/teams",
    body: (i) => ({ name: "Borrowed", role_id: i.B_custom_role }),
  },
  { method: "PATCH", path: "/accounts/{A}/teams/{A_team}", body: (i) => ({ role_id: i.B_custom_role }) },
  { method: "PUT", path: "/accounts/{A}/teams/{A_team}/members", body: (i) => ({ user_ids: [i.B_member] }) },
  {
    method: "DELETE",
    path: "/accounts/{A}/teams/{A_team}",
    body: (i) => ({ reassign_members_to: i.B_team, transfer_resources_to: "account" }),
  },
  {
    method: "DELETE",
    path: "/accounts/{A}/teams/{A_team}",
    body: (i) => ({ reassign_members_to: null, transfer_resources_to: i.B_team }),
  },
  { method: "PATCH", path: "/accounts/{A}", body: (i) => ({ default_role_id: i.B_monitor_role }) },
];

const PLACEHOLDERS = new Proxy({} as Ids, { get: (_, key) => `{${String(key)}}` });
/** The call as a test name: ids stay `{placeholders}`, in the body too. */
const nameOf = (c: Call) =>
  `${c.method} ${c.path}${c.body ? ` ${JSON.stringify(c.body(PLACEHOLDERS))}` : ""}`;

function fill(path: string, ids: Ids): string {
  return path.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = ids[key as keyof Ids];
    if (!value) throw new Error(`no id for {${key}}`);
    return value;
  });
}

/**
 * A request with the caller's session, or with an API key's secret (no cookie, no CSRF token); unlike
 * the harness client it can send a body with DELETE.
 */
async function send(t: TestApp, caller: Client | string, method: Method, url: string, body?: unknown) {
  const credentials =
    typeof caller === "string"
      ? { authorization: `Bearer ${caller}` }
      : {
          cookie: `gatehouse_session=${caller.cookie}`,
          ...(method === "GET" ? {} : { "x-csrf-token": caller.csrf ?? "" }),
        };
  const response = await t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: {
      ...credentials,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely, as the harness client does
  const json: Record<string, any> = response.headers["content-type"]?.toString().includes("json")
    ? response.json()
    : {};
  return { status: response.statusCode, payload: response.payload, body: json };
}

describe.each(testDialects())("tenant isolation on %s", (dialect) => {
  let t: TestApp;
  let aRoot: Client;
  /** An API key of A's Root holding every permission. */
  let aKey: string;
  let ids: Ids;
  let before: Awaited<ReturnType<typeof snapshotOfB>>;
  let aTeamBefore: unknown;

  /** Everything of account B (and of B's people) that a call through A could change. */
  async function snapshotOfB() {
    const db = t.services.db;
    const people = [ids.B_root, ids.B_member];
    return {
      account: await db.selectFrom("accounts").selectAll().where("id", "=", ids.B).execute(),
      memberships: await db
        .selectFrom("memberships")
        .selectAll()
        .where("account_id", "=", ids.B)
        .orderBy("id")
        .execute(),
      roles: await db.selectFrom("roles").selectAll().where("account_id", "=", ids.B).orderBy("id").execute(),
      permissions: await db
        .selectFrom("account_permissions")
        .selectAll()
        .where("account_id", "=", ids.B)
        .orderBy("key")
        .execute(),
      teams: await db.selectFrom("teams").selectAll().where("account_id", "=", ids.B).orderBy("id").execute(),
      teamMembers: await db
        .selectFrom("team_members")
        .selectAll()
        .where("account_id", "=", ids.B)
        .orderBy("team_id")
        .orderBy("user_id")
        .execute(),
      invitations: await db
        .selectFrom("invitations")
        .selectAll()
        .where("account_id", "=", ids.B)
        .orderBy("id")
        .execute(),
      auditEvents: await db
        .selectFrom("audit_events")
        .select(["id", "action"])
        .where("account_id", "=", ids.B)
        .orderBy("seq")
        .execute(),
      // B's people: a logout, forced reset or removal through A would show here.
      users: await db
        .selectFrom("users")
        .select(["id", "must_change_password", "last_account_id", "updated_at"])
        .where("id", "in", people)
        .orderBy("id")
        .execute(),
      sessions: await db
        .selectFrom("sessions")
        .select(["id", "account_id", "revoked_at"])
        .where("user_id", "in", people)
        .orderBy("id")
        .execute(),
      apiKeys: await db
        .selectFrom("api_keys")
        .selectAll()
        .where("account_id", "=", ids.B)
        .orderBy("id")
        .execute(),
    };
  }

  beforeAll(async () => {
    // One key calls every endpoint here, more than Free's 60 requests a minute: the rate limit is
    // tested in src/api-keys/rate-limit.test.ts, not here.
    t = await createTestApp(dialect, { BILLING_PLANS: '{"free":{"api_rate_per_minute":100000}}' });
    const a = await signUpAndLogin(t, { email: "a-root@example.com", account: "Tenant A" });
    const b = await signUpAndLogin(t, { email: "b-root@example.com", account: "Tenant B" });
    aRoot = a.client;
    const rolesOf = async (client: Client, accountId: string) =>
      Object.fromEntries(
        (
          (await client.get(`/api/v1/accounts/${accountId}/roles`)).body.data as Array<{
            key: string;
            id: string;
          }>
        ).map((r) => [r.key, r.id]),
      ) as Record<string, string>;
    const checked = <T extends { statusCode: number; payload: string }>(response: T) => {
      if (response.statusCode >= 400) throw new Error(`setup failed: ${response.payload}`);
      return response;
    };
    const aMember = await addMember(t, a, { email: "a-member@example.com" });
    const aTeam = checked(await a.client.post(`/api/v1/accounts/${a.accountId}/teams`, { name: "A Team" }));
    const bMember = await addMember(t, b, { email: "b-member@example.com" });
    const bBase = `/api/v1/accounts/${b.accountId}`;
    const bRoles = await rolesOf(b.client, b.accountId);
    const bRole = checked(
      await b.client.post(`${bBase}/roles`, { name: "B Custom", permissions: MONITOR_PERMISSIONS }),
    );
    const bTeam = checked(await b.client.post(`${bBase}/teams`, { name: "B Team", role_id: bRole.body.id }));
    checked(await b.client.put(`${bBase}/teams/${bTeam.body.id}/members`, { user_ids: [bMember.userId] }));
    checked(
      await b.client.post(`${bBase}/permissions`, { key: "flows:deploy", description: "Deploy flows" }),
    );
    const bInvitation = checked(
      await b.client.post(`${bBase}/invitations`, {
        emails: ["b-pending@example.com"],
        role_id: bRoles.monitor,
        team_ids: [bTeam.body.id],
      }),
    );
    const bKey = await createApiKey(b, ["members:read", "api_keys:manage"]);
    aKey = (await createApiKey(a, Object.keys(PERMISSIONS))).secret;
    ids = {
      A: a.accountId,
      B: b.accountId,
      A_member: aMember.userId,
      A_team: aTeam.body.id,
      A_monitor_role: (await rolesOf(a.client, a.accountId)).monitor as string,
      B_root: b.userId,
      B_member: bMember.userId,
      B_admin_role: bRoles.admin as string,
      B_monitor_role: bRoles.monitor as string,
      B_custom_role: bRole.body.id,
      B_team: bTeam.body.id,
      B_invitation: bInvitation.body.data[0].invitation.id,
      B_key: bKey.id,
    };
    // Past the resend interval: a resend that slipped through would succeed, not be rate-limited.
    t.services.clock.advance(61);
    before = await snapshotOfB();
    aTeamBefore = (await a.client.get(`/api/v1/accounts/${ids.A}/teams/${ids.A_team}`)).body;
  });
  afterAll(() => t?.close());

  describe("A's Root on every /accounts/{B}/… endpoint gets 404 not_found", () => {
    it.each(B_ENDPOINTS.map((c) => [nameOf(c), c] as const))("%s", async (_name, c) => {
      const response = await send(t, aRoot, c.method, fill(c.path, ids), c.body?.(ids));
      expect(response.status, response.payload).toBe(404);
      expect(response.body.code).toBe("not_found");
    });
  });

  describe("A's Root on A's paths with B's object ids gets 404 not_found", () => {
    it.each(A_PATHS_WITH_B_IDS.map((c) => [nameOf(c), c] as const))("%s", async (_name, c) => {
      const response = await send(t, aRoot, c.method, fill(c.path, ids), c.body?.(ids));
      expect(response.status, response.payload).toBe(404);
      expect(response.body.code).toBe("not_found");
    });
  });

  describe("A's API key (every scope) on every /accounts/{B}/… endpoint gets 404 not_found", () => {
    it.each(B_ENDPOINTS.map((c) => [nameOf(c), c] as const))("%s", async (_name, c) => {
      const response = await send(t, aKey, c.method, fill(c.path, ids), c.body?.(ids));
      const expected = c.personOnly ? [403, "session_required"] : [404, "not_found"];
      expect([response.status, response.body.code], response.payload).toEqual(expected);
    });
  });

  describe("A's API key on A's paths with B's object ids gets 404 not_found", () => {
    it.each(A_PATHS_WITH_B_IDS.map((c) => [nameOf(c), c] as const))("%s", async (_name, c) => {
      const response = await send(t, aKey, c.method, fill(c.path, ids), c.body?.(ids));
      const expected = c.personOnly ? [403, "session_required"] : [404, "not_found"];
      expect([response.status, response.body.code], response.payload).toEqual(expected);
    });
  });

  describe("A's API key cannot point A's objects at B's", () => {
    it.each(A_BODIES_WITH_B_IDS.map((c) => [nameOf(c), c] as const))("%s is refused", async (_name, c) => {
      const response = await send(t, aKey, c.method, fill(c.path, ids), c.body?.(ids));
      expect([400, 404, 409], response.payload).toContain(response.status);
    });
  });

  describe("A's Root cannot point A's objects at B's", () => {
    it.each(A_BODIES_WITH_B_IDS.map((c) => [nameOf(c), c] as const))("%s is refused", async (_name, c) => {
      const response = await send(t, aRoot, c.method, fill(c.path, ids), c.body?.(ids));
      expect([400, 404, 409], response.payload).toContain(response.status);
    });

    it("A's team, member and account still reference only A", async () => {
      const team = await send(t, aRoot, "GET", `/accounts/${ids.A}/teams/${ids.A_team}`);
      expect(team.body).toEqual(aTeamBefore);
      const member = await send(t, aRoot, "GET", `/accounts/${ids.A}/members/${ids.A_member}`);
      expect(member.body.role.id).toBe(ids.A_monitor_role);
      const account = await send(t, aRoot, "GET", `/accounts/${ids.A}`);
      expect(account.body.default_role_id).not.toBe(ids.B_monitor_role);
    });
  });

  describe("A's Root sees nothing of B through A's lists and filters", () => {
    it("GET /accounts lists A only", async () => {
      const accounts = await send(t, aRoot, "GET", "/accounts");
      expect(accounts.body.data.map((a: { id: string }) => a.id)).toEqual([ids.A]);
    });

    it("A's members filtered by B's role or team are empty, and list nobody of B", async () => {
      for (const query of [`role_id=${ids.B_monitor_role}`, `team_id=${ids.B_team}`, "q=b-"]) {
        const list = await send(t, aRoot, "GET", `/accounts/${ids.A}/members?${query}`);
        expect(list.status, list.payload).toBe(200);
        expect(list.body.data, query).toEqual([]);
      }
      const all = await send(t, aRoot, "GET", `/accounts/${ids.A}/members`);
      const userIds = all.body.data.map((m: { user_id: string | null }) => m.user_id);
      expect(userIds).not.toContain(ids.B_member);
      expect(userIds).not.toContain(ids.B_root);
    });

    it("A's audit log filtered by B's people has no events", async () => {
      for (const query of [`actor_id=${ids.B_root}`, `target_id=${ids.B_member}`]) {
        const events = await send(t, aRoot, "GET", `/accounts/${ids.A}/audit-events?${query}`);
        expect(events.status, events.payload).toBe(200);
        expect(events.body.data, query).toEqual([]);
      }
    });

    it("POST /authz/check about B's member says not_member, alone and in a batch", async () => {
      const one = await send(t, aRoot, "POST", "/authz/check", {
        account_id: ids.B,
        user_id: ids.B_member,
        permission: "members:read",
      });
      expect(one.body).toEqual({ allowed: false, reason: "not_member" });
      const batch = await send(t, aRoot, "POST", "/authz/check", {
        checks: [
          { account_id: ids.B, user_id: ids.B_root, permission: "account:read" },
          { account_id: ids.A, user_id: ids.B_member, permission: "account:read" },
        ],
      });
      expect(batch.body).toEqual({
        results: [
          { allowed: false, reason: "not_member" },
          { allowed: false, reason: "not_member" },
        ],
      });
    });
  });

  it("changes nothing of B", async () => {
    expect(await snapshotOfB()).toEqual(before);
  });
});
