import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "../audit/audit.service.js";
import { AppError } from "../http/errors.js";
import { hashToken } from "../lib/crypto.js";
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
import { newApiKeySecret } from "./secrets.js";

type Owner = { client: Client; accountId: string; userId: string };

/** The secret with one character changed: same shape, wrong checksum. */
function typo(secret: string): string {
  const at = 10;
  const swapped = secret[at] === "a" ? "b" : "a";
  return `${secret.slice(0, at)}${swapped}${secret.slice(at + 1)}`;
}

describe.each(testDialects())("API keys on %s", (dialect) => {
  let t: TestApp;
  let root: Owner;
  let admin: Owner;
  let developer: Owner;
  let monitor: Owner;
  let base: string;
  let roleIds: Record<string, string>;
  let serial = 0;

  const events = async (query: string) =>
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely, as the harness client does
    (await root.client.get(`${base}/audit-events?${query}`)).body.data as Array<Record<string, any>>;
  /** Now, to the second: a frozen clock near real time keeps the test sessions alive. */
  // The next whole second: never before what already happened (a log-in, a key's creation).
  const freezeNow = () => {
    const now = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    t.services.clock.freeze(now);
    return now;
  };
  const later = (from: Date, seconds: number) => new Date(from.getTime() + seconds * 1000).toISOString();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const owner = await signUpAndLogin(t, { email: "keys-root@example.com", account: "Keys Co" });
    root = owner;
    base = `/api/v1/accounts/${owner.accountId}`;
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    const member = async (email: string, roleKey: string) => ({
      ...(await addMember(t, owner, { email, roleKey })),
      accountId: owner.accountId,
    });
    admin = await member("keys-admin@example.com", "admin");
    developer = await member("keys-dev@example.com", "developer");
    monitor = await member("keys-monitor@example.com", "monitor");
    roleIds = Object.fromEntries(
      ((await root.client.get(`${base}/roles`)).body.data as Array<{ key: string; id: string }>).map((r) => [
        r.key,
        r.id,
      ]),
    );
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  it("creates a key: its secret shown once, only its hash stored, a prefix to tell it apart", async () => {
    await root.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
    const created = await root.client.post(`${base}/api-keys`, {
      name: "  Deploy bot ",
      scopes: ["members:read", "teams:read", "members:read"],
    });
    expect(created.statusCode, created.payload).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^gh_[0-9A-Za-z]{49}$/);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^key_/),
      name: "Deploy bot",
      prefix: `gh_…${secret.slice(-4)}`,
      scopes: ["members:read", "teams:read"],
      effective_scopes: ["members:read", "teams:read"],
      allowed_ips: [],
      created_by: root.userId,
      expires_at: null,
      last_used_at: null,
      last_used_ip: null,
      previous_secret_expires_at: null,
    });

    const listed = await root.client.get(`${base}/api-keys`);
    const entry = listed.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(entry).toMatchObject({ name: "Deploy bot", prefix: created.body.prefix });
    expect(entry).not.toHaveProperty("secret");
    expect(listed.payload).not.toContain(secret);
    const one = await root.client.get(`${base}/api-keys/${created.body.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.body).not.toHaveProperty("secret");

    const row = await t.services.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", created.body.id)
      .executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(hashToken(secret));
    expect(JSON.stringify(row)).not.toContain(secret.slice(3, 40));
    const [event] = await events(`action=api_key.created&target_id=${created.body.id}`);
    expect(event?.changes).toMatchObject({ name: "Deploy bot", scopes: ["members:read", "teams:read"] });
    expect(JSON.stringify(event)).not.toContain(secret.slice(3, 40));
  });

  it("needs api_keys:manage, a fresh authentication, and scopes from the catalog that the creator holds", async () => {
    const asMonitor = await monitor.client.post(`${base}/api-keys`, { name: "x", scopes: ["members:read"] });
    expect(asMonitor.statusCode).toBe(403);
    expect(asMonitor.body.code).toBe("forbidden");

    // Developers manage API keys now (the replaced products' "API keys and integrations").
    const mine = await createApiKey(developer, ["resources:write", "api_keys:manage"]);
    expect(mine.secret).toMatch(/^gh_/);
    const beyond = await developer.client.post(`${base}/api-keys`, {
      name: "Too much",
      scopes: ["resources:read", "billing:manage", "members:invite"],
    });
    expect(beyond.statusCode, beyond.payload).toBe(403);
    expect(beyond.body.code).toBe("forbidden");
    expect(beyond.body.detail).toContain("billing:manage");
    expect(beyond.body.detail).toContain("members:invite");
    expect(beyond.body.detail).not.toContain("resources:read");
    expect(beyond.body.errors.map((e: { path: string }) => e.path)).toEqual(["scopes.1", "scopes.2"]);

    // Every field problem in one answer.
    const bad = await root.client.post(`${base}/api-keys`, {
      name: "   ",
      scopes: ["members:read", "nope:thing"],
      expires_at: "2001-01-01T00:00:00Z",
      allowed_ips: ["10.0.0.0/8", "not-an-ip"],
    });
    expect(bad.statusCode, bad.payload).toBe(400);
    expect(bad.body.code).toBe("validation_failed");
    expect(bad.body.errors.map((e: { path: string; code: string }) => `${e.path}:${e.code}`).sort()).toEqual([
      "allowed_ips.1:invalid_ip",
      "expires_at:invalid_value",
      "name:required",
      "scopes.1:unknown_permission",
    ]);
    expect((await root.client.post(`${base}/api-keys`, { name: "x", scopes: [] })).statusCode).toBe(400);
    expect(
      (await root.client.post(`${base}/api-keys`, { name: "x", scopes: ["Not A Key"] })).statusCode,
    ).toBe(400);

    // Host-product permissions are scopes too.
    await root.client.post(`${base}/permissions`, { key: "flows:deploy", description: "Deploy flows" });
    await createApiKey(root, ["flows:deploy"]);

    t.services.clock.advance(10 * 60 + 1);
    const stale = await root.client.post(`${base}/api-keys`, { name: "Later", scopes: ["members:read"] });
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    expect((await root.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    expect(
      (await root.client.post(`${base}/api-keys`, { name: "Later", scopes: ["members:read"] })).statusCode,
    ).toBe(201);
  });

  it("works as Bearer on the account's endpoints, writes without CSRF, and is audited as the key", async () => {
    const key = await createApiKey(root, ["members:read", "teams:read", "teams:manage", "audit:read"]);
    const machine = createKeyClient(t.app, key.secret);
    const members = await machine.get(`${base}/members`);
    expect(members.statusCode, members.payload).toBe(200);
    expect(members.body.data.length).toBeGreaterThanOrEqual(4);
    const team = await machine.post(`${base}/teams`, { name: `Made by a key ${++serial}` });
    expect(team.statusCode, team.payload).toBe(201);
    expect((await machine.get(`${base}/teams/${team.body.id}`)).body.name).toBe(team.body.name);

    const [event] = (await machine.get(`${base}/audit-events?actor_id=${key.id}`)).body.data;
    expect(event).toMatchObject({
      action: "team.created",
      actor: { type: "api_key", id: key.id, user_id: root.userId, email: "keys-root@example.com" },
      target: { type: "team", id: team.body.id },
    });
    expect(await verifyChain(t.services.db, root.accountId)).toMatchObject({ ok: true });

    const billing = await machine.get(`${base}/billing`);
    expect(billing.statusCode).toBe(403);
    expect(billing.body).toMatchObject({
      code: "forbidden",
      detail: expect.stringContaining("billing:read"),
    });
    const invite = await machine.post(`${base}/invitations`, {
      emails: ["by-key@example.com"],
      role_id: roleIds.monitor,
    });
    expect(invite.statusCode).toBe(403);
    expect(invite.body.detail).toContain("members:invite");
  });

  it("refuses other accounts (404) and person-only endpoints (403 session_required)", async () => {
    const key = await createApiKey(root, ["members:read", "api_keys:manage", "security:manage"]);
    const machine = createKeyClient(t.app, key.secret);
    const stranger = await signUpAndLogin(t, { email: "keys-stranger@example.com", account: "Elsewhere" });
    for (const path of ["", "/members", "/api-keys", "/teams"]) {
      const response = await machine.get(`/api/v1/accounts/${stranger.accountId}${path}`);
      expect(response.statusCode, path).toBe(404);
      expect(response.body.code).toBe("not_found");
    }
    expect((await machine.get("/api/v1/accounts/acct_doesnotexist0000000000/members")).statusCode).toBe(404);
    expect((await machine.get(`/api/v1/permissions?account_id=${stranger.accountId}`)).statusCode).toBe(404);

    const personOnly: Array<[string, string, unknown?]> = [
      ["GET", "/api/v1/me"],
      ["PATCH", "/api/v1/me", { first_name: "Robot" }],
      ["GET", "/api/v1/session"],
      ["GET", "/api/v1/me/sessions"],
      ["POST", "/api/v1/me/password", { current_password: STRONG_PASSWORD, new_password: "x" }],
      ["GET", "/api/v1/me/mfa"],
      ["POST", "/api/v1/auth/logout", {}],
      ["POST", "/api/v1/auth/reauth", { password: STRONG_PASSWORD }],
      ["GET", "/api/v1/accounts"],
      ["POST", "/api/v1/accounts", { name: "Machine Co" }],
      ["POST", `${base}/api-keys`, { name: "Child", scopes: ["members:read"] }],
      ["POST", `${base}/switch`, {}],
      ["POST", `${base}/members/${monitor.userId}/mfa/reset`, {}],
      ["POST", `${base}/members/${monitor.userId}/recovery-codes`, {}],
      ["POST", `${base}/members/${monitor.userId}/recovery-codes/reveal`, {}],
    ];
    for (const [method, url, body] of personOnly) {
      const response = await machine.request(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.payload}`).toBe(403);
      expect(response.body.code, `${method} ${url}`).toBe("session_required");
    }
    // Public routes ignore the header; the catalog takes keys.
    expect((await machine.get("/api/v1/plans")).statusCode).toBe(200);
    expect((await machine.get("/api/v1/permissions")).statusCode).toBe(200);
  });

  it("answers 401 invalid_api_key to malformed, mistyped, unknown, revoked and expired keys", async () => {
    const key = await createApiKey(root, ["members:read"], {
      expires_at: new Date(t.services.clock.now().getTime() + 600_000).toISOString(),
    });
    const other = await createApiKey(root, ["members:read"]);
    const cases = ["", "gh_", `${key.secret}x`, key.secret.slice(0, -1), typo(key.secret), newApiKeySecret()];
    for (const secret of cases) {
      const response = await createKeyClient(t.app, secret).get(`${base}/members`);
      expect(response.statusCode, secret).toBe(401);
      expect(response.body.code).toBe("invalid_api_key");
      expect(response.headers["www-authenticate"]).toBe("Bearer");
      expect(response.headers["content-type"]).toContain("application/problem+json");
    }
    // Without the gh_ prefix the value is read as an access token (docs/oidc.md).
    const notAKey = await createKeyClient(t.app, "not-a-key").get(`${base}/members`);
    expect(notAKey.statusCode).toBe(401);
    expect(notAKey.body.code).toBe("invalid_token");
    expect((await createKeyClient(t.app, key.secret).get(`${base}/members`)).statusCode).toBe(200);
    // A Bearer header decides even next to a session cookie.
    const mixed = await t.app.inject({
      url: `${base}/members`,
      headers: {
        cookie: `gatehouse_session=${root.client.cookie}`,
        authorization: `Bearer ${typo(key.secret)}`,
      },
    });
    expect(mixed.statusCode).toBe(401);

    t.services.clock.advance(600);
    const expired = await createKeyClient(t.app, key.secret).get(`${base}/members`);
    expect(expired.statusCode).toBe(401);
    expect(expired.body.detail).toMatch(/expired/);
    expect((await root.client.get(`${base}/api-keys/${key.id}`)).body.expires_at).toBeTruthy();

    expect((await root.client.delete(`${base}/api-keys/${other.id}`)).statusCode).toBe(204);
    const revoked = await createKeyClient(t.app, other.secret).get(`${base}/members`);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.body.code).toBe("invalid_api_key");
  });

  it("refuses a mistyped secret without reading the database; a warm key needs no query at all", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const other = await t.sibling();
    const authenticate = (secret: string) =>
      other.services.keyAuthentication.authenticate(secret, "127.0.0.1");
    expect((await authenticate(key.secret)).id).toBe(key.id);
    // From here on every query of that process fails.
    await other.services.database.close();
    expect((await authenticate(key.secret)).id).toBe(key.id);
    await expect(authenticate(typo(key.secret))).rejects.toMatchObject({ code: "invalid_api_key" });
    const response = await createKeyClient(other.app, typo(key.secret)).get(`${base}/members`);
    expect(response.statusCode).toBe(401);
    expect(response.body.code).toBe("invalid_api_key");
    // …whereas a well-formed secret is looked up, and that cannot work now.
    const lookup = await authenticate(newApiKeySecret()).catch((error: unknown) => error);
    expect(lookup).toBeInstanceOf(Error);
    expect(lookup).not.toBeInstanceOf(AppError);
  });

  it("rotates: the old secret works until its grace period ends, then 401", async () => {
    const key = await createApiKey(root, ["members:read", "api_keys:manage"]);
    const start = freezeNow();
    const rotated = await root.client.post(`${base}/api-keys/${key.id}/rotate`, { grace_seconds: 600 });
    expect(rotated.statusCode, rotated.payload).toBe(200);
    const next = rotated.body.secret as string;
    expect(next).toMatch(/^gh_/);
    expect(next).not.toBe(key.secret);
    expect(rotated.body).toMatchObject({
      id: key.id,
      prefix: `gh_…${next.slice(-4)}`,
      previous_secret_expires_at: later(start, 600),
    });
    const old = createKeyClient(t.app, key.secret);
    const fresh = createKeyClient(t.app, next);
    expect((await old.get(`${base}/members`)).statusCode).toBe(200);
    expect((await fresh.get(`${base}/members`)).statusCode).toBe(200);
    t.services.clock.advance(599);
    expect((await old.get(`${base}/members`)).statusCode).toBe(200);
    t.services.clock.advance(1);
    const late = await old.get(`${base}/members`);
    expect(late.statusCode).toBe(401);
    expect(late.body).toMatchObject({ code: "invalid_api_key", detail: expect.stringMatching(/rotated/) });
    expect((await fresh.get(`${base}/members`)).statusCode).toBe(200);
    const [event] = await events(`action=api_key.rotated&target_id=${key.id}`);
    expect(event?.changes).toMatchObject({ grace_seconds: 600, previous_expires_at: later(start, 600) });
    expect(JSON.stringify(event)).not.toContain(next.slice(3, 40));

    // The key rotates itself (no person, so no re-authentication); grace 0 ends the old secret at once.
    const self = await fresh.post(`${base}/api-keys/${key.id}/rotate`, { grace_seconds: 0 });
    expect(self.statusCode, self.payload).toBe(200);
    expect(self.body.previous_secret_expires_at).toBeNull();
    expect((await fresh.get(`${base}/members`)).statusCode).toBe(401);
    const third = createKeyClient(t.app, self.body.secret);
    expect((await third.get(`${base}/members`)).statusCode).toBe(200);

    // Default grace: 24 hours; a second rotation ends the secret the first one left working.
    const byDefault = await third.post(`${base}/api-keys/${key.id}/rotate`);
    expect(byDefault.body.previous_secret_expires_at).toBe(
      new Date(t.services.clock.now().getTime() + 86_400_000).toISOString(),
    );
    expect((await third.get(`${base}/members`)).statusCode).toBe(200);
    await createKeyClient(t.app, byDefault.body.secret).post(`${base}/api-keys/${key.id}/rotate`);
    expect((await third.get(`${base}/members`)).statusCode).toBe(401);

    // Ten minutes have passed on the clock: the person confirms again before handing out a secret.
    await root.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
    for (const grace_seconds of [-1, 604_801, 1.5, "60"]) {
      const refused = await root.client.post(`${base}/api-keys/${key.id}/rotate`, { grace_seconds });
      expect(refused.statusCode, String(grace_seconds)).toBe(400);
    }
    expect(
      (await root.client.post(`${base}/api-keys/${key.id}/rotate`, { grace_seconds: 604_800 })).statusCode,
    ).toBe(200);

    // A person needs a fresh authentication (a secret is handed out); someone else's key is not theirs.
    t.services.clock.advance(10 * 60 + 1);
    const stale = await root.client.post(`${base}/api-keys/${key.id}/rotate`);
    expect(stale.body.code).toBe("reauth_required");
    await admin.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
    const foreign = await admin.client.post(`${base}/api-keys/${key.id}/rotate`);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body.code).toBe("forbidden");
  });

  it("renames and changes scopes and IPs: only its creator, never beyond what the caller holds", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const patched = await root.client.patch(`${base}/api-keys/${key.id}`, {
      name: "Renamed",
      scopes: ["members:read", "teams:read"],
      allowed_ips: ["203.0.113.7", "::ffff:203.0.113.7", "10.1.2.3/8"],
    });
    expect(patched.statusCode, patched.payload).toBe(200);
    expect(patched.body).toMatchObject({
      name: "Renamed",
      scopes: ["members:read", "teams:read"],
      allowed_ips: ["203.0.113.7", "10.0.0.0/8"],
    });
    const [event] = await events(`action=api_key.updated&target_id=${key.id}`);
    expect(event?.changes).toMatchObject({
      name: "Renamed",
      scopes_added: ["teams:read"],
      scopes_removed: [],
    });

    const foreign = await admin.client.patch(`${base}/api-keys/${key.id}`, { name: "Mine now" });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.body.code).toBe("forbidden");

    const devKey = await createApiKey(developer, ["resources:read", "api_keys:manage"]);
    const beyond = await developer.client.patch(`${base}/api-keys/${devKey.id}`, {
      scopes: ["resources:read", "billing:read"],
    });
    expect(beyond.statusCode).toBe(403);
    expect(beyond.body.detail).toContain("billing:read");

    // One of the developer's keys cannot change a stronger one of theirs, nor give itself more.
    const strong = await createApiKey(developer, ["resources:write", "teams:read"]);
    const weak = createKeyClient(t.app, devKey.secret);
    expect((await weak.patch(`${base}/api-keys/${strong.id}`, { allowed_ips: [] })).statusCode).toBe(403);
    expect(
      (await weak.patch(`${base}/api-keys/${devKey.id}`, { scopes: ["resources:read", "resources:write"] }))
        .statusCode,
    ).toBe(403);
    expect((await weak.patch(`${base}/api-keys/${devKey.id}`, { name: "Weak" })).statusCode).toBe(200);

    const invalid = await root.client.patch(`${base}/api-keys/${key.id}`, {
      allowed_ips: ["nope"],
      scopes: [],
    });
    expect(invalid.statusCode).toBe(400);
    const expiring = await root.client.patch(`${base}/api-keys/${key.id}`, {
      expires_at: "2099-01-01T00:00:00Z",
    });
    expect(expiring.body.expires_at).toBe("2099-01-01T00:00:00.000Z");
    expect(
      (await root.client.patch(`${base}/api-keys/${key.id}`, { expires_at: null })).body.expires_at,
    ).toBeNull();
  });

  it("revokes at once: anyone with api_keys:manage may revoke any key; revoked keys are gone from the list", async () => {
    const key = await createApiKey(developer, ["resources:read"]);
    const machine = createKeyClient(t.app, key.secret);
    expect((await machine.get(`${base}`)).statusCode).toBe(403);
    expect((await monitor.client.delete(`${base}/api-keys/${key.id}`)).statusCode).toBe(403);
    const adminList = await admin.client.get(`${base}/api-keys`);
    expect(adminList.body.data.map((k: { id: string }) => k.id)).toContain(key.id);
    expect((await admin.client.delete(`${base}/api-keys/${key.id}`)).statusCode).toBe(204);
    expect((await machine.get(`${base}/members`)).statusCode).toBe(401);
    expect((await admin.client.get(`${base}/api-keys/${key.id}`)).statusCode).toBe(404);
    expect((await admin.client.delete(`${base}/api-keys/${key.id}`)).statusCode).toBe(404);
    expect(
      (await admin.client.get(`${base}/api-keys`)).body.data.map((k: { id: string }) => k.id),
    ).not.toContain(key.id);
    const [event] = await events(`action=api_key.revoked&target_id=${key.id}`);
    expect(event).toMatchObject({
      actor: { type: "user", id: admin.userId },
      changes: { created_by: developer.userId },
    });
  });

  it("pages the list", async () => {
    const page = await root.client.get(`${base}/api-keys?limit=2`);
    expect(page.body.data).toHaveLength(2);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    const next = await root.client.get(`${base}/api-keys?limit=2&cursor=${page.body.next_cursor}`);
    expect(next.statusCode).toBe(200);
    const ids = [...page.body.data, ...next.body.data].map((k: { id: string }) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await root.client.get(`${base}/api-keys?cursor=nonsense`)).statusCode).toBe(400);
  });

  it("follows its creator: loses what they lose, stops while they are suspended, goes when they leave", async () => {
    const holder = {
      ...(await addMember(t, root, { email: `keys-holder-${++serial}@example.com`, roleKey: "admin" })),
      accountId: root.accountId,
    };
    const key = await createApiKey(holder, ["teams:manage", "teams:read", "members:read"]);
    const machine = createKeyClient(t.app, key.secret);
    expect((await machine.post(`${base}/teams`, { name: `Holder team ${serial}` })).statusCode).toBe(201);

    await root.client.patch(`${base}/members/${holder.userId}`, { role_id: roleIds.monitor });
    const demoted = await machine.post(`${base}/teams`, { name: `Holder team ${serial} b` });
    expect(demoted.statusCode).toBe(403);
    expect(demoted.body).toMatchObject({
      code: "forbidden",
      detail: expect.stringContaining("teams:manage"),
    });
    expect((await machine.get(`${base}/teams`)).statusCode).toBe(200);
    expect((await root.client.get(`${base}/api-keys/${key.id}`)).body).toMatchObject({
      scopes: ["teams:manage", "teams:read", "members:read"],
      effective_scopes: ["teams:read", "members:read"],
    });
    await root.client.patch(`${base}/members/${holder.userId}`, { role_id: roleIds.admin });
    expect((await machine.post(`${base}/teams`, { name: `Holder team ${serial} c` })).statusCode).toBe(201);

    await root.client.post(`${base}/members/${holder.userId}/suspend`);
    const suspended = await machine.get(`${base}/teams`);
    expect(suspended.statusCode).toBe(401);
    expect(suspended.body).toMatchObject({
      code: "invalid_api_key",
      detail: expect.stringMatching(/disabled/),
    });
    expect((await root.client.get(`${base}/api-keys/${key.id}`)).body.effective_scopes).toEqual([]);
    await root.client.post(`${base}/members/${holder.userId}/reactivate`);
    expect((await machine.get(`${base}/teams`)).statusCode).toBe(200);

    expect((await root.client.delete(`${base}/members/${holder.userId}`)).statusCode).toBe(204);
    expect((await machine.get(`${base}/teams`)).statusCode).toBe(401);
    const rows = await t.services.db.selectFrom("api_keys").select("id").where("id", "=", key.id).execute();
    expect(rows).toEqual([]);
    const [removed] = await events(`action=member.removed&target_id=${holder.userId}`);
    expect(removed?.changes.api_keys_deleted).toEqual([key.id]);
  });

  it("applies the account's IP allowlist to keys, narrowed by each key's allowed_ips", async () => {
    const open = await createApiKey(root, ["members:read"]);
    const pinned = await createApiKey(root, ["members:read"], { allowed_ips: ["203.0.113.5"] });
    const from = (secret: string, ip: string) =>
      createKeyClient(t.app, secret, { ip }).get(`${base}/members`);
    expect((await from(pinned.secret, "198.51.100.1")).statusCode).toBe(403);
    expect((await from(pinned.secret, "203.0.113.5")).statusCode).toBe(200);
    expect((await from(open.secret, "198.51.100.1")).statusCode).toBe(200);

    const security = `${base}/security`;
    expect(
      (await root.client.patch(security, { ip_allowlist: ["127.0.0.1", "203.0.113.0/24"] })).statusCode,
    ).toBe(200);
    try {
      const outside = await from(open.secret, "198.51.100.1");
      expect(outside.statusCode).toBe(403);
      expect(outside.body).toMatchObject({
        code: "ip_not_allowed",
        detail: expect.stringContaining("198.51.100.1"),
      });
      expect((await from(open.secret, "203.0.113.9")).statusCode).toBe(200);
      const notPinned = await from(pinned.secret, "203.0.113.9");
      expect(notPinned.statusCode).toBe(403);
      expect(notPinned.body).toMatchObject({
        code: "ip_not_allowed",
        detail: expect.stringContaining("key"),
      });
      expect((await from(pinned.secret, "203.0.113.5")).statusCode).toBe(200);
    } finally {
      await root.client.patch(security, { ip_allowlist: [] });
    }
  });

  it("answers POST /authz/check with members:read, about users of its own account only", async () => {
    const reader = createKeyClient(t.app, (await createApiKey(root, ["members:read"])).secret);
    const stranger = await signUpAndLogin(t, {
      email: `keys-authz-${++serial}@example.com`,
      account: "Other",
    });
    const one = await reader.post("/api/v1/authz/check", {
      account_id: root.accountId,
      user_id: developer.userId,
      permission: "resources:write",
    });
    expect(one.statusCode, one.payload).toBe(200);
    expect(one.body).toEqual({ allowed: true, reason: "granted" });
    const batch = await reader.post("/api/v1/authz/check", {
      checks: [
        { account_id: root.accountId, user_id: monitor.userId, permission: "resources:write" },
        { account_id: stranger.accountId, user_id: stranger.userId, permission: "account:read" },
        { account_id: root.accountId, user_id: stranger.userId, permission: "account:read" },
      ],
    });
    expect(batch.body.results).toEqual([
      { allowed: false, reason: "missing_permission" },
      { allowed: false, reason: "not_member" },
      { allowed: false, reason: "not_member" },
    ]);
    const unscoped = createKeyClient(t.app, (await createApiKey(root, ["teams:read"])).secret);
    const refused = await unscoped.post("/api/v1/authz/check", {
      account_id: root.accountId,
      user_id: developer.userId,
      permission: "resources:write",
    });
    expect(refused.body).toEqual({ allowed: false, reason: "not_member" });
  });

  it("keeps the last use in memory and writes it in batches, not on the request", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const now = freezeNow().toISOString();
    expect(
      (await createKeyClient(t.app, key.secret, { ip: "203.0.113.77" }).get(`${base}/members`)).statusCode,
    ).toBe(200);
    const stored = () =>
      t.services.db
        .selectFrom("api_keys")
        .select(["last_used_at", "last_used_ip"])
        .where("id", "=", key.id)
        .executeTakeFirstOrThrow();
    expect(await stored()).toEqual({ last_used_at: null, last_used_ip: null });
    expect((await root.client.get(`${base}/api-keys/${key.id}`)).body).toMatchObject({
      last_used_at: now,
      last_used_ip: "203.0.113.77",
    });
    await t.services.writeBehind.flush();
    expect(await stored()).toEqual({
      last_used_at: now,
      last_used_ip: "203.0.113.77",
    });
  });

  it("describes the key endpoints and the Bearer scheme in /openapi.json", async () => {
    const doc = (await createClient(t.app).get("/openapi.json")).body;
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/v1/accounts/{account_id}/api-keys",
        "/api/v1/accounts/{account_id}/api-keys/{key_id}",
        "/api/v1/accounts/{account_id}/api-keys/{key_id}/rotate",
      ]),
    );
  });
});

