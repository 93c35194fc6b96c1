import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

describe.each(testDialects())("members and invitations on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const rolesOf = async (client: ReturnType<typeof createClient>, accountId: string) =>
    Object.fromEntries(
      (
        (await client.get(`/api/v1/accounts/${accountId}/roles`)).body.data as Array<{
          key: string;
          id: string;
        }>
      ).map((r) => [r.key, r.id]),
    );

  it("invites several addresses with per-address results, mails each a 7-day link, and lists them as pending", async () => {
    const owner = await signUpAndLogin(t, { email: "owner-inv@example.com", account: "Inviters" });
    // Four seats: more than Free has (the limit itself is tested in src/billing/seats.test.ts).
    await onPaidPlan(t, owner.accountId);
    const roles = await rolesOf(owner.client, owner.accountId);
    await addMember(t, owner, { email: "already@example.com", roleKey: "developer" });
    const response = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: [
        "New.One@example.com",
        "two@example.com",
        "not-an-email",
        "already@example.com",
        "two@example.com",
      ],
      role_id: roles.developer,
    });
    expect(response.statusCode).toBe(201);
    const byEmail = Object.fromEntries(response.body.data.map((r: { email: string }) => [r.email, r]));
    expect(byEmail["New.One@example.com"].invitation).toMatchObject({
      status: "pending",
      role: { key: "developer" },
    });
    expect(byEmail["not-an-email"].error.code).toBe("invalid_email");
    expect(byEmail["already@example.com"].error.code).toBe("already_member");
    expect(response.body.data[4].error.code).toBe("duplicate");

    const again = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: ["new.one@example.com"],
      role_id: roles.developer,
    });
    expect(again.body.data[0].error.code).toBe("already_invited");

    const link = await t.linkFor("New.One@example.com", /invited to join Inviters/);
    expect(link).toMatch(/^http:\/\/gatehouse\.test\/accept-invitation\?token=[\w-]+$/);
    const expires = Date.parse(byEmail["New.One@example.com"].invitation.expires_at) - Date.now();
    expect(Math.round(expires / 86_400_000)).toBe(7);

    const list = await owner.client.get(`/api/v1/accounts/${owner.accountId}/members?status=pending`);
    expect(list.body.data.map((m: { email: string }) => m.email).sort()).toEqual([
      "New.One@example.com",
      "two@example.com",
    ]);
    expect(list.body.data[0]).toMatchObject({
      status: "pending",
      user_id: null,
      invitation_id: expect.stringMatching(/^inv_/),
    });
    expect(list.body.counts).toEqual({ active: 4, suspended: 0, pending: 2 });
    const seats = await owner.client.get(`/api/v1/accounts/${owner.accountId}/seats`);
    expect(seats.body).toMatchObject({ used: 4, active: 2, suspended: 0, pending: 2 });
  });

  it("lets a new person accept with name and password, and an existing user accept while logged in as that address", async () => {
    const owner = await signUpAndLogin(t, { email: "owner-acc@example.com", account: "Acceptors" });
    const roles = await rolesOf(owner.client, owner.accountId);
    await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: ["fresh@example.com"],
      role_id: roles.monitor,
    });
    const token = tokenOf(await t.linkFor("fresh@example.com", /invited/));
    const lookup = await createClient(t.app).get(`/api/v1/invitations/lookup?token=${token}`);
    expect(lookup.body).toMatchObject({
      email: "fresh@example.com",
      account_name: "Acceptors",
      existing_user: false,
      role_name: "Monitor",
    });

    const weak = await createClient(t.app).post("/api/v1/invitations/accept", {
      token,
      password: "short",
      first_name: "Fresh",
    });
    expect(weak.statusCode).toBe(422);
    const newcomer = createClient(t.app);
    const ok = await newcomer.post("/api/v1/invitations/accept", {
      token,
      password: STRONG_PASSWORD,
      first_name: "Fresh",
      last_name: "Face",
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toMatchObject({
      account_id: owner.accountId,
      user: { email: "fresh@example.com", email_verified: true },
    });
    expect((await newcomer.get("/api/v1/me")).body.memberships[0].role.key).toBe("monitor");
    expect(
      (
        await createClient(t.app).post("/api/v1/invitations/accept", {
          token,
          password: STRONG_PASSWORD,
          first_name: "X",
        })
      ).body.code,
    ).toBe("invalid_token");

    // An existing user of another account.
    const other = await signUpAndLogin(t, { email: "existing@example.com", account: "Elsewhere" });
    await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: ["existing@example.com"],
      role_id: roles.developer,
    });
    const token2 = tokenOf(await t.linkFor("existing@example.com", /invited/));
    expect(
      (await createClient(t.app).get(`/api/v1/invitations/lookup?token=${token2}`)).body.existing_user,
    ).toBe(true);
    expect((await createClient(t.app).post("/api/v1/invitations/accept", { token: token2 })).statusCode).toBe(
      401,
    );
    expect((await newcomer.post("/api/v1/invitations/accept", { token: token2 })).body.code).toBe(
      "wrong_user",
    );
    const joined = await other.client.post("/api/v1/invitations/accept", { token: token2 });
    expect(joined.statusCode).toBe(200);
    expect(joined.body.account_id).toBe(owner.accountId);
    const accounts = await other.client.get("/api/v1/accounts");
    expect(accounts.body.data.map((a: { name: string }) => a.name).sort()).toEqual([
      "Acceptors",
      "Elsewhere",
    ]);
  });

  it("accepting one invitation twice at once creates one membership", async () => {
    const owner = await signUpAndLogin(t, { email: "owner-race@example.com" });
    await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: ["racer@example.com"],
    });
    const token = tokenOf(await t.linkFor("racer@example.com", /invited/));
    const results = await Promise.all(
      [1, 2].map(() =>
        createClient(t.app).post("/api/v1/invitations/accept", {
          token,
          password: STRONG_PASSWORD,
          first_name: "Racer",
        }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    const users = await t.services.db
      .selectFrom("users")
      .select("id")
      .where("email_normalized", "=", "racer@example.com")
      .execute();
    expect(users).toHaveLength(1);
    const memberships = await t.services.db
      .selectFrom("memberships")
      .select("id")
      .where("account_id", "=", owner.accountId)
      .execute();
    expect(memberships).toHaveLength(2);
  });

  it("resends with limits, revokes, and lists invitation statuses including expired", async () => {
    const owner = await signUpAndLogin(t, { email: "owner-resend@example.com" });
    // Days pass in this test: keep it about invitations, not the Root's required second factor.
    await owner.client.patch(`/api/v1/accounts/${owner.accountId}/security`, {
      mfa: { required_role_ids: [] },
    });
    const sent = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: ["later@example.com", "gone@example.com"],
    });
    expect(sent.statusCode, sent.payload).toBe(201);
    const [later, gone] = sent.body.data.map((r: { invitation: { id: string } }) => r.invitation.id);
    const first = tokenOf(await t.linkFor("later@example.com", /invited/));
    expect(
      (await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations/${later}/resend`)).statusCode,
    ).toBe(429);
    t.services.clock.advance(61);
    const resent = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations/${later}/resend`);
    expect(resent.statusCode).toBe(200);
    expect(resent.body.send_count).toBe(2);
    await expect
      .poll(async () => tokenOf(await t.linkFor("later@example.com", /invited/)) !== first)
      .toBe(true);
    expect((await createClient(t.app).get(`/api/v1/invitations/lookup?token=${first}`)).body.code).toBe(
      "invalid_token",
    );

    expect(
      (await owner.client.delete(`/api/v1/accounts/${owner.accountId}/invitations/${gone}`)).statusCode,
    ).toBe(204);
    const revoked = await owner.client.get(`/api/v1/accounts/${owner.accountId}/invitations?status=revoked`);
    expect(revoked.body.data.map((i: { email: string }) => i.email)).toEqual(["gone@example.com"]);

    t.services.clock.advance(8 * 86400);
    await owner.client.post("/api/v1/auth/login", {
      email: "owner-resend@example.com",
      password: STRONG_PASSWORD,
    });
    const expired = await owner.client.get(`/api/v1/accounts/${owner.accountId}/invitations?status=expired`);
    expect(expired.body.data.map((i: { email: string }) => i.email)).toEqual(["later@example.com"]);
    // Expired and revoked invitations are neither pending members nor seats.
    const afterExpiry = await owner.client.get(`/api/v1/accounts/${owner.accountId}/members`);
    expect(afterExpiry.body.counts.pending).toBe(0);
    expect(afterExpiry.body.data.map((m: { status: string }) => m.status)).toEqual(["active"]);
    // An expired invitation no longer blocks a new one.
    const renewed = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
      emails: ["later@example.com"],
    });
    expect(renewed.body.data[0].invitation.status).toBe("pending");
  });

  it("applies the role rules: no self-change, Root only by Root, no escalation, always one active Root", async () => {
    const root = await signUpAndLogin(t, { email: "root-rules@example.com" });
    await onPaidPlan(t, root.accountId);
    const roles = await rolesOf(root.client, root.accountId);
    const admin = await addMember(t, root, { email: "admin-rules@example.com", roleKey: "admin" });
    const dev = await addMember(t, root, { email: "dev-rules@example.com", roleKey: "developer" });
    const base = `/api/v1/accounts/${root.accountId}/members`;

    expect((await root.client.patch(`${base}/${root.userId}`, { role_id: roles.admin })).body.code).toBe(
      "self_change",
    );
    expect((await admin.client.patch(`${base}/${root.userId}`, { role_id: roles.monitor })).body.code).toBe(
      "root_only",
    );
    expect((await admin.client.patch(`${base}/${dev.userId}`, { role_id: roles.root })).body.code).toBe(
      "root_only",
    );
    expect((await admin.client.post(`${base}/${root.userId}/suspend`)).body.code).toBe("root_only");

    // A custom role with a permission the admin lacks (account:close) cannot be created by the admin…
    const escalate = await admin.client.post(`/api/v1/accounts/${root.accountId}/roles`, {
      name: "Closer",
      permissions: ["account:close"],
    });
    expect(escalate.body.code).toBe("privilege_escalation");
    // …nor granted by them when Root made it.
    const closer = await root.client.post(`/api/v1/accounts/${root.accountId}/roles`, {
      name: "Closer",
      permissions: ["account:close", "account:read"],
    });
    expect(closer.statusCode).toBe(201);
    expect((await admin.client.patch(`${base}/${dev.userId}`, { role_id: closer.body.id })).body.code).toBe(
      "privilege_escalation",
    );
    expect(
      (
        await admin.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
          emails: ["x@example.com"],
          role_id: closer.body.id,
        })
      ).body.code,
    ).toBe("privilege_escalation");

    // A developer cannot manage members at all.
    expect((await dev.client.patch(`${base}/${admin.userId}`, { role_id: roles.monitor })).statusCode).toBe(
      403,
    );

    // The last active Root stays.
    const second = await addMember(t, root, { email: "root2-rules@example.com", roleKey: "monitor" });
    expect((await root.client.patch(`${base}/${second.userId}`, { role_id: roles.root })).statusCode).toBe(
      200,
    );
    expect((await second.client.patch(`${base}/${root.userId}`, { role_id: roles.admin })).statusCode).toBe(
      200,
    );
    const lastRoot = await root.client.get(`${base}?role_id=${roles.root}`);
    expect(lastRoot.body.data.map((m: { email: string }) => m.email)).toEqual(["root2-rules@example.com"]);
    // Now `root` is an admin and cannot touch the remaining Root.
    expect((await root.client.delete(`${base}/${second.userId}`)).body.code).toBe("root_only");
  });

  it("two Roots demoting each other at once leave one Root", async () => {
    const a = await signUpAndLogin(t, { email: "root-a@example.com" });
    const roles = await rolesOf(a.client, a.accountId);
    const b = await addMember(t, a, { email: "root-b@example.com", roleKey: "admin" });
    expect(
      (await a.client.patch(`/api/v1/accounts/${a.accountId}/members/${b.userId}`, { role_id: roles.root }))
        .statusCode,
    ).toBe(200);
    const [one, two] = await Promise.all([
      a.client.patch(`/api/v1/accounts/${a.accountId}/members/${b.userId}`, { role_id: roles.admin }),
      b.client.patch(`/api/v1/accounts/${a.accountId}/members/${a.userId}`, { role_id: roles.admin }),
    ]);
    // Whichever runs second finds either the last Root (409) or that it is no longer Root itself (403).
    const loser = one.statusCode === 200 ? two : one;
    expect([one.statusCode, two.statusCode]).toContain(200);
    expect(["last_root", "root_only"]).toContain(loser.body.code);
    const roots = await a.client
      .get(`/api/v1/accounts/${a.accountId}/members?role_id=${roles.root}`)
      .catch(() => undefined);
    const viaB = await b.client.get(`/api/v1/accounts/${a.accountId}/members?role_id=${roles.root}`);
    const rootList = (roots?.statusCode === 200 ? roots : viaB).body.data;
    expect(rootList).toHaveLength(1);
  });

  it("suspends (no log-in to that account, sessions end, authz denies), reactivates, logs out, forces a reset, removes and re-invites", async () => {
    const root = await signUpAndLogin(t, { email: "root-life@example.com", account: "Lifecycle" });
    const member = await addMember(t, root, { email: "life@example.com", roleKey: "developer" });
    const base = `/api/v1/accounts/${root.accountId}/members/${member.userId}`;
    const check = () =>
      root.client.post("/api/v1/authz/check", {
        account_id: root.accountId,
        user_id: member.userId,
        permission: "resources:write",
      });
    expect((await check()).body).toEqual({ allowed: true, reason: "granted" });

    const suspended = await root.client.post(`${base}/suspend`);
    expect(suspended.body.status).toBe("suspended");
    expect((await member.client.get("/api/v1/me")).statusCode).toBe(401);
    expect((await check()).body).toEqual({ allowed: false, reason: "suspended" });
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "life@example.com",
      password: member.password,
    });
    expect(login.statusCode).toBe(403);
    expect(login.body.code).toBe("membership_suspended");
    const counts = (await root.client.get(`/api/v1/accounts/${root.accountId}/members`)).body.counts;
    expect(counts).toMatchObject({ active: 1, suspended: 1 });
    expect((await root.client.get(`/api/v1/accounts/${root.accountId}/seats`)).body.used).toBe(2);

    expect((await root.client.post(`${base}/reactivate`)).body.status).toBe("active");
    const again = createClient(t.app);
    expect(
      (await again.post("/api/v1/auth/login", { email: "life@example.com", password: member.password }))
        .statusCode,
    ).toBe(200);
    expect((await check()).body.allowed).toBe(true);

    expect((await root.client.post(`${base}/logout`)).body.revoked).toBeGreaterThanOrEqual(1);
    expect((await again.get("/api/v1/me")).statusCode).toBe(401);

    expect((await root.client.post(`${base}/force-password-reset`)).statusCode).toBe(204);
    const forced = createClient(t.app);
    const forcedLogin = await forced.post("/api/v1/auth/login", {
      email: "life@example.com",
      password: member.password,
    });
    expect(forcedLogin.body.password_change_required).toBe(true);
    expect((await forced.get(`/api/v1/accounts/${root.accountId}/members`)).body.code).toBe(
      "password_change_required",
    );
    await forced.post("/api/v1/me/password", {
      current_password: member.password,
      new_password: "Brand-New-Lantern-55",
    });

    expect((await root.client.delete(base)).statusCode).toBe(204);
    expect((await forced.get("/api/v1/me")).statusCode).toBe(401);
    expect((await check()).body).toEqual({ allowed: false, reason: "not_member" });
    const events = await t.services.db
      .selectFrom("audit_events")
      .select("action")
      .where("account_id", "=", root.accountId)
      .where("target_id", "=", member.userId)
      .execute();
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        "member.suspended",
        "member.reactivated",
        "member.logged_out",
        "member.password_reset_forced",
        "member.removed",
      ]),
    );

    // A removed user can be invited back.
    const reinvite = await root.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: ["life@example.com"],
    });
    expect(reinvite.body.data[0].invitation.status).toBe("pending");
  });

  it("bulk removal is all or nothing", async () => {
    const root = await signUpAndLogin(t, { email: "root-bulk@example.com" });
    const a = await addMember(t, root, { email: "bulk-a@example.com" });
    const b = await addMember(t, root, { email: "bulk-b@example.com" });
    const refused = await root.client.post(`/api/v1/accounts/${root.accountId}/members/bulk-delete`, {
      user_ids: [a.userId, root.userId],
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.body.errors[0]).toMatchObject({ path: "user_ids.1", code: "self_change" });
    expect((await a.client.get("/api/v1/me")).statusCode).toBe(200);
    const ok = await root.client.post(`/api/v1/accounts/${root.accountId}/members/bulk-delete`, {
      user_ids: [a.userId, b.userId],
    });
    expect(ok.body.data).toEqual([
      { user_id: a.userId, removed: true },
      { user_id: b.userId, removed: true },
    ]);
    expect((await root.client.get(`/api/v1/accounts/${root.accountId}/members`)).body.data).toHaveLength(1);
  });

  it("searches, filters, sorts and pages the member list", async () => {
    const root = await signUpAndLogin(t, { email: "root-list@example.com", name: "Zed Root" });
    await onPaidPlan(t, root.accountId);
    await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, {
      mfa: { required_role_ids: [] },
    });
    const roles = await rolesOf(root.client, root.accountId);
    for (const [i, name] of ["Alice", "Bob", "Carol", "Dave", "Eve"].entries()) {
      await addMember(t, root, {
        email: `${name.toLowerCase()}-list@example.com`,
        firstName: name,
        roleKey: i % 2 ? "developer" : "monitor",
      });
    }
    const base = `/api/v1/accounts/${root.accountId}/members`;
    const names = (r: { body: Record<string, unknown> }) =>
      (r.body.data as Array<{ first_name: string }>).map((m) => m.first_name);
    expect(names(await root.client.get(`${base}?q=car`))).toEqual(["Carol"]);
    expect(names(await root.client.get(`${base}?role_id=${roles.developer}`))).toEqual(["Bob", "Dave"]);
    expect(names(await root.client.get(`${base}?sort=name&order=desc&status=active`))).toEqual([
      "Zed",
      "Eve",
      "Dave",
      "Carol",
      "Bob",
      "Alice",
    ]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await root.client.get(`${base}?status=active&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...names(page));
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(seen).toEqual(["Alice", "Bob", "Carol", "Dave", "Eve", "Zed"]);
    t.services.clock.advance(40 * 86400);
    await root.client.post("/api/v1/auth/login", {
      email: "root-list@example.com",
      password: STRONG_PASSWORD,
    });
    const inactive = await root.client.get(`${base}?inactive_days=30`);
    // Everyone but root, who just logged in again, has been away for 40 days.
    expect(names(inactive)).toEqual(["Alice", "Bob", "Carol", "Dave", "Eve"]);
    expect((await root.client.get(`${base}?cursor=garbage`)).statusCode).toBe(400);
    expect((await root.client.get(`${base}?limit=500`)).statusCode).toBe(400);
  });
});
