import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { imageUpload, pngImage } from "../testing/images.js";

const DAY = 86_400;

type Person = { client: Client; userId: string; email: string };

describe.each(testDialects())("account closure and deleting one's login on %s", (dialect) => {
  let t: TestApp;
  let serial = 0;

  /**
   * Every table with an `account_id` column, read from the schema itself (not from the code under
   * test), and how many of its rows belong to `accountId`; plus the account row and its audit chain.
   */
  async function rowsOf(accountId: string): Promise<Record<string, number>> {
    const db = t.services.db;
    const tables =
      dialect === "postgres"
        ? (
            await sql<{ table_name: string }>`
              select c.table_name from information_schema.columns c
              join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
              where c.table_schema = current_schema() and c.column_name = 'account_id'
                and t.table_type = 'BASE TABLE'`.execute(db)
          ).rows.map((r) => r.table_name)
        : (
            await sql<{ name: string }>`
              select m.name from sqlite_master m, pragma_table_info(m.name) p
              where m.type = 'table' and p.name = 'account_id'`.execute(db)
          ).rows.map((r) => r.name);
    expect(tables.length).toBeGreaterThan(20);
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const row = await sql<{ n: number | string }>`
        select count(*) as n from ${sql.table(table)} where account_id = ${accountId}`.execute(db);
      const n = Number(row.rows[0]?.n ?? 0);
      if (n > 0) counts[table] = n;
    }
    const account = await db.selectFrom("accounts").select("id").where("id", "=", accountId).execute();
    if (account.length) counts.accounts = account.length;
    const chain = await db
      .selectFrom("audit_chain_heads")
      .select("chain_key")
      .where("chain_key", "=", accountId)
      .execute();
    if (chain.length) counts.audit_chain_heads = chain.length;
    const pointers = await db
      .selectFrom("users")
      .select("id")
      .where("last_account_id", "=", accountId)
      .execute();
    if (pointers.length) counts["users.last_account_id"] = pointers.length;
    return counts;
  }

  const advance = async (seconds: number) => {
    const moved = await t.app.inject({
      method: "POST",
      url: "/dev/clock",
      payload: { advance_seconds: seconds },
    });
    expect(moved.statusCode, moved.payload).toBe(200);
  };
  const runJobs = async () => {
    const ran = await t.app.inject({ method: "POST", url: "/dev/jobs/run" });
    expect(ran.statusCode, ran.payload).toBe(200);
  };
  const login = async (person: Person) => {
    const response = await person.client.post("/api/v1/auth/login", {
      email: person.email,
      password: STRONG_PASSWORD,
    });
    expect(response.statusCode, response.payload).toBe(200);
    return response;
  };
  const mailsTo = (to: string, subject: RegExp) =>
    t.mails.filter((m) => m.to === to && subject.test(m.subject));

  /** An account with something in every corner: members, a team, a custom role, keys, files, invoices… */
  async function fullAccount() {
    const n = ++serial;
    const rootEmail = `close-root-${n}@example.com`;
    const root = await signUpAndLogin(t, { email: rootEmail, name: "Rosa Root", account: `Closing Co ${n}` });
    const base = `/api/v1/accounts/${root.accountId}`;
    // The clock moves by weeks: the default MFA requirement for Root would lock the Root out.
    expect((await root.client.patch(`${base}/security`, { mfa: { required_role_ids: [] } })).statusCode).toBe(
      200,
    );
    const adminEmail = `close-admin-${n}@example.com`;
    const admin = await addMember(t, root, { email: adminEmail, roleKey: "admin" });
    const monitorEmail = `close-monitor-${n}@example.com`;
    const monitor = await addMember(t, root, { email: monitorEmail, roleKey: "monitor" });
    // The admin also runs an account of their own, which must survive this one.
    const other = await admin.client.post("/api/v1/accounts", { name: `Other Co ${n}` });
    expect(other.statusCode, other.payload).toBe(201);
    const card = await root.client.post(`${base}/payment-methods`, { type: "card", token: "tok_visa" });
    expect(card.statusCode, card.payload).toBe(201);
    const paid = await root.client.post(`${base}/billing/subscription`, { plan: "team", interval: "month" });
    expect(paid.statusCode, paid.payload).toBe(200);
    const roles = await root.client.get(`${base}/roles`);
    const monitorRole = (roles.body.data as Array<{ id: string; key: string }>).find(
      (r) => r.key === "monitor",
    );
    const custom = await root.client.post(`${base}/roles`, {
      name: "Auditor",
      description: "Reads the log",
      permissions: ["account:read", "audit:read"],
    });
    expect(custom.statusCode, custom.payload).toBe(201);
    const team = await root.client.post(`${base}/teams`, { name: "Ops", role_id: monitorRole?.id });
    expect(team.statusCode, team.payload).toBe(201);
    expect(
      (await root.client.put(`${base}/teams/${team.body.id}/members`, { user_ids: [monitor.userId] }))
        .statusCode,
    ).toBe(200);
    const invited = await root.client.post(`${base}/invitations`, {
      emails: [`close-pending-${n}@example.com`],
      role_id: monitorRole?.id,
    });
    expect(invited.statusCode, invited.payload).toBe(201);
    const key = await createApiKey({ client: root.client, accountId: root.accountId }, ["account:read"]);
    const hook = await root.client.post(`${base}/webhooks`, {
      url: "http://127.0.0.1:9/gatehouse",
      events: ["*"],
    });
    expect(hook.statusCode, hook.payload).toBe(201);
    const brand = await root.client.patch(`${base}/branding`, { login_message: "Welcome to Closing Co" });
    expect(brand.statusCode, brand.payload).toBe(200);
    const domain = await root.client.post(`${base}/domains`, { hostname: `login${n}.closing.example` });
    expect(domain.statusCode, domain.payload).toBe(201);
    const upload = imageUpload(await pngImage(400, 200), "logo.png");
    const logo = await t.app.inject({
      method: "PUT",
      url: `${base}/logo`,
      payload: upload.payload,
      headers: {
        ...upload.headers,
        cookie: `gatehouse_session=${root.client.cookie}`,
        "x-csrf-token": root.client.csrf as string,
      },
    });
    expect(logo.statusCode, logo.payload).toBe(200);
    await runJobs();
    return {
      base,
      accountId: root.accountId,
      name: `Closing Co ${n}`,
      otherAccountId: other.body.id as string,
      root: { client: root.client, userId: root.userId, email: rootEmail },
      admin: { client: admin.client, userId: admin.userId, email: adminEmail },
      monitor: { client: monitor.client, userId: monitor.userId, email: monitorEmail },
      keyId: key.id,
      monitorRoleId: monitorRole?.id as string,
    };
  }

  beforeAll(async () => {
    t = await createTestApp(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("day 29: a closure cancelled with the mailed link keeps everything; day 31: nothing of the account remains", async () => {
    const a = await fullAccount();
    const before = await rowsOf(a.accountId);
    for (const table of [
      "memberships",
      "roles",
      "teams",
      "team_members",
      "invitations",
      "api_keys",
      "webhook_endpoints",
      "account_branding",
      "account_domains",
      "stored_files",
      "invoices",
      "subscriptions",
      "payment_methods",
      "events",
      "audit_events",
      "notifications",
    ])
      expect(before[table], table).toBeGreaterThan(0);
    const logoKeys = (
      await t.services.db
        .selectFrom("stored_files")
        .select("key")
        .where("account_id", "=", a.accountId)
        .execute()
    ).map((f) => f.key);
    const invoiceNumbers = (
      await t.services.db
        .selectFrom("invoices")
        .select("number")
        .where("account_id", "=", a.accountId)
        .execute()
    ).map((i) => i.number);

    const scheduled = await a.root.client.post(`${a.base}/closure`, { confirm_name: a.name });
    expect(scheduled.statusCode, scheduled.payload).toBe(201);
    expect(scheduled.body).toMatchObject({ status: "scheduled", requested_by: a.root.userId });
    const deleteAt = scheduled.body.delete_at as string;
    expect(Date.parse(deleteAt) - Date.parse(scheduled.body.requested_at)).toBe(30 * DAY * 1000);
    // The subscription ends with its period; the members see the date.
    const billing = await t.services.db
      .selectFrom("subscriptions")
      .select("ends_with")
      .where("account_id", "=", a.accountId)
      .executeTakeFirstOrThrow();
    expect(billing.ends_with).toBe("free");
    const session = await a.monitor.client.get("/api/v1/session");
    expect(session.body.account_closure_delete_at).toBe(deleteAt);
    expect((await a.monitor.client.get(a.base)).body.closure_delete_at).toBe(deleteAt);
    expect((await a.monitor.client.get(`${a.base}/closure`)).body).toMatchObject({
      status: "scheduled",
      delete_at: deleteAt,
    });
    // Every Root and Admin got a cancel link; the monitor did not.
    const rootLink = await t.linkFor(a.root.email, /will be deleted/);
    const adminLink = await t.linkFor(a.admin.email, /will be deleted/);
    expect(rootLink).toMatch(/^http:\/\/gatehouse\.test\/cancel-account-closure\?token=/);
    expect(tokenOf(adminLink)).not.toBe(tokenOf(rootLink));
    expect(mailsTo(a.monitor.email, /will be deleted/)).toHaveLength(0);
    const stored = await t.services.db.selectFrom("account_closure_tokens").select("token_hash").execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(tokenOf(rootLink));

    // Meanwhile: no new invitations, no plan changes.
    const invite = await a.root.client.post(`${a.base}/invitations`, {
      emails: ["late@example.com"],
      role_id: a.monitorRoleId,
    });
    expect(invite.statusCode).toBe(409);
    expect(invite.headers["content-type"]).toContain("application/problem+json");
    expect(invite.body.code).toBe("account_closing");
    const plan = await a.root.client.post(`${a.base}/billing/subscription`, {
      plan: "pro",
      interval: "month",
    });
    expect(plan.statusCode).toBe(409);
    expect(plan.body.code).toBe("account_closing");

    // Day 29: the job runs and deletes nothing; the admin cancels with the mailed link.
    await advance(29 * DAY);
    await runJobs();
    const cancelled = await t.app.inject({
      method: "POST",
      url: "/api/v1/account-closures/cancel",
      payload: { token: tokenOf(adminLink) },
    });
    expect(cancelled.statusCode, cancelled.payload).toBe(200);
    expect(cancelled.json()).toEqual({ status: "cancelled", account_id: a.accountId });
    // Single use, and the root's link of the same closure died with it.
    for (const link of [adminLink, rootLink]) {
      const again = await t.app.inject({
        method: "POST",
        url: "/api/v1/account-closures/cancel",
        payload: { token: tokenOf(link) },
      });
      expect(again.statusCode).toBe(400);
      expect(again.json().code).toBe("invalid_token");
    }
    await runJobs();
    const kept = await rowsOf(a.accountId);
    for (const [table, n] of Object.entries(before)) {
      // Logs only grow; everything else is exactly as it was.
      const logs = [
        "audit_events",
        "events",
        "notifications",
        "webhook_deliveries",
        "webhook_delivery_attempts",
        "api_key_request_logs",
        "api_key_usage_days",
        "usage_counters",
      ];
      if (logs.includes(table)) expect(kept[table], table).toBeGreaterThanOrEqual(n);
      else expect(kept[table], table).toBe(n);
    }
    expect(kept.account_closures).toBeUndefined();
    const restored = await t.services.db
      .selectFrom("subscriptions")
      .select("ends_with")
      .where("account_id", "=", a.accountId)
      .executeTakeFirstOrThrow();
    expect(restored.ends_with).toBeNull();
    const audit = await t.services.db
      .selectFrom("audit_events")
      .select(["action", "actor_id"])
      .where("account_id", "=", a.accountId)
      .where("action", "like", "account.closure%")
      .orderBy("seq")
      .execute();
    expect(audit).toEqual([
      { action: "account.closure_scheduled", actor_id: a.root.userId },
      { action: "account.closure_cancelled", actor_id: a.admin.userId },
    ]);

    // Scheduled again; day 31 after that, the job deletes it all.
    await login(a.root);
    const again = await a.root.client.post(`${a.base}/closure`, { confirm_name: a.name });
    expect(again.statusCode, again.payload).toBe(201);
    await advance(31 * DAY);
    await runJobs();

    expect(await rowsOf(a.accountId)).toEqual({});
    // Invoices stay, without any account reference, for 7 years.
    const retained = await t.services.db
      .selectFrom("retained_invoices")
      .selectAll()
      .where("number", "in", invoiceNumbers)
      .execute();
    expect(retained.map((r) => r.number).sort()).toEqual([...invoiceNumbers].sort());
    expect(retained[0]).not.toHaveProperty("account_id");
    expect(retained[0]?.legal_name).toBe(a.name);
    expect(JSON.parse(retained[0]?.lines ?? "[]").length).toBeGreaterThan(0);
    // Its files are gone from storage.
    for (const key of logoKeys) expect(await t.services.storage.get(key)).toBeUndefined();
    // The people stay: the root (no other account) keeps a login; the admin keeps their own account.
    const rootBack = await login(a.root);
    expect(rootBack.body.account_id).toBeNull();
    const adminBack = await login(a.admin);
    expect(adminBack.body.account_id).toBe(a.otherAccountId);
    expect((await a.admin.client.get(`/api/v1/accounts/${a.otherAccountId}`)).statusCode).toBe(200);
    expect((await a.admin.client.get(a.base)).statusCode).toBe(404);
    // The installation's log records the deletion by id.
    const deleted = await t.services.db
      .selectFrom("audit_events")
      .select(["action", "account_id"])
      .where("target_id", "=", a.accountId)
      .where("action", "=", "account.deleted")
      .execute();
    expect(deleted).toEqual([{ action: "account.deleted", account_id: null }]);

    // Seven years on, the purge deletes the retained invoices.
    await advance(7 * 366 * DAY);
    await runJobs();
    const purged = await t.services.db
      .selectFrom("retained_invoices")
      .select("id")
      .where("number", "in", invoiceNumbers)
      .execute();
    expect(purged).toEqual([]);
  }, 120_000);

  it("needs account:close, fresh authentication and the exact name; DELETE cancels", async () => {
    const n = ++serial;
    const email = `close-perm-${n}@example.com`;
    const root = await signUpAndLogin(t, { email, account: `Perm Co ${n}` });
    const base = `/api/v1/accounts/${root.accountId}`;
    const admin = await addMember(t, root, { email: `close-perm-admin-${n}@example.com`, roleKey: "admin" });

    const byAdmin = await admin.client.post(`${base}/closure`, { confirm_name: `Perm Co ${n}` });
    expect(byAdmin.statusCode).toBe(403);
    expect(byAdmin.body.code).toBe("forbidden");
    expect((await admin.client.delete(`${base}/closure`)).statusCode).toBe(403);

    const wrong = await root.client.post(`${base}/closure`, { confirm_name: `perm co ${n}` });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body.code).toBe("confirmation_mismatch");
    expect(wrong.body.errors).toEqual([expect.objectContaining({ path: "confirm_name" })]);

    // Eleven minutes after the log-in, the session is no longer fresh.
    await advance(11 * 60);
    const stale = await root.client.post(`${base}/closure`, { confirm_name: `Perm Co ${n}` });
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    expect((await root.client.get(`${base}/closure`)).body).toEqual({ status: "none" });

    expect((await root.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    const scheduled = await root.client.post(`${base}/closure`, { confirm_name: `Perm Co ${n}` });
    expect(scheduled.statusCode, scheduled.payload).toBe(201);
    const twice = await root.client.post(`${base}/closure`, { confirm_name: `Perm Co ${n}` });
    expect(twice.statusCode).toBe(409);

    const cancelled = await root.client.delete(`${base}/closure`);
    expect(cancelled.statusCode, cancelled.payload).toBe(200);
    expect(cancelled.body).toEqual({ status: "none" });
    expect((await root.client.delete(`${base}/closure`)).statusCode).toBe(404);
    expect((await root.client.get("/api/v1/session")).body.account_closure_delete_at).toBeNull();
    // The mailed links of a cancelled closure no longer work.
    const link = await t.linkFor(email, /will be deleted/);
    const used = await t.app.inject({
      method: "POST",
      url: "/api/v1/account-closures/cancel",
      payload: { token: tokenOf(link) },
    });
    expect(used.statusCode).toBe(400);
    // Outsiders learn nothing.
    const stranger = await signUpAndLogin(t, { email: `close-stranger-${n}@example.com` });
    expect((await stranger.client.get(`${base}/closure`)).statusCode).toBe(404);
  });

  it("deleting your own login: refused while the only Root, then removes the person and mails them", async () => {
    const n = ++serial;
    const rootEmail = `del-root-${n}@example.com`;
    const root = await signUpAndLogin(t, { email: rootEmail, account: `Del Co ${n}` });
    const base = `/api/v1/accounts/${root.accountId}`;
    const devEmail = `del-dev-${n}@example.com`;
    const dev = await addMember(t, root, { email: devEmail, roleKey: "developer" });
    const devKey = await createApiKey({ client: dev.client, accountId: root.accountId }, ["account:read"]);
    const deleteMe = (client: Client, password: string) =>
      client.request("DELETE", "/api/v1/me", { password });

    const sole = await deleteMe(root.client, STRONG_PASSWORD);
    expect(sole.statusCode).toBe(409);
    expect(sole.body.code).toBe("sole_root");
    expect(sole.body.accounts).toEqual([{ id: root.accountId, name: `Del Co ${n}` }]);

    const wrong = await deleteMe(dev.client, "not-the-password-1");
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body.code).toBe("incorrect_password");
    expect(
      await t.services.db.selectFrom("users").select("id").where("id", "=", dev.userId).execute(),
    ).toHaveLength(1);

    const done = await deleteMe(dev.client, STRONG_PASSWORD);
    expect(done.statusCode, done.payload).toBe(204);
    const db = t.services.db;
    expect(await db.selectFrom("users").select("id").where("id", "=", dev.userId).execute()).toEqual([]);
    expect(
      await db.selectFrom("memberships").select("id").where("user_id", "=", dev.userId).execute(),
    ).toEqual([]);
    expect(await db.selectFrom("sessions").select("id").where("user_id", "=", dev.userId).execute()).toEqual(
      [],
    );
    expect(await db.selectFrom("api_keys").select("id").where("id", "=", devKey.id).execute()).toEqual([]);
    // The log keeps the bare id as the actor; the mailbox gets a confirmation.
    const audit = await db
      .selectFrom("audit_events")
      .select(["actor_id", "action"])
      .where("action", "=", "user.deleted")
      .where("target_id", "=", dev.userId)
      .execute();
    expect(audit).toEqual([{ actor_id: dev.userId, action: "user.deleted" }]);
    await t.services.jobs.idle();
    expect(mailsTo(devEmail, /login was deleted/)).toHaveLength(1);
    const relogin = await createClient(t.app).post("/api/v1/auth/login", {
      email: devEmail,
      password: STRONG_PASSWORD,
    });
    expect(relogin.statusCode).toBe(401);
    expect((await root.client.get(`${base}/members/${dev.userId}`)).statusCode).toBe(404);

    // The only Root of an account scheduled for closure may go: that account no longer counts. Its
    // closure can then no longer be cancelled: the links mailed for it die.
    const admin = await addMember(t, root, { email: `del-admin-${n}@example.com`, roleKey: "admin" });
    const closing = await root.client.post(`${base}/closure`, { confirm_name: `Del Co ${n}` });
    expect(closing.statusCode, closing.payload).toBe(201);
    const adminLink = await t.linkFor(`del-admin-${n}@example.com`, /will be deleted/);
    expect((await deleteMe(root.client, STRONG_PASSWORD)).statusCode).toBe(204);
    const late = await t.app.inject({
      method: "POST",
      url: "/api/v1/account-closures/cancel",
      payload: { token: tokenOf(adminLink) },
    });
    expect(late.statusCode).toBe(400);
    expect((await admin.client.get(`${base}/closure`)).body.status).toBe("scheduled");
  });

  it("removing a member deletes their API keys and what they had tied to that account", async () => {
    const n = ++serial;
    const root = await signUpAndLogin(t, { email: `rm-root-${n}@example.com`, account: `Rm Co ${n}` });
    const base = `/api/v1/accounts/${root.accountId}`;
    const dev = await addMember(t, root, { email: `rm-dev-${n}@example.com`, roleKey: "developer" });
    const key = await createApiKey({ client: dev.client, accountId: root.accountId }, ["account:read"]);
    const db = t.services.db;
    await db
      .insertInto("notifications")
      .values({
        id: `ntf_rm${n}`,
        user_id: dev.userId,
        account_id: root.accountId,
        event_id: null,
        type: "member.joined",
        title: "Someone joined",
        body: "",
        link: null,
        read_at: null,
        created_at: new Date().toISOString(),
      })
      .execute();
    const pointer = await db
      .selectFrom("users")
      .select("last_account_id")
      .where("id", "=", dev.userId)
      .executeTakeFirst();
    expect(pointer?.last_account_id).toBe(root.accountId);

    const removed = await root.client.delete(`${base}/members/${dev.userId}`);
    expect(removed.statusCode, removed.payload).toBe(204);
    expect(await db.selectFrom("api_keys").select("id").where("id", "=", key.id).execute()).toEqual([]);
    expect(
      await db
        .selectFrom("notifications")
        .select("id")
        .where("user_id", "=", dev.userId)
        .where("account_id", "=", root.accountId)
        .execute(),
    ).toEqual([]);
    const after = await db
      .selectFrom("users")
      .select("last_account_id")
      .where("id", "=", dev.userId)
      .executeTakeFirst();
    expect(after?.last_account_id).toBeNull();
  });
});
