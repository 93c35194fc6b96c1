import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { imageUpload, pngImage } from "../testing/images.js";
import { BUILTIN_ROLES, PERMISSIONS, type Permission } from "./permissions.js";

/**
 * Every member/role/team/invitation/account/API-key endpoint × every built-in role: allowed exactly
 * when the role's entry in BUILTIN_ROLES holds the permission docs/api-accounts.md names for the
 * endpoint. And the same endpoints with an API key of Root's: allowed with every scope, 403 `forbidden`
 * with every scope but the endpoint's (or 403 `session_required` where only a person may act).
 */

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
type Actor = { client: Client; userId: string };
/** The two API-key callers: every permission as a scope, and every permission but the row's. */
const KEY_CALLERS = ["key_all", "key_without"] as const;
type Caller = string;

type Setup = {
  t: TestApp;
  accountId: string;
  /** One logged-in member per built-in role key (Root is the account's creator). */
  actors: Record<string, Actor>;
  roleIds: Record<string, string>;
  /** A monitor nobody changes: the target of reads. */
  bystanderId: string;
  /** Shared, role-less (so editing it grants nobody anything) and never deleted. */
  teamId: string;
  /** Shared custom role with Monitor's permissions, held by nobody and never deleted. */
  customRoleId: string;
  /** A new member (Monitor unless said otherwise), invited and accepted through the API by Root. */
  spareMember(roleKey?: string): Promise<string>;
  /** Root calls an endpoint of the account and insists on success. */
  asRoot(method: Method, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** A new API key (id) made by the member with this role, or by Root for key callers and roles that cannot. */
  keyFor(caller: Caller): Promise<string>;
  /** Confirms the member's password, so actions needing a fresh authentication are not refused for that. */
  reauth(caller: Caller): Promise<void>;
};

type Params = Record<string, string>;

type Row = {
  method: Method;
  /** Under /api/v1/accounts/{account_id}; `{name}` segments are filled from `arrange`. */
  path: string;
  permission: Permission;
  /** Targets for the call, created fresh by Root where the call would consume or change them. */
  arrange?: (s: Setup, role: Caller) => Promise<Params>;
  body?: (s: Setup, role: Caller, params: Params) => unknown;
  /** Only a person may call it: API keys get 403 `session_required` whatever their scopes. */
  sessionOnly?: boolean;
  /** A multipart body instead of JSON (uploads). */
  upload?: () => Promise<Upload>;
};

type Upload = { payload: Buffer; headers: Record<string, string> };

const ROLE_KEYS = BUILTIN_ROLES.map((r) => r.key);
const GRANTS = new Map(BUILTIN_ROLES.map((r) => [r.key, new Set<string>(r.permissions)]));
const MONITOR_PERMISSIONS = [...(BUILTIN_ROLES.find((r) => r.key === "monitor")?.permissions ?? [])];

/** Names that no other row or run in this process has used. */
let serial = 0;
const unique = () => String(++serial);

const spare = (roleKey?: string) => async (s: Setup) => ({ user_id: await s.spareMember(roleKey) });

async function freshInvitation(s: Setup, role: string): Promise<string> {
  const sent = await s.asRoot("POST", "/invitations", {
    emails: [`invitee-${role}-${unique()}@example.com`],
    role_id: s.roleIds.monitor,
  });
  return (sent.data as Array<{ invitation: { id: string } }>)[0]?.invitation.id as string;
}

async function freshRole(s: Setup, role: string): Promise<string> {
  const created = await s.asRoot("POST", "/roles", {
    name: `Doomed ${role} ${unique()}`,
    permissions: MONITOR_PERMISSIONS,
  });
  return created.id as string;
}

async function freshTeam(s: Setup, role: string): Promise<string> {
  const created = await s.asRoot("POST", "/teams", {
    name: `Doomed ${role} ${unique()}`,
  });
  return created.id as string;
}

async function freshDomain(s: Setup, role: string): Promise<string> {
  const created = await s.asRoot("POST", "/domains", {
    hostname: `d${unique()}-${role.replace("_", "-")}.matrix.example`,
  });
  return created.id as string;
}

/** One domain per account that the read rows share (an account holds at most 20). */
const sharedDomains = new Map<string, Promise<string>>();

const ROWS: Row[] = [
  // Members
  { method: "GET", path: "/members", permission: "members:read" },
  {
    method: "GET",
    path: "/members/{user_id}",
    permission: "members:read",
    arrange: async (s) => ({ user_id: s.bystanderId }),
  },
  {
    method: "PATCH",
    path: "/members/{user_id}",
    permission: "members:update_role",
    // A Developer becomes a Monitor: a real change, granting only what every managing role holds.
    arrange: spare("developer"),
    body: (s) => ({ role_id: s.roleIds.monitor }),
  },
  {
    method: "POST",
    path: "/members/bulk-role",
    permission: "members:update_role",
    arrange: spare("developer"),
    body: (s, _role, params) => ({ user_ids: [params.user_id], role_id: s.roleIds.monitor }),
  },
  { method: "GET", path: "/overview", permission: "members:read" },
  { method: "POST", path: "/members/{user_id}/suspend", permission: "members:suspend", arrange: spare() },
  {
    method: "POST",
    path: "/members/{user_id}/reactivate",
    permission: "members:suspend",
    arrange: async (s) => {
      const userId = await s.spareMember();
      await s.asRoot("POST", `/members/${userId}/suspend`);
      return { user_id: userId };
    },
  },
  { method: "POST", path: "/members/{user_id}/logout", permission: "members:suspend", arrange: spare() },
  {
    method: "POST",
    path: "/members/{user_id}/force-password-reset",
    permission: "members:suspend",
    arrange: spare(),
  },
  { method: "DELETE", path: "/members/{user_id}", permission: "members:delete", arrange: spare() },
  {
    method: "POST",
    path: "/members/bulk-delete",
    permission: "members:delete",
    arrange: spare(),
    body: (_s, _role, params) => ({ user_ids: [params.user_id] }),
  },
  { method: "GET", path: "/seats", permission: "members:read" },
  // Invitations
  { method: "GET", path: "/invitations", permission: "members:read" },
  {
    method: "POST",
    path: "/invitations",
    permission: "members:invite",
    body: (s, role) => ({ emails: [`new-${role}@example.com`], role_id: s.roleIds.monitor }),
  },
  {
    method: "POST",
    path: "/invitations/{invitation_id}/resend",
    permission: "members:invite",
    arrange: async (s, role) => {
      const id = await freshInvitation(s, role);
      // Past the one-resend-a-minute limit, so an allowed resend succeeds (afterEach resets the clock).
      s.t.services.clock.advance(61);
      return { invitation_id: id };
    },
  },
  {
    method: "DELETE",
    path: "/invitations/{invitation_id}",
    permission: "members:invite",
    arrange: async (s, role) => ({ invitation_id: await freshInvitation(s, role) }),
  },
  // Roles and permissions
  { method: "GET", path: "/roles", permission: "roles:read" },
  { method: "GET", path: "/role-templates", permission: "roles:read" },
  {
    method: "POST",
    path: "/roles",
    permission: "roles:manage",
    body: (_s, role) => ({ name: `Made by ${role}`, permissions: MONITOR_PERMISSIONS }),
  },
  {
    method: "PATCH",
    path: "/roles/{role_id}",
    permission: "roles:manage",
    arrange: async (s) => ({ role_id: s.customRoleId }),
    body: (_s, role) => ({ description: `Edited by ${role}` }),
  },
  {
    method: "DELETE",
    path: "/roles/{role_id}",
    permission: "roles:manage",
    arrange: async (s, role) => ({ role_id: await freshRole(s, role) }),
  },
  {
    method: "POST",
    path: "/permissions",
    permission: "roles:manage",
    body: (_s, role) => ({ key: `matrix_${role}:deploy`, description: `Registered by ${role}` }),
  },
  // Teams
  { method: "GET", path: "/teams", permission: "teams:read" },
  {
    method: "GET",
    path: "/teams/{team_id}",
    permission: "teams:read",
    arrange: async (s) => ({ team_id: s.teamId }),
  },
  {
    method: "POST",
    path: "/teams",
    permission: "teams:manage",
    body: (_s, role) => ({ name: `Team of ${role}` }),
  },
  {
    method: "PATCH",
    path: "/teams/{team_id}",
    permission: "teams:manage",
    arrange: async (s) => ({ team_id: s.teamId }),
    body: (_s, role) => ({ description: `Edited by ${role}` }),
  },
  {
    method: "PUT",
    path: "/teams/{team_id}/members",
    permission: "teams:manage",
    arrange: async (s) => ({ team_id: s.teamId }),
    body: (s) => ({ user_ids: [s.bystanderId] }),
  },
  {
    method: "DELETE",
    path: "/teams/{team_id}",
    permission: "teams:manage",
    arrange: async (s, role) => ({ team_id: await freshTeam(s, role) }),
    body: () => ({ reassign_members_to: null, transfer_resources_to: "account" }),
  },
  // Account, security, audit
  { method: "GET", path: "", permission: "account:read" },
  {
    method: "PUT",
    path: "/logo",
    permission: "account:update",
    upload: async () => imageUpload(await pngImage(40, 40)),
  },
  { method: "DELETE", path: "/logo", permission: "account:update" },
  {
    method: "PATCH",
    path: "",
    permission: "account:update",
    body: (_s, role) => ({ legal_name: `Set by ${role}` }),
  },
  { method: "GET", path: "/security", permission: "security:read" },
  {
    method: "PATCH",
    path: "/security",
    permission: "security:manage",
    // The default value: an allowed call changes nothing the other rows' sessions depend on.
    body: () => ({ session: { idle_minutes: 30 } }),
  },
  { method: "GET", path: "/audit-events", permission: "audit:read" },
  // Custom domains (verification looks up DNS: its permission is tested in src/domains)
  { method: "GET", path: "/domains", permission: "account:read" },
  {
    method: "GET",
    path: "/domains/{domain_id}",
    permission: "account:read",
    arrange: async (s) => {
      const shared = sharedDomains.get(s.accountId) ?? freshDomain(s, "shared");
      sharedDomains.set(s.accountId, shared);
      return { domain_id: await shared };
    },
  },
  {
    method: "POST",
    path: "/domains",
    permission: "account:update",
    body: (_s, role) => ({ hostname: `made-by-${role.replace("_", "-")}-${unique()}.matrix.example` }),
  },
  {
    method: "DELETE",
    path: "/domains/{domain_id}",
    permission: "account:update",
    arrange: async (s, role) => ({ domain_id: await freshDomain(s, role) }),
  },
  // API keys (PATCH and rotate: the caller's own key, the creator-only rule is tested in src/api-keys)
  { method: "GET", path: "/api-keys", permission: "api_keys:manage" },
  {
    method: "GET",
    path: "/api-keys/{key_id}",
    permission: "api_keys:manage",
    arrange: async (s) => ({ key_id: await s.keyFor("root") }),
  },
  {
    method: "GET",
    path: "/api-keys/{key_id}/usage",
    permission: "api_keys:manage",
    arrange: async (s) => ({ key_id: await s.keyFor("root") }),
  },
  {
    method: "GET",
    path: "/api-keys/{key_id}/logs",
    permission: "api_keys:manage",
    arrange: async (s) => ({ key_id: await s.keyFor("root") }),
  },
  {
    method: "POST",
    path: "/api-keys",
    permission: "api_keys:manage",
    sessionOnly: true,
    arrange: async (s, role) => {
      await s.reauth(role);
      return {};
    },
    body: (_s, role) => ({ name: `Made by ${role}`, scopes: ["account:read"] }),
  },
  {
    method: "PATCH",
    path: "/api-keys/{key_id}",
    permission: "api_keys:manage",
    arrange: async (s, role) => ({ key_id: await s.keyFor(role) }),
    body: (_s, role) => ({ name: `Renamed by ${role}` }),
  },
  {
    method: "POST",
    path: "/api-keys/{key_id}/rotate",
    permission: "api_keys:manage",
    arrange: async (s, role) => {
      await s.reauth(role);
      return { key_id: await s.keyFor(role) };
    },
    body: () => ({ grace_seconds: 0 }),
  },
  {
    method: "DELETE",
    path: "/api-keys/{key_id}",
    permission: "api_keys:manage",
    arrange: async (s, role) => ({ key_id: await s.keyFor(role) }),
  },
  // Data retention (docs/api-data.md): every member may read how long data is kept.
  { method: "GET", path: "/data-retention", permission: "account:read" },
  {
    method: "PATCH",
    path: "/data-retention",
    permission: "account:update",
    body: () => ({ export_files_days: 1 + (Number(unique()) % 90) }),
  },
];

/**
 * A request with the actor's session (or an API key's secret: no cookie, no CSRF token); unlike the
 * harness client it can send a body with DELETE.
 */
async function call(
  t: TestApp,
  actor: Actor | string,
  method: Method,
  url: string,
  body?: unknown,
  upload?: Upload,
) {
  const credentials =
    typeof actor === "string"
      ? { authorization: `Bearer ${actor}` }
      : {
          cookie: `gatehouse_session=${actor.client.cookie}`,
          ...(method === "GET" ? {} : { "x-csrf-token": actor.client.csrf ?? "" }),
        };
  const response = await t.app.inject({
    method,
    url,
    headers: {
      ...credentials,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...upload?.headers,
    },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    ...(upload ? { payload: upload.payload } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely, as the harness client does
  const json: Record<string, any> = response.headers["content-type"]?.toString().includes("json")
    ? response.json()
    : {};
  return { status: response.statusCode, payload: response.payload, body: json };
}

const ALL_PERMISSIONS = Object.keys(PERMISSIONS);

describe.each(testDialects())("authorization matrix on %s", (dialect) => {
  let t: TestApp;
  let s: Setup;
  let keyAll: string;
  let keyWithout: (permission: string) => Promise<string>;
  const withoutCache = new Map<string, string>();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const owner = await signUpAndLogin(t, { email: "matrix-root@example.com", account: "Matrix" });
    const accountId = owner.accountId;
    // One member per built-in role and spares: more seats than Free has (and room for the API keys).
    await onPaidPlan(t, accountId, { plan: "team" });
    const root: Actor = { client: owner.client, userId: owner.userId };
    const base = `/api/v1/accounts/${accountId}`;
    const asRoot = async (method: Method, path: string, body?: unknown) => {
      const response = await call(t, root, method, `${base}${path}`, body);
      if (response.status >= 400) throw new Error(`Root ${method} ${path} failed: ${response.payload}`);
      return response.body;
    };
    const roles = (await asRoot("GET", "/roles")).data as Array<{ id: string; key: string }>;
    const roleIds = Object.fromEntries(roles.map((r) => [r.key, r.id]));
    const actors: Record<string, Actor> = { root };
    for (const key of ROLE_KEYS) {
      if (key === "root") continue;
      actors[key] = await addMember(t, owner, { email: `matrix-${key}@example.com`, roleKey: key });
    }
    const bystander = await addMember(t, owner, { email: "matrix-bystander@example.com" });
    const team = await asRoot("POST", "/teams", { name: "Shared" });
    const customRole = await asRoot("POST", "/roles", { name: "Shared", permissions: MONITOR_PERMISSIONS });
    const keyMaker = (caller: Caller) => {
      const role = caller in actors && GRANTS.get(caller)?.has("api_keys:manage") ? caller : "root";
      return { client: (actors[role] as Actor).client, accountId };
    };
    s = {
      t,
      accountId,
      actors,
      roleIds,
      bystanderId: bystander.userId,
      teamId: team.id as string,
      customRoleId: customRole.id as string,
      asRoot,
      spareMember: async (roleKey = "monitor") =>
        (await addMember(t, owner, { email: `matrix-spare-${unique()}@example.com`, roleKey })).userId,
      keyFor: async (caller) => (await createApiKey(keyMaker(caller), ["account:read"])).id,
      reauth: async (caller) => {
        const actor = actors[caller];
        if (actor) await actor.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
      },
    };
    const rootOwner = { client: owner.client, accountId };
    keyAll = (await createApiKey(rootOwner, ALL_PERMISSIONS)).secret;
    keyWithout = async (permission) => {
      const cached = withoutCache.get(permission);
      if (cached) return cached;
      const created = (
        await createApiKey(
          rootOwner,
          ALL_PERMISSIONS.filter((p) => p !== permission),
        )
      ).secret;
      withoutCache.set(permission, created);
      return created;
    };
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const pathOf = (row: Row, params: Params) =>
    row.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (!value) throw new Error(`no ${name} for ${row.path}`);
      return value;
    });

  for (const row of ROWS) {
    describe(`${row.method} /accounts/{account_id}${row.path} needs ${row.permission}`, () => {
      for (const role of ROLE_KEYS) {
        const allowed = GRANTS.get(role)?.has(row.permission) ?? false;
        it(`${role}: ${allowed ? "allowed" : "403 forbidden"}`, async () => {
          const params = (await row.arrange?.(s, role)) ?? {};
          const actor = s.actors[role];
          if (!actor) throw new Error(`no member with role ${role}`);
          const response = await call(
            t,
            actor,
            row.method,
            `/api/v1/accounts/${s.accountId}${pathOf(row, params)}`,
            row.body?.(s, role, params),
            await row.upload?.(),
          );
          if (allowed) {
            expect(response.status, response.payload).toBeLessThan(400);
          } else {
            expect(response.status, response.payload).toBe(403);
            expect(response.body.code).toBe("forbidden");
          }
        });
      }
      for (const caller of KEY_CALLERS) {
        const allowed = caller === "key_all" && !row.sessionOnly;
        const refusal = row.sessionOnly ? "session_required" : "forbidden";
        const label = caller === "key_all" ? "API key with every scope" : `API key without ${row.permission}`;
        it(`${label}: ${allowed ? "allowed" : `403 ${refusal}`}`, async () => {
          const params = (await row.arrange?.(s, caller)) ?? {};
          const secret = caller === "key_all" ? keyAll : await keyWithout(row.permission);
          const response = await call(
            t,
            secret,
            row.method,
            `/api/v1/accounts/${s.accountId}${pathOf(row, params)}`,
            row.body?.(s, caller, params),
            await row.upload?.(),
          );
          if (allowed) {
            expect(response.status, response.payload).toBeLessThan(400);
          } else {
            expect(response.status, response.payload).toBe(403);
            expect(response.body.code).toBe(refusal);
            if (refusal === "forbidden") expect(response.body.detail).toContain(row.permission);
          }
        });
      }
    });
  }
});
