import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../mfa/totp.js";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  statementsDuring,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

/**
 * Query budgets of the hot authenticated reads: a warm cache answers them without any SQL statement.
 * Counted, not timed: a change that adds a query to one of these paths fails here.
 */
describe.each(testDialects())("query budgets on %s", (dialect) => {
  let t: TestApp;
  let serial = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const owner = () => signUpAndLogin(t, { email: `budget-${++serial}@example.com`, account: "Budget Co" });

  /**
   * Statements of one request once the cache is warm. On PostgreSQL a process also hears its own
   * notifications (the log-in's, for one) a moment after the commit, which empties the entry it warmed
   * once more: warm means after that, so this waits (up to 2 s) for a request that costs nothing.
   */
  async function warmStatements(request: () => Promise<{ statusCode: number }>) {
    let last: string[] = [];
    await expect
      .poll(
        async () => {
          last = await statementsDuring(t, async () => expect((await request()).statusCode).toBe(200));
          return last.length;
        },
        { timeout: 2000, interval: 20 },
      )
      .toBe(0)
      .catch(() => {});
    return last;
  }

  it("GET /session and GET /me cost no statement on a warm cache", async () => {
    const { client, userId } = await owner();
    for (const url of ["/api/v1/session", "/api/v1/me"]) {
      expect(await warmStatements(() => client.get(url)), url).toEqual([]);
    }
    // Warm, the profile comes at once: the handlers answer without a promise.
    const me = t.services.users.getMe(userId);
    expect(me).not.toBeInstanceOf(Promise);
    expect(me).toMatchObject({ user: { id: userId } });
  });

  it("an authorization check costs no statement on a warm cache", async () => {
    const { client, accountId, userId } = await owner();
    const check = () =>
      client.post("/api/v1/authz/check", {
        account_id: accountId,
        user_id: userId,
        permission: "members:read",
      });
    expect((await check()).body).toEqual({ allowed: true, reason: "granted" });
    const statements = await warmStatements(check);
    expect(statements).toEqual([]);
  });
});

type Shown = { me: Record<string, unknown>; session: Record<string, unknown> };

async function shown(client: Client): Promise<Shown> {
  const me = await client.get("/api/v1/me");
  const session = await client.get("/api/v1/session");
  expect(me.statusCode, me.payload).toBe(200);
  expect(session.statusCode, session.payload).toBe(200);
  return { me: me.body, session: session.body };
}

const accountNames = (me: Record<string, unknown>) =>
  (me.memberships as Array<{ account_name: string }>).map((m) => m.account_name).sort();
const roleKeys = (me: Record<string, unknown>) =>
  (me.memberships as Array<{ role: { key: string } }>).map((m) => m.role.key);

/**
 * Each kind of change shows in the very next /me and /session of the process that made it, and (on
 * PostgreSQL) of another process that had them cached, as soon as the change's notification arrives.
 */