describe.runIf(testDialects().includes("postgres"))("API keys across processes (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("postgres");
  });
  afterAll(() => t?.close());

  it("a revocation or rotation in one process is honoured by another at once", async () => {
    const other = await t.sibling();
    const root = await signUpAndLogin(t, { email: "keys-xproc@example.com" });
    const base = `/api/v1/accounts/${root.accountId}`;
    const revoked = await createApiKey(root, ["members:read"]);
    const rotated = await createApiKey(root, ["members:read"]);
    const elsewhere = (secret: string) => createKeyClient(other.app, secret).get(`${base}/members`);
    for (const key of [revoked, rotated]) {
      expect((await elsewhere(key.secret)).statusCode).toBe(200);
      expect((await elsewhere(key.secret)).statusCode).toBe(200); // warm in the other process
    }
    expect((await root.client.delete(`${base}/api-keys/${revoked.id}`)).statusCode).toBe(204);
    await expect
      .poll(async () => (await elsewhere(revoked.secret)).statusCode, { timeout: 2000, interval: 5 })
      .toBe(401);
    const next = await root.client.post(`${base}/api-keys/${rotated.id}/rotate`, { grace_seconds: 0 });
    await expect
      .poll(async () => (await elsewhere(rotated.secret)).statusCode, { timeout: 2000, interval: 5 })
      .toBe(401);
    expect((await elsewhere(next.body.secret)).statusCode).toBe(200);
  });
});
