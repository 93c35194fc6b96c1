import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../mfa/totp.js";
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
    // "Active" means active members everywhere: pending invitations are counted only as pending.
    expect(list.body.counts).toEqual({ active: 2, suspended: 0, deactivated: 0, pending: 2 });
    const seats = await owner.client.get(`/api/v1/accounts/${owner.accountId}/seats`);
    expect(seats.body).toMatchObject({ used: 4, active: 2, suspended: 0, deactivated: 0, pending: 2 });
    expect(seats.body.active).toBe(list.body.counts.active);
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
    // Each item carries the account's slug, the same as the account itself says.
    for (const item of accounts.body.data as Array<{ id: string; slug: string }>) {
      const account = await (item.id === owner.accountId ? owner.client : other.client).get(
        `/api/v1/accounts/${item.id}`,
      );
      expect(item.slug).toBe(account.body.slug);
      expect(item.slug).toMatch(/^[a-z0-9-]+$/);
    }
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

  it("shows a member who deactivated their own login as deactivated in every account: list, filter, counts, authz; still a seat", async () => {
    const root = await signUpAndLogin(t, { email: "root-deact@example.com", account: "Deact One" });
    const member = await addMember(t, root, { email: "gone@example.com", roleKey: "developer" });
    // The same person is a member of a second account too.
    const other = await signUpAndLogin(t, { email: "root-deact2@example.com", account: "Deact Two" });
    await other.client.post(`/api/v1/accounts/${other.accountId}/invitations`, {
      emails: ["gone@example.com"],
    });
    const token = tokenOf(await t.linkFor("gone@example.com", /invited to join Deact Two/));
    expect((await member.client.post("/api/v1/invitations/accept", { token })).statusCode).toBe(200);

    const check = (admin: typeof root) =>
      admin.client.post("/api/v1/authz/check", {
        account_id: admin.accountId,
        user_id: member.userId,
        permission: "members:read",
      });
    expect((await check(root)).body).toEqual({ allowed: true, reason: "granted" }); // now cached
    const base = (admin: typeof root) => `/api/v1/accounts/${admin.accountId}/members`;
    expect((await root.client.get(base(root))).body.counts.active).toBe(2); // now cached

    expect(
      (await member.client.post("/api/v1/me/deactivate", { password: member.password })).statusCode,
    ).toBe(204);

    for (const admin of [root, other]) {
      const list = await admin.client.get(base(admin));
      const row = list.body.data.find((m: { user_id: string }) => m.user_id === member.userId);
      expect(row.status).toBe("deactivated");
      expect((await admin.client.get(`${base(admin)}/${member.userId}`)).body.status).toBe("deactivated");
      expect(list.body.counts).toEqual({ active: 1, suspended: 0, deactivated: 1, pending: 0 });
      const only = await admin.client.get(`${base(admin)}?status=deactivated`);
      expect(only.body.data.map((m: { user_id: string }) => m.user_id)).toEqual([member.userId]);
      const active = await admin.client.get(`${base(admin)}?status=active`);
      expect(active.body.data.map((m: { user_id: string }) => m.user_id)).toEqual([admin.userId]);
      expect((await admin.client.get(`${base(admin)}?status=suspended`)).body.data).toEqual([]);
      // Still a seat, like a suspended member.
      const seats = await admin.client.get(`/api/v1/accounts/${admin.accountId}/seats`);
      expect(seats.body).toMatchObject({ used: 2, active: 1, suspended: 0, deactivated: 1, pending: 0 });
      expect((await check(admin)).body).toEqual({ allowed: false, reason: "deactivated" });
    }
    // Only they can turn their login back on: an admin's "reactivate" is for suspensions.
    const adminReactivate = await root.client.post(`${base(root)}/${member.userId}/reactivate`);
    expect(adminReactivate.statusCode).toBe(409);
    expect((await root.client.get(`${base(root)}/${member.userId}`)).body.status).toBe("deactivated");
    // A suspension by the account shows first; lifting it leaves the login's own state.
    expect((await root.client.post(`${base(root)}/${member.userId}/suspend`)).body.status).toBe("suspended");
    expect((await check(root)).body.reason).toBe("suspended");
    expect((await root.client.post(`${base(root)}/${member.userId}/reactivate`)).body.status).toBe(
      "deactivated",
    );

    // Reactivating through the mailed link makes them active again everywhere.
    const attempt = await createClient(t.app).post("/api/v1/auth/login", {
      email: "gone@example.com",
      password: member.password,
    });
    expect(attempt.body.code).toBe("account_deactivated");
    const link = await t.linkFor("gone@example.com", /Reactivate/);
    expect(
      (await createClient(t.app).post("/api/v1/auth/reactivate", { token: tokenOf(link) })).statusCode,
    ).toBe(200);
    for (const admin of [root, other]) {
      expect((await admin.client.get(`${base(admin)}/${member.userId}`)).body.status).toBe("active");
      expect((await admin.client.get(base(admin))).body.counts).toEqual({
        active: 2,
        suspended: 0,
        deactivated: 0,
        pending: 0,
      });
      expect((await check(admin)).body).toEqual({ allowed: true, reason: "granted" });
    }
  });

  it("filters and shows the last log-in to this account, not to any account", async () => {
    const root = await signUpAndLogin(t, { email: "root-away@example.com", account: "Away One" });
    const member = await addMember(t, root, { email: "roamer@example.com", roleKey: "developer" });
    const other = await signUpAndLogin(t, { email: "root-away2@example.com", account: "Away Two" });
    await other.client.post(`/api/v1/accounts/${other.accountId}/invitations`, {
      emails: ["roamer@example.com"],
    });
    const token = tokenOf(await t.linkFor("roamer@example.com", /invited to join Away Two/));
    // Accepting while logged in moves the session into Away Two: that is their first visit there.
    expect((await member.client.post("/api/v1/invitations/accept", { token })).statusCode).toBe(200);

    // (Not about second factors: the Roots' enrollment grace period would end in those 40 days.)
    for (const admin of [root, other])
      await admin.client.patch(`/api/v1/accounts/${admin.accountId}/security`, {
        mfa: { required_role_ids: [] },
      });
    t.services.clock.advance(40 * 86400);
    for (const email of ["root-away@example.com", "root-away2@example.com"]) {
      const admin = email === "root-away@example.com" ? root : other;
      await admin.client.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    }
    const roamer = createClient(t.app);
    const login = await roamer.post("/api/v1/auth/login", {
      email: "roamer@example.com",
      password: member.password,
      account_id: other.accountId,
    });
    expect(login.body.account_id).toBe(other.accountId);

    const awayFrom = async (admin: typeof root) =>
      (await admin.client.get(`/api/v1/accounts/${admin.accountId}/members?inactive_days=30`)).body.data.map(
        (m: { email: string }) => m.email,
      );
    // Logged in to Away Two today, but not to Away One for 40 days.
    expect(await awayFrom(root)).toEqual(["roamer@example.com"]);
    expect(await awayFrom(other)).toEqual([]);
    const inOne = await root.client.get(`/api/v1/accounts/${root.accountId}/members/${member.userId}`);
    const inTwo = await other.client.get(`/api/v1/accounts/${other.accountId}/members/${member.userId}`);
    const daysAgo = (at: string) => (t.services.clock.now().getTime() - Date.parse(at)) / 86_400_000;
    expect(daysAgo(inTwo.body.last_login_at)).toBeLessThan(1);
    expect(daysAgo(inOne.body.last_login_at)).toBeGreaterThan(39);

    // Switching into an account counts as coming back to it.
    expect((await roamer.post(`/api/v1/accounts/${root.accountId}/switch`)).statusCode).toBe(200);
    expect(await awayFrom(root)).toEqual([]);
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

  it("says which members have a second factor, filters by it, and keeps other accounts out of it", async () => {
    const root = await signUpAndLogin(t, { email: "root-mfa@example.com", account: "Factors" });
    await onPaidPlan(t, root.accountId);
    const withApp = await addMember(t, root, { email: "app-mfa@example.com", firstName: "Ann" });
    const started = await addMember(t, root, { email: "half-mfa@example.com", firstName: "Hal" });
    await addMember(t, root, { email: "none-mfa@example.com", firstName: "Ned" });
    const roles = await rolesOf(root.client, root.accountId);
    await root.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: ["invited-mfa@example.com"],
      role_id: roles.monitor,
    });
    const enroll = async (client: ReturnType<typeof createClient>, verify: boolean) => {
      const start = await client.post("/api/v1/me/mfa/totp", {});
      expect(start.statusCode, start.payload).toBe(201);
      if (!verify) return;
      const done = await client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
        code: newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() }),
      });
      expect(done.statusCode, done.payload).toBe(200);
    };
    await enroll(withApp.client, true);
    // An enrollment never confirmed is no second factor.
    await enroll(started.client, false);
    // Another account's member with a second factor stays in that account's list.
    const other = await signUpAndLogin(t, { email: "other-mfa@example.com", account: "Elsewhere" });
    const stranger = await addMember(t, other, { email: "stranger-mfa@example.com", firstName: "Sam" });
    await enroll(stranger.client, true);

    const base = `/api/v1/accounts/${root.accountId}/members`;
    const all = await root.client.get(base);
    expect(all.statusCode).toBe(200);
    const byEmail = Object.fromEntries(
      (all.body.data as Array<{ email: string; mfa_enabled: boolean }>).map((m) => [m.email, m.mfa_enabled]),
    );
    expect(byEmail).toEqual({
      "root-mfa@example.com": false,
      "app-mfa@example.com": true,
      "half-mfa@example.com": false,
      "none-mfa@example.com": false,
      // An invitation has no login of its own in this account yet.
      "invited-mfa@example.com": false,
    });
    const emails = (r: { body: Record<string, unknown> }) =>
      (r.body.data as Array<{ email: string }>).map((m) => m.email).sort();
    const enabled = await root.client.get(`${base}?mfa=enabled`);
    expect(emails(enabled)).toEqual(["app-mfa@example.com"]);
    // Counts stay the account's totals whatever the filter.
    expect(enabled.body.counts).toEqual(all.body.counts);
    // Pending invitations have no second factor to filter by: members only.
    expect(emails(await root.client.get(`${base}?mfa=disabled`))).toEqual([
      "half-mfa@example.com",
      "none-mfa@example.com",
      "root-mfa@example.com",
    ]);
    expect(emails(await root.client.get(`${base}?mfa=enabled&status=suspended`))).toEqual([]);
    const one = await root.client.get(`${base}/${withApp.userId}`);
    expect(one.body).toMatchObject({ email: "app-mfa@example.com", mfa_enabled: true });
    expect((await root.client.get(`${base}/${started.userId}`)).body.mfa_enabled).toBe(false);
    const bad = await root.client.get(`${base}?mfa=sometimes`);
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["content-type"]).toMatch(/application\/problem\+json/);

    // The other account sees its own member, and none of ours.
    const theirs = await other.client.get(`/api/v1/accounts/${other.accountId}/members?mfa=enabled`);
    expect(emails(theirs)).toEqual(["stranger-mfa@example.com"]);
    expect(
      (await other.client.get(`/api/v1/accounts/${root.accountId}/members?mfa=enabled`)).statusCode,
    ).toBe(404);
  });
});