describe.each(testDialects())("what /me and /session show stays fresh on %s", (dialect) => {
  let t: TestApp;
  let other: { app: TestApp["app"] } | undefined;
  let serial = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    if (dialect === "postgres") other = await t.sibling();
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  /** The same session seen through this process and, on PostgreSQL, another one; both warmed. */
  async function watched(client: Client) {
    const views = [client];
    if (other) {
      const elsewhere = createClient(other.app);
      elsewhere.cookie = client.cookie;
      elsewhere.csrf = client.csrf;
      views.push(elsewhere);
    }
    for (const view of views) {
      await shown(view);
      await shown(view);
    }
    return {
      /** Asserts what every process shows, right away here and once the notification arrives there. */
      async expectShown(check: (s: Shown) => void) {
        check(await shown(client));
        for (const view of views.slice(1)) {
          await expect
            .poll(
              async () => {
                try {
                  check(await shown(view));
                  return true;
                } catch {
                  return false;
                }
              },
              { timeout: 2000, interval: 5 },
            )
            .toBe(true);
        }
      },
    };
  }

  const owner = () =>
    signUpAndLogin(t, { email: `fresh-${++serial}@example.com`, account: `Fresh Co ${serial}` });

  it("a profile update", async () => {
    const { client } = await owner();
    const views = await watched(client);
    expect((await client.patch("/api/v1/me", { first_name: "Renamed" })).statusCode).toBe(200);
    await views.expectShown((s) => {
      expect(s.me.first_name).toBe("Renamed");
      expect((s.session.user as { first_name: string }).first_name).toBe("Renamed");
    });
  });

  it("MFA enrolled, then removed", async () => {
    const { client } = await owner();
    const views = await watched(client);
    const start = await client.post("/api/v1/me/mfa/totp", {});
    const code = newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() });
    const verified = await client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, { code });
    expect(verified.statusCode, verified.payload).toBe(200);
    await views.expectShown((s) => {
      expect(s.me.mfa_enabled).toBe(true);
      expect((s.session.user as { mfa_enabled: boolean }).mfa_enabled).toBe(true);
    });
    const disabled = await client.post("/api/v1/me/mfa/disable", { password: STRONG_PASSWORD });
    expect(disabled.statusCode, disabled.payload).toBe(204);
    await views.expectShown((s) => expect(s.me.mfa_enabled).toBe(false));
  });

  it("a role change, a suspension and a removal", async () => {
    const root = await owner();
    const member = await addMember(t, root, { email: `fresh-member-${serial}@example.com` });
    const views = await watched(member.client);
    const roles = await root.client.get(`/api/v1/accounts/${root.accountId}/roles`);
    const admin = (roles.body.data as Array<{ id: string; key: string }>).find((r) => r.key === "admin");
    const base = `/api/v1/accounts/${root.accountId}/members/${member.userId}`;
    expect((await root.client.patch(base, { role_id: admin?.id })).statusCode).toBe(200);
    await views.expectShown((s) => expect(roleKeys(s.me)).toEqual(["admin"]));
    // Suspended or removed: their sessions end (which drops what was cached of them); a new log-in
    // sees the account gone from the list.
    const email = `fresh-member-${serial}@example.com`;
    const own = await member.client.post("/api/v1/accounts", { name: `Own Co ${serial}` });
    expect(own.statusCode, own.payload).toBe(201);
    const suspended = await root.client.post(`${base}/suspend`);
    expect(suspended.statusCode, suspended.payload).toBe(200);
    const again = createClient(t.app);
    await again.post("/api/v1/auth/login", { email, password: member.password });
    const views2 = await watched(again);
    await views2.expectShown((s) => expect(accountNames(s.me)).toEqual([`Own Co ${serial}`]));
    const removed = await root.client.delete(base);
    expect(removed.statusCode, removed.payload).toBe(204);
    await views2.expectShown((s) => expect(accountNames(s.me)).toEqual([`Own Co ${serial}`]));
  });

  it("a membership added (a new account) and the account renamed", async () => {
    const { client, accountId } = await owner();
    const views = await watched(client);
    const created = await client.post("/api/v1/accounts", { name: `Second Co ${serial}` });
    expect(created.statusCode, created.payload).toBe(201);
    await views.expectShown((s) => expect(accountNames(s.me)).toContain(`Second Co ${serial}`));
    const renamed = await client.patch(`/api/v1/accounts/${accountId}`, { name: `Renamed Co ${serial}` });
    expect(renamed.statusCode, renamed.payload).toBe(200);
    await views.expectShown((s) => expect(accountNames(s.me)).toContain(`Renamed Co ${serial}`));
  });

  it("a role renamed", async () => {
    const root = await owner();
    const member = await addMember(t, root, {
      email: `fresh-role-${serial}@example.com`,
      roleKey: "monitor",
    });
    const views = await watched(member.client);
    const roles = await root.client.get(`/api/v1/accounts/${root.accountId}/roles`);
    const created = await root.client.post(`/api/v1/accounts/${root.accountId}/roles`, {
      name: "Watcher",
      description: "Looks",
      permissions: ["members:read"],
    });
    expect(created.statusCode, created.payload).toBe(201);
    expect(roles.statusCode).toBe(200);
    const assigned = await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
      role_id: created.body.id,
    });
    expect(assigned.statusCode, assigned.payload).toBe(200);
    await views.expectShown((s) =>
      expect((s.me.memberships as Array<{ role: { name: string } }>)[0]?.role.name).toBe("Watcher"),
    );
    const renamed = await root.client.patch(`/api/v1/accounts/${root.accountId}/roles/${created.body.id}`, {
      name: "Observer",
    });
    expect(renamed.statusCode, renamed.payload).toBe(200);
    await views.expectShown((s) =>
      expect((s.me.memberships as Array<{ role: { name: string } }>)[0]?.role.name).toBe("Observer"),
    );
  });

  it("a closure scheduled, then cancelled", async () => {
    const { client, accountId } = await owner();
    const views = await watched(client);
    const scheduled = await client.post(`/api/v1/accounts/${accountId}/closure`, {
      confirm_name: `Fresh Co ${serial}`,
    });
    expect(scheduled.statusCode, scheduled.payload).toBeLessThan(300);
    await views.expectShown((s) => expect(s.session.account_closure_delete_at).toEqual(expect.any(String)));
    const cancelled = await client.delete(`/api/v1/accounts/${accountId}/closure`);
    expect(cancelled.statusCode, cancelled.payload).toBeLessThan(300);
    await views.expectShown((s) => expect(s.session.account_closure_delete_at).toBeNull());
  });
});
