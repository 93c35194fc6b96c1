import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

type Owner = { client: Client; accountId: string };

describe.each(testDialects())("seats and their limit on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const invite = (owner: Owner, ...emails: string[]) =>
    owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, { emails });
  const seats = async (owner: Owner) => {
    const response = await owner.client.get(`/api/v1/accounts/${owner.accountId}/seats`);
    expect(response.statusCode, response.payload).toBe(200);
    return response.body;
  };
  const invitationRows = (accountId: string) =>
    t.services.db
      .selectFrom("invitations")
      .select(["email", "status"])
      .where("account_id", "=", accountId)
      .orderBy("email")
      .execute();

  it("lets Free have 3 seats: the 3rd fits, the 4th is refused with 402 seat_limit_reached", async () => {
    const owner = await signUpAndLogin(t, { email: "limit-owner@example.com", account: "Limit Co" });
    expect(await seats(owner)).toEqual({
      plan: "free",
      limit: 3,
      used: 1,
      active: 1,
      suspended: 0,
      deactivated: 0,
      pending: 0,
    });
    expect((await invite(owner, "second@example.com")).body.data[0].invitation.status).toBe("pending");
    const third = await invite(owner, "third@example.com");
    expect(third.statusCode, third.payload).toBe(201);
    expect(third.body.data[0].invitation.email).toBe("third@example.com");
    expect(await seats(owner)).toMatchObject({ plan: "free", limit: 3, used: 3, pending: 2 });

    const fourth = await invite(owner, "fourth@example.com");
    expect(fourth.statusCode, fourth.payload).toBe(402);
    expect(fourth.headers["content-type"]).toContain("application/problem+json");
    expect(fourth.body).toMatchObject({ status: 402, code: "seat_limit_reached" });
    expect(fourth.body.detail).toMatch(/3 seats of the Free plan/);
    expect(fourth.body.detail).toMatch(/Upgrade the plan/);
    expect(fourth.body.detail).toMatch(/remove users or revoke pending invitations/);
    expect(fourth.body.errors).toEqual([
      {
        path: "emails.0",
        code: "seat_limit_reached",
        message: expect.stringMatching(/^fourth@example\.com: /),
      },
    ]);
    expect((await invitationRows(owner.accountId)).map((r) => r.email)).toEqual([
      "second@example.com",
      "third@example.com",
    ]);
    expect(await seats(owner)).toMatchObject({ used: 3 });
    // Nothing was mailed to the refused address (the two accepted invitations were).
    await t.linkFor("third@example.com", /invited/);
    expect(t.mails.some((m) => m.to === "fourth@example.com")).toBe(false);
  });

  it("answers a bulk invitation per address: those that fit are invited in order, the rest are refused", async () => {
    const owner = await signUpAndLogin(t, { email: "bulk-owner@example.com", account: "Bulk Co" });
    const response = await invite(
      owner,
      "not-an-email",
      "b1@example.com",
      "b1@example.com",
      "b2@example.com",
      "b3@example.com",
      "b4@example.com",
    );
    expect(response.statusCode, response.payload).toBe(201);
    const outcome = response.body.data.map(
      (r: { email: string; invitation?: unknown; error?: { code: string } }) => [
        r.email,
        r.error?.code ?? (r.invitation ? "invited" : "?"),
      ],
    );
    expect(outcome).toEqual([
      ["not-an-email", "invalid_email"],
      ["b1@example.com", "invited"],
      ["b1@example.com", "duplicate"],
      ["b2@example.com", "invited"],
      ["b3@example.com", "seat_limit_reached"],
      ["b4@example.com", "seat_limit_reached"],
    ]);
    expect(response.body.data[4].error.detail).toMatch(/Upgrade the plan/);
    expect(await seats(owner)).toMatchObject({ used: 3, active: 1, pending: 2 });

    // A full account refuses the whole request, each address with its own reason.
    const full = await invite(owner, "b1@example.com", "b5@example.com");
    expect(full.statusCode, full.payload).toBe(402);
    expect(full.body.code).toBe("seat_limit_reached");
    expect(full.body.errors.map((e: { path: string; code: string }) => [e.path, e.code])).toEqual([
      ["emails.0", "already_invited"],
      ["emails.1", "seat_limit_reached"],
    ]);
    // Nothing to invite (only addresses already there): the usual per-address answer, no 402.
    const nothingNew = await invite(owner, "b2@example.com");
    expect(nothingNew.statusCode).toBe(201);
    expect(nothingNew.body.data[0].error.code).toBe("already_invited");
  });

  it("frees a seat at once when an invitation is revoked or expires or a member is removed", async () => {
    const owner = await signUpAndLogin(t, { email: "free-owner@example.com", account: "Freeing Co" });
    // Days pass in this test: keep it about seats, not the Root's required second factor.
    await owner.client.patch(`/api/v1/accounts/${owner.accountId}/security`, {
      mfa: { required_role_ids: [] },
    });
    const member = await addMember(t, owner, { email: "f-member@example.com" });
    const sent = await invite(owner, "f-pending@example.com");
    const pendingId = sent.body.data[0].invitation.id as string;
    expect(await seats(owner)).toMatchObject({ used: 3, active: 2, pending: 1 });
    expect((await invite(owner, "f-x@example.com")).statusCode).toBe(402);

    // Revoked: the seat is free for the next invitation.
    const revoked = await owner.client.delete(`/api/v1/accounts/${owner.accountId}/invitations/${pendingId}`);
    expect(revoked.statusCode).toBe(204);
    expect(await seats(owner)).toMatchObject({ used: 2, pending: 0 });
    const x = await invite(owner, "f-x@example.com");
    expect(x.statusCode, x.payload).toBe(201);
    const xId = x.body.data[0].invitation.id as string;
    expect((await invite(owner, "f-y@example.com")).statusCode).toBe(402);

    // Removed member: the seat is free.
    const removed = await owner.client.delete(`/api/v1/accounts/${owner.accountId}/members/${member.userId}`);
    expect(removed.statusCode, removed.payload).toBe(204);
    expect(await seats(owner)).toMatchObject({ used: 2, active: 1, pending: 1 });
    expect((await invite(owner, "f-y@example.com")).statusCode).toBe(201);
    expect((await invite(owner, "f-z@example.com")).statusCode).toBe(402);

    // Expired: both invitations stop counting the moment they expire, without anyone touching them.
    t.services.clock.advance(7 * 86400 + 1);
    await owner.client.post("/api/v1/auth/login", {
      email: "free-owner@example.com",
      password: STRONG_PASSWORD,
    });
    expect(await seats(owner)).toEqual({
      plan: "free",
      limit: 3,
      used: 1,
      active: 1,
      suspended: 0,
      deactivated: 0,
      pending: 0,
    });

    // Sending an expired invitation again takes its seat back, so it needs a free one.
    const zw = await invite(owner, "f-z@example.com", "f-w@example.com");
    expect(zw.statusCode, zw.payload).toBe(201);
    const wId = zw.body.data[1].invitation.id as string;
    const resendFull = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/invitations/${xId}/resend`,
    );
    expect(resendFull.statusCode, resendFull.payload).toBe(402);
    expect(resendFull.body.code).toBe("seat_limit_reached");
    await owner.client.delete(`/api/v1/accounts/${owner.accountId}/invitations/${wId}`);
    const resent = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations/${xId}/resend`);
    expect(resent.statusCode, resent.payload).toBe(200);
    expect(resent.body.status).toBe("pending");
    expect(await seats(owner)).toMatchObject({ used: 3, pending: 2 });
    // Re-sending a pending invitation takes no new seat: allowed on a full account.
    t.services.clock.advance(61);
    const again = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations/${xId}/resend`);
    expect(again.statusCode, again.payload).toBe(200);
    expect(await seats(owner)).toMatchObject({ used: 3, pending: 2 });
  });

  it("counts suspended members; accepting an invitation or reactivating a member takes no new seat", async () => {
    const owner = await signUpAndLogin(t, { email: "susp-owner@example.com", account: "Suspended Co" });
    const member = await addMember(t, owner, { email: "s-member@example.com" });
    await invite(owner, "s-pending@example.com");
    const suspended = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${member.userId}/suspend`,
    );
    expect(suspended.statusCode, suspended.payload).toBe(200);
    expect(await seats(owner)).toEqual({
      plan: "free",
      limit: 3,
      used: 3,
      active: 1,
      suspended: 1,
      deactivated: 0,
      pending: 1,
    });
    expect((await invite(owner, "s-x@example.com")).statusCode).toBe(402);

    // On a full account the pending invitation can still be accepted: its seat becomes the member's.
    const link = await t.linkFor("s-pending@example.com", /invited/);
    const accepted = await createClient(t.app).post("/api/v1/invitations/accept", {
      token: new URL(link).searchParams.get("token"),
      password: STRONG_PASSWORD,
      first_name: "Pending",
      last_name: "Person",
    });
    expect(accepted.statusCode, accepted.payload).toBe(200);
    expect(await seats(owner)).toMatchObject({ used: 3, active: 2, suspended: 1, pending: 0 });
    const reactivated = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${member.userId}/reactivate`,
    );
    expect(reactivated.statusCode, reactivated.payload).toBe(200);
    expect(await seats(owner)).toMatchObject({ used: 3, active: 3, suspended: 0 });
    expect((await invite(owner, "s-x@example.com")).statusCode).toBe(402);
  });

  it("applies an operator's Enterprise seat limit from the subscription, and none on Pro", async () => {
    const owner = await signUpAndLogin(t, { email: "ent-owner@example.com", account: "Enterprise Co" });
    await onPaidPlan(t, owner.accountId, { plan: "enterprise", seatLimit: 5 });
    expect(await seats(owner)).toMatchObject({ plan: "enterprise", limit: 5, used: 1 });
    const bulk = await invite(
      owner,
      "e1@example.com",
      "e2@example.com",
      "e3@example.com",
      "e4@example.com",
      "e5@example.com",
    );
    expect(bulk.body.data.map((r: { error?: { code: string } }) => r.error?.code ?? "invited")).toEqual([
      "invited",
      "invited",
      "invited",
      "invited",
      "seat_limit_reached",
    ]);
    const refused = await invite(owner, "e5@example.com");
    expect(refused.statusCode).toBe(402);
    expect(refused.body.detail).toMatch(/5 seats of the Enterprise plan/);

    // The same account on Pro: no limit.
    await onPaidPlan(t, owner.accountId, { plan: "pro" });
    expect(await seats(owner)).toMatchObject({ plan: "pro", limit: null, used: 5 });
    const more = await invite(owner, "e5@example.com", "e6@example.com", "e7@example.com");
    expect(more.statusCode).toBe(201);
    expect(more.body.data.every((r: { invitation?: unknown }) => r.invitation)).toBe(true);
    expect(await seats(owner)).toMatchObject({ plan: "pro", limit: null, used: 8, pending: 7 });
  });

  it("calls the billing hook inside the acceptance transaction, never when inviting or re-sending", async () => {
    const owner = await signUpAndLogin(t, { email: "hook-owner@example.com", account: "Hook Co" });
    await onPaidPlan(t, owner.accountId);
    const billing = t.services.billing;
    const original = billing.seatsChanged;
    const calls: Array<{ accountId: string; actor: string | null; status: string | undefined }> = [];
    billing.seatsChanged = async (trx, effects, accountId, actor) => {
      // What the hook sees inside the transaction: the invitation already accepted.
      const invitation = await trx
        .selectFrom("invitations")
        .select("status")
        .where("account_id", "=", accountId)
        .where("email_normalized", "=", "h1@example.com")
        .executeTakeFirst();
      calls.push({ accountId, actor: actor.id ?? null, status: invitation?.status });
      return original(trx, effects, accountId, actor);
    };
    try {
      const sent = await invite(owner, "h1@example.com", "h2@example.com");
      await invite(owner, "h1@example.com");
      t.services.clock.advance(61);
      await owner.client.post(
        `/api/v1/accounts/${owner.accountId}/invitations/${sent.body.data[1].invitation.id}/resend`,
      );
      expect(calls).toEqual([]);
      const link = await t.linkFor("h1@example.com", /invited/);
      const accepted = await createClient(t.app).post("/api/v1/invitations/accept", {
        token: new URL(link).searchParams.get("token"),
        password: STRONG_PASSWORD,
        first_name: "Hook",
        last_name: "Person",
      });
      expect(accepted.statusCode, accepted.payload).toBe(200);
      expect(calls).toEqual([
        { accountId: owner.accountId, actor: accepted.body.user.id, status: "accepted" },
      ]);
    } finally {
      billing.seatsChanged = original;
    }
  });

  // Two admins invite the 3rd and 4th person at the same moment, each through its own server process
  // (own connection pool) on the same database: one invitation goes out, the other is refused.
  it("never lets concurrent invitations exceed the limit", async () => {
    const owner = await signUpAndLogin(t, { email: "race-owner@example.com", account: "Race Co" });
    const admin = await addMember(t, owner, { email: "race-admin@example.com", roleKey: "admin" });
    const other = await t.sibling();
    const adminClient = createClient(other.app);
    adminClient.cookie = admin.client.cookie;
    adminClient.csrf = admin.client.csrf;
    adminClient.device = admin.client.device;
    const second: Owner = { client: adminClient, accountId: owner.accountId };

    for (let round = 0; round < 6; round++) {
      const [a, b] = await Promise.all([
        invite(owner, `race-${round}-a@example.com`),
        invite(second, `race-${round}-b@example.com`),
      ]);
      const statuses = [a.statusCode, b.statusCode].sort();
      expect(statuses, `${a.payload} ${b.payload}`).toEqual([201, 402]);
      const pending = (await invitationRows(owner.accountId)).filter((r) => r.status === "pending");
      expect(pending).toHaveLength(1);
      expect(await seats(owner)).toMatchObject({ used: 3, active: 2, pending: 1 });
      // Back to 2 seats for the next round.
      const winner = (a.statusCode === 201 ? a : b).body.data[0].invitation.id as string;
      expect(
        (await owner.client.delete(`/api/v1/accounts/${owner.accountId}/invitations/${winner}`)).statusCode,
      ).toBe(204);
    }

    // Accepting converts a pending seat into a member's while another admin invites: never 4 seats.
    for (let round = 0; round < 3; round++) {
      const email = `accept-race-${round}@example.com`;
      expect((await invite(owner, email)).statusCode).toBe(201);
      const token = new URL(await t.linkFor(email, /invited/)).searchParams.get("token");
      const [accepted, invited] = await Promise.all([
        createClient(t.app).post("/api/v1/invitations/accept", {
          token,
          password: STRONG_PASSWORD,
          first_name: "Racing",
          last_name: "Person",
        }),
        invite(second, `accept-race-${round}-other@example.com`),
      ]);
      expect(accepted.statusCode, accepted.payload).toBe(200);
      expect(invited.statusCode, invited.payload).toBe(402);
      expect(await seats(owner)).toMatchObject({ used: 3, active: 3, pending: 0 });
      const removed = await owner.client.delete(
        `/api/v1/accounts/${owner.accountId}/members/${accepted.body.user.id}`,
      );
      expect(removed.statusCode, removed.payload).toBe(204);
    }

    // Bulk requests racing for the last seats: 2 + 2 addresses for 1 free seat.
    const [a, b] = await Promise.all([
      invite(owner, "bulk-race-1@example.com", "bulk-race-2@example.com"),
      invite(second, "bulk-race-3@example.com", "bulk-race-4@example.com"),
    ]);
    const invited = [a, b].flatMap((r) =>
      r.statusCode === 201 ? r.body.data.filter((x: { invitation?: unknown }) => x.invitation) : [],
    );
    expect(invited).toHaveLength(1);
    expect(await seats(owner)).toMatchObject({ used: 3 });
  });
});
