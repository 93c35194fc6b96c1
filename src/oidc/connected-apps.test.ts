import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

type Person = { client: Client; userId: string };

describe.each(testDialects())("connected apps on %s", (dialect) => {
  let t: TestApp;
  let owner: Person & { accountId: string };
  let admin: Person;
  let monitor: Person;
  let other: Person & { accountId: string };
  const appsOf = (accountId: string) => `/api/v1/accounts/${accountId}/connected-apps`;

  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 12, minutes)).toISOString();

  async function addClient(
    clientId: string,
    name: string,
    party: "first" | "third",
    logo: string | null = null,
  ) {
    await t.services.db
      .insertInto("oidc_clients")
      .values({
        client_id: clientId,
        name,
        secret_sealed: null,
        party,
        redirect_uris: '["https://app.example/cb"]',
        post_logout_redirect_uris: "[]",
        grant_types: '["authorization_code","refresh_token"]',
        scopes: '["openid","profile","email","offline_access","gatehouse:account"]',
        backchannel_logout_uri: null,
        logo_uri: logo,
        source: "cli",
        created_at: at(0),
        updated_at: at(0),
      })
      .execute();
  }

  async function authorize(
    grantId: string,
    clientId: string,
    userId: string,
    accountId: string,
    scopes: string,
    minute: number,
  ) {
    await t.services.db
      .insertInto("oidc_authorizations")
      .values({
        grant_id: grantId,
        client_id: clientId,
        user_id: userId,
        account_id: accountId,
        session_id: null,
        sid: `sid-${grantId}`,
        scopes,
        created_at: at(minute),
        updated_at: at(minute),
      })
      .execute();
    // What oidc-provider keeps for a grant: the grant itself, a code and a refresh token.
    await t.services.db
      .insertInto("oidc_payloads")
      .values([
        {
          kind: "Grant",
          id: grantId,
          payload: "{}",
          grant_id: null,
          uid: null,
          user_code: null,
          expires_at: null,
          consumed_at: null,
        },
        {
          kind: "AuthorizationCode",
          id: `code-${grantId}`,
          payload: "{}",
          grant_id: grantId,
          uid: null,
          user_code: null,
          expires_at: null,
          consumed_at: null,
        },
        {
          kind: "RefreshToken",
          id: `rt-${grantId}`,
          payload: "{}",
          grant_id: grantId,
          uid: null,
          user_code: null,
          expires_at: null,
          consumed_at: null,
        },
      ])
      .execute();
  }

  const grantIdsOf = async (accountId: string) =>
    (
      await t.services.db
        .selectFrom("oidc_authorizations")
        .select("grant_id")
        .where("account_id", "=", accountId)
        .orderBy("grant_id")
        .execute()
    ).map((r) => r.grant_id);

  const payloadIds = async () =>
    (await t.services.db.selectFrom("oidc_payloads").select(["kind", "id"]).orderBy("id").execute()).map(
      (r) => `${r.kind}:${r.id}`,
    );

  beforeAll(async () => {
    t = await createTestApp(dialect);
    owner = await signUpAndLogin(t, { email: "apps-root@example.com", account: "Apps Co" });
    admin = await addMember(t, owner, { email: "apps-admin@example.com", roleKey: "admin" });
    monitor = await addMember(t, owner, { email: "apps-monitor@example.com", roleKey: "monitor" });
    other = await signUpAndLogin(t, { email: "apps-other@example.com", account: "Other Co" });
  });
  afterAll(async () => {
    await t?.close();
  });

  beforeEach(async () => {
    const { db } = t.services;
    await db.deleteFrom("oidc_payloads").execute();
    await db.deleteFrom("oidc_authorizations").execute();
    await db.deleteFrom("oidc_clients").execute();
    await addClient("notes-app", "Notes", "third", "https://notes.example/logo.png");
    await addClient("calendar", "Calendar", "third");
    await addClient("console", "Gatehouse Console", "first");
    // Apps Co: two members authorized Notes, the owner also Calendar and the first-party console.
    await authorize("g-owner-notes", "notes-app", owner.userId, owner.accountId, "openid profile", 1);
    await authorize("g-monitor-notes", "notes-app", monitor.userId, owner.accountId, "openid email", 5);
    await authorize("g-owner-calendar", "calendar", owner.userId, owner.accountId, "openid", 3);
    await authorize(
      "g-owner-console",
      "console",
      owner.userId,
      owner.accountId,
      "openid gatehouse:account",
      4,
    );
    // Other Co authorized Notes too, with its own grant.
    await authorize("g-other-notes", "notes-app", other.userId, other.accountId, "openid offline_access", 7);
    // Something of oidc-provider's that belongs to no grant.
    await db
      .insertInto("oidc_payloads")
      .values({
        kind: "Session",
        id: "session-1",
        payload: "{}",
        grant_id: null,
        uid: "u1",
        user_code: null,
        expires_at: null,
        consumed_at: null,
      })
      .execute();
  });

  it("lists the account's third-party apps by name with their scopes, members and last authorization, for Root and Admin", async () => {
    const expected = [
      {
        client_id: "calendar",
        name: "Calendar",
        logo_uri: null,
        scopes: ["openid"],
        members: 1,
        last_authorized_at: at(3),
      },
      {
        client_id: "notes-app",
        name: "Notes",
        logo_uri: "https://notes.example/logo.png",
        scopes: ["email", "openid", "profile"],
        members: 2,
        last_authorized_at: at(5),
      },
    ];
    for (const as of [owner, admin]) {
      const list = await as.client.get(appsOf(owner.accountId));
      expect(list.statusCode, list.payload).toBe(200);
      expect(list.body).toEqual({ data: expected });
    }
  });

  it("shows another account only its own members' authorizations, and refuses a non-member (404)", async () => {
    const list = await other.client.get(appsOf(other.accountId));
    expect(list.statusCode, list.payload).toBe(200);
    expect(list.body.data).toEqual([
      {
        client_id: "notes-app",
        name: "Notes",
        logo_uri: "https://notes.example/logo.png",
        scopes: ["offline_access", "openid"],
        members: 1,
        last_authorized_at: at(7),
      },
    ]);
    const foreign = await other.client.get(appsOf(owner.accountId));
    expect(foreign.statusCode, foreign.payload).toBe(404);
    const foreignRevoke = await other.client.delete(`${appsOf(owner.accountId)}/notes-app`);
    expect(foreignRevoke.statusCode, foreignRevoke.payload).toBe(404);
    expect(await grantIdsOf(owner.accountId)).toHaveLength(4);
  });

  it("refuses a member without security:read or security:manage (403) and changes nothing", async () => {
    const list = await monitor.client.get(appsOf(owner.accountId));
    expect(list.statusCode, list.payload).toBe(403);
    expect(list.body.code).toBe("forbidden");
    expect(list.headers["content-type"]).toMatch(/application\/problem\+json/);
    const revoke = await monitor.client.delete(`${appsOf(owner.accountId)}/notes-app`);
    expect(revoke.statusCode, revoke.payload).toBe(403);
    expect(revoke.body.code).toBe("forbidden");
    expect(await grantIdsOf(owner.accountId)).toHaveLength(4);
  });

  it("revokes an app for the account only: its authorizations and those grants' codes and refresh tokens go, audited", async () => {
    const revoke = await admin.client.delete(`${appsOf(owner.accountId)}/notes-app`);
    expect(revoke.statusCode, revoke.payload).toBe(204);

    expect(await grantIdsOf(owner.accountId)).toEqual(["g-owner-calendar", "g-owner-console"]);
    expect(await grantIdsOf(other.accountId)).toEqual(["g-other-notes"]);
    const left = await payloadIds();
    for (const gone of ["g-owner-notes", "g-monitor-notes"]) {
      expect(left).not.toContain(`Grant:${gone}`);
      expect(left).not.toContain(`AuthorizationCode:code-${gone}`);
      expect(left).not.toContain(`RefreshToken:rt-${gone}`);
    }
    for (const kept of ["g-other-notes", "g-owner-calendar", "g-owner-console"]) {
      expect(left).toContain(`Grant:${kept}`);
      expect(left).toContain(`RefreshToken:rt-${kept}`);
    }
    expect(left).toContain("Session:session-1");

    const list = await owner.client.get(appsOf(owner.accountId));
    expect(list.body.data.map((a: { client_id: string }) => a.client_id)).toEqual(["calendar"]);
    const otherList = await other.client.get(appsOf(other.accountId));
    expect(otherList.body.data.map((a: { client_id: string }) => a.client_id)).toEqual(["notes-app"]);

    const events = await t.services.db
      .selectFrom("audit_events")
      .selectAll()
      .where("action", "=", "oidc.app_revoked")
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      account_id: owner.accountId,
      actor_type: "user",
      actor_id: admin.userId,
      target_type: "oidc_client",
      target_id: "notes-app",
    });
    expect(JSON.parse(events[0]?.changes ?? "{}")).toMatchObject({
      name: "Notes",
      members: 2,
      authorizations: 2,
      scopes: ["email", "openid", "profile"],
    });

    // Once revoked, there is nothing left to revoke.
    const again = await admin.client.delete(`${appsOf(owner.accountId)}/notes-app`);
    expect(again.statusCode, again.payload).toBe(404);
  });

  it("answers 404 for an unknown client, a first-party client and an app only another account authorized", async () => {
    await addClient("elsewhere", "Elsewhere", "third");
    await authorize("g-other-elsewhere", "elsewhere", other.userId, other.accountId, "openid", 8);
    for (const clientId of ["no-such-client", "console", "elsewhere"]) {
      const revoke = await owner.client.delete(`${appsOf(owner.accountId)}/${clientId}`);
      expect(revoke.statusCode, revoke.payload).toBe(404);
      expect(revoke.body.code).toBe("not_found");
    }
    expect(await grantIdsOf(owner.accountId)).toHaveLength(4);
    expect(await grantIdsOf(other.accountId)).toEqual(["g-other-elsewhere", "g-other-notes"]);
    const events = await t.services.db
      .selectFrom("audit_events")
      .select("id")
      .where("action", "=", "oidc.app_revoked")
      .where("target_id", "in", ["no-such-client", "console", "elsewhere"])
      .execute();
    expect(events).toHaveLength(0);
  });
});
