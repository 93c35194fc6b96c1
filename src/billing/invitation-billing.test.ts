import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { seedMembers } from "../testing/seed.js";

/**
 * Pending invitations hold a seat (the limit counts them) but are billed only once accepted: the
 * proration is charged inside the acceptance transaction, never for a revoked or expired invitation.
 */
describe.each(testDialects())("invitations and billing on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  let serial = 0;
  type Owner = Awaited<ReturnType<typeof signUpAndLogin>> & { base: string; email: string; n: number };

  /** A Root with a test card, on Pro monthly from `startsAt` with `members` members holding seats. */
  async function proAccount(startsAt: string, members = 1): Promise<Owner> {
    const n = ++serial;
    t.services.clock.freeze(new Date(startsAt));
    const email = `inv-billing-${n}@example.com`;
    const owner = await signUpAndLogin(t, { email, account: `Invoicing ${n}` });
    const base = `/api/v1/accounts/${owner.accountId}`;
    // Days pass in these tests: keep them about billing, not the Root's required second factor.
    await owner.client.patch(`${base}/security`, { mfa: { required_role_ids: [] } });
    if (members > 1) await seedMembers(t.services.db, owner.accountId, members - 1, { prefix: `ib${n}x` });
    const card = await owner.client.post(`${base}/payment-methods`, { type: "card", token: "tok_visa" });
    expect(card.statusCode, card.payload).toBe(201);
    const up = await owner.client.post(`${base}/billing/subscription`, { plan: "pro", interval: "month" });
    expect(up.statusCode, up.payload).toBe(200);
    return { ...owner, base, email, n };
  }

  /** Moves the clock; sessions do not live for weeks, so the Root logs in again. */
  async function travel(owner: Owner, iso: string) {
    t.services.clock.set(new Date(iso));
    const login = await owner.client.post("/api/v1/auth/login", {
      email: owner.email,
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode, login.payload).toBe(200);
  }

  const invite = (owner: Owner, emails: string[], extra: Record<string, unknown> = {}) =>
    owner.client.post(`${owner.base}/invitations`, { emails, ...extra });

  async function accept(email: string) {
    const link = await t.linkFor(email, /invited/);
    return createClient(t.app).post("/api/v1/invitations/accept", {
      token: new URL(link).searchParams.get("token"),
      password: STRONG_PASSWORD,
      first_name: "New",
      last_name: "Member",
    });
  }

  async function invoices(accountId: string) {
    const rows = await t.services.db
      .selectFrom("invoices")
      .select(["id", "total", "status"])
      .where("account_id", "=", accountId)
      .orderBy("created_at")
      .orderBy("number")
      .execute();
    return rows.map((r) => ({ ...r, total: Number(r.total) }));
  }

  const seats = async (owner: Owner) => (await owner.client.get(`${owner.base}/billing`)).body.seats;

  const audits = (accountId: string, action: string) =>
    t.services.db
      .selectFrom("audit_events")
      .select(["actor_id", "changes"])
      .where("account_id", "=", accountId)
      .where("action", "=", action)
      .orderBy("seq")
      .execute();

  /** Every table's row count, and the rows a preview could change in place. */
  async function snapshot() {
    // On PostgreSQL each test worker has its own schema: only ours.
    const schema =
      dialect === "postgres"
        ? (await sql<{ name: string }>`select current_schema() as name`.execute(t.services.db)).rows[0]?.name
        : undefined;
    const tables = (await t.services.db.introspection.getTables())
      .filter((table) => schema === undefined || table.schema === schema)
      .map((table) => table.name)
      .sort();
    const counts: Record<string, number> = {};
    for (const name of tables) {
      const row = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(name)}`.execute(
        t.services.db,
      );
      counts[name] = Number(row.rows[0]?.n);
    }
    const invitations = await t.services.db.selectFrom("invitations").selectAll().orderBy("id").execute();
    const subscriptions = await t.services.db
      .selectFrom("subscriptions")
      .selectAll()
      .orderBy("account_id")
      .execute();
    return { counts, invitations, subscriptions, mails: t.mails.length };
  }

  // The Seats table of docs/api-billing.md, row by row.
  it("sends and revokes on a paid plan without charging; accepting charges one prorated seat", async () => {
    const owner = await proAccount("2026-03-01T00:00:00.000Z");
    expect(await invoices(owner.accountId)).toHaveLength(1);
    await travel(owner, "2026-03-16T00:00:00.000Z");

    const sent = await invite(owner, [`a${owner.n}@example.com`, `b${owner.n}@example.com`]);
    expect(sent.statusCode, sent.payload).toBe(201);
    // Both hold a seat; neither is billed.
    expect(await seats(owner)).toEqual({ used: 3, billed: 1, limit: null });
    expect(await invoices(owner.accountId)).toHaveLength(1);
    expect(await audits(owner.accountId, "billing.seats_added")).toEqual([]);

    const revoked = await owner.client.delete(`${owner.base}/invitations/${sent.body.data[1].invitation.id}`);
    expect(revoked.statusCode).toBe(204);
    expect(await seats(owner)).toEqual({ used: 2, billed: 1, limit: null });
    expect(await invoices(owner.accountId)).toHaveLength(1);

    // Accepting: $19.00 × 16/31 days left = $9.81 (half up), one invoice, paid by auto-pay.
    const accepted = await accept(`a${owner.n}@example.com`);
    expect(accepted.statusCode, accepted.payload).toBe(200);
    const after = await invoices(owner.accountId);
    expect(after).toHaveLength(2);
    expect(after[1]).toMatchObject({ total: 981, status: "paid" });
    const detail = await owner.client.get(`${owner.base}/invoices/${after[1]?.id}`);
    expect(detail.body.lines).toEqual([
      {
        kind: "proration",
        description: "1 seat added: $19.00 per seat per month, prorated for 2026-03-16 – 2026-04-01",
        quantity: 1,
        unit_amount: 981,
        amount: 981,
        period: { start: "2026-03-16T00:00:00.000Z", end: "2026-04-01T00:00:00.000Z" },
      },
    ]);
    expect(await seats(owner)).toEqual({ used: 2, billed: 2, limit: null });
    // Charged by the acceptance, in the accepting user's name.
    const charged = await audits(owner.accountId, "billing.seats_added");
    expect(charged).toHaveLength(1);
    expect(charged[0]?.actor_id).toBe(accepted.body.user.id);
    // The revoked invitation cannot be accepted, and charges nothing.
    expect((await accept(`b${owner.n}@example.com`)).statusCode).toBe(400);
    expect(await invoices(owner.accountId)).toHaveLength(2);

    // The renewal bills the members, not the invitation pending then.
    await travel(owner, "2026-03-26T00:00:00.000Z");
    expect((await invite(owner, [`c${owner.n}@example.com`])).statusCode).toBe(201);
    expect(await seats(owner)).toEqual({ used: 3, billed: 2, limit: null });
    await travel(owner, "2026-04-01T00:00:00.000Z");
    await createClient(t.app).post("/dev/jobs/run");
    expect((await invoices(owner.accountId)).map((i) => i.total)).toEqual([1900, 981, 3800]);
    expect(await seats(owner)).toEqual({ used: 3, billed: 2, limit: null });
  });

  it("charges the seat in the acceptance transaction: an acceptance that fails charges nothing", async () => {
    const owner = await proAccount("2026-03-01T00:00:00.000Z");
    await travel(owner, "2026-03-16T00:00:00.000Z");
    expect((await invite(owner, [`fail${owner.n}@example.com`])).statusCode).toBe(201);

    const billing = t.services.billing;
    const original = billing.seatsChanged;
    const seen: number[] = [];
    // The acceptance breaks right after the charge was written, inside its transaction.
    billing.seatsChanged = async (trx, effects, accountId, actor) => {
      await original(trx, effects, accountId, actor);
      const counted = await trx
        .selectFrom("invoices")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("account_id", "=", accountId)
        .executeTakeFirstOrThrow();
      seen.push(Number(counted.n));
      throw new Error("the acceptance fails after the charge");
    };
    try {
      const failed = await accept(`fail${owner.n}@example.com`);
      expect(failed.statusCode).toBe(500);
    } finally {
      billing.seatsChanged = original;
    }
    // Inside the transaction the invoice was there; after the rollback it is not, nor the member.
    expect(seen).toEqual([2]);
    expect(await invoices(owner.accountId)).toHaveLength(1);
    expect(await seats(owner)).toEqual({ used: 2, billed: 1, limit: null });
    expect(await audits(owner.accountId, "billing.seats_added")).toEqual([]);

    // The invitation is still pending: accepting again works and charges once.
    expect((await accept(`fail${owner.n}@example.com`)).statusCode).toBe(200);
    expect((await invoices(owner.accountId)).map((i) => i.total)).toEqual([1900, 981]);
  });

  it("never bills an expired invitation, and renews for the members only", async () => {
    const owner = await proAccount("2026-03-01T00:00:00.000Z", 2);
    const sent = await invite(owner, [`late${owner.n}@example.com`]);
    expect(sent.statusCode).toBe(201);
    await travel(owner, "2026-03-08T00:00:01.000Z");
    expect((await accept(`late${owner.n}@example.com`)).statusCode).toBe(400);
    expect(await seats(owner)).toEqual({ used: 2, billed: 2, limit: null });

    // Sending it again takes its seat back, still unbilled.
    const again = await owner.client.post(
      `${owner.base}/invitations/${sent.body.data[0].invitation.id}/resend`,
    );
    expect(again.statusCode, again.payload).toBe(200);
    expect(await seats(owner)).toEqual({ used: 3, billed: 2, limit: null });
    expect(await invoices(owner.accountId)).toHaveLength(1);
    // It expires again, unaccepted.
    await travel(owner, "2026-03-15T00:00:02.000Z");
    expect((await accept(`late${owner.n}@example.com`)).statusCode).toBe(400);
    // The renewal bills the 2 members, not the invitation pending then.
    await travel(owner, "2026-03-26T00:00:00.000Z");
    expect((await invite(owner, [`other${owner.n}@example.com`])).statusCode).toBe(201);
    await travel(owner, "2026-04-01T00:00:00.000Z");
    await createClient(t.app).post("/dev/jobs/run");
    expect((await invoices(owner.accountId)).map((i) => i.total)).toEqual([3800, 3800]);
    expect(await seats(owner)).toEqual({ used: 3, billed: 2, limit: null });
    expect(await audits(owner.accountId, "billing.seats_added")).toEqual([]);
  });

  it("previews what accepting each address would cost, writing nothing", async () => {
    // 4 members billed; 2 removed (the period stays billed for 4); 1 invitation pending.
    const owner = await proAccount("2026-03-01T00:00:00.000Z", 4);
    await travel(owner, "2026-03-16T00:00:00.000Z");
    for (const i of [0, 1]) {
      const userId = `usr_ib${owner.n}x${String(i).padStart(17, "0")}`;
      expect((await owner.client.delete(`${owner.base}/members/${userId}`)).statusCode).toBe(204);
    }
    expect((await invite(owner, [`pending${owner.n}@example.com`])).statusCode).toBe(201);
    expect(await seats(owner)).toEqual({ used: 3, billed: 4, limit: null });

    const emails = [
      `new1-${owner.n}@example.com`,
      `pending${owner.n}@example.com`,
      "not-an-email",
      owner.email,
      `new2-${owner.n}@example.com`,
      `NEW1-${owner.n}@example.com`,
    ];
    const before = await snapshot();
    const preview = await invite(owner, emails, { preview: true });
    expect(preview.statusCode, preview.payload).toBe(200);
    const seat = {
      amount: 981,
      currency: "USD",
      lines: [
        {
          kind: "proration",
          description: "1 seat added: $19.00 per seat per month, prorated for 2026-03-16 – 2026-04-01",
          quantity: 1,
          unit_amount: 981,
          amount: 981,
          period: { start: "2026-03-16T00:00:00.000Z", end: "2026-04-01T00:00:00.000Z" },
        },
      ],
    };
    expect(preview.body).toEqual({
      data: [
        // One seat of the 4 billed is still free this period (after the pending invitation's).
        { email: emails[0], preview: { amount: 0, currency: "USD", lines: [] } },
        { email: emails[1], error: { code: "already_invited", detail: expect.any(String) } },
        { email: emails[2], error: { code: "invalid_email", detail: expect.any(String) } },
        { email: emails[3], error: { code: "already_member", detail: expect.any(String) } },
        { email: emails[4], preview: seat },
        { email: emails[5], error: { code: "duplicate", detail: expect.any(String) } },
      ],
    });
    // Nothing written: no invitation, audit event, invoice or mail; no row changed.
    expect(await snapshot()).toEqual(before);

    // The preview was right: sending them and accepting all three charges 0 + 0 + $9.81.
    expect((await invite(owner, [emails[0] as string, emails[4] as string])).statusCode).toBe(201);
    for (const email of [`pending${owner.n}@example.com`, emails[0], emails[4]]) {
      expect((await accept(email as string)).statusCode).toBe(200);
    }
    expect((await invoices(owner.accountId)).map((i) => i.total)).toEqual([7600, 981]);

    // Previewing needs what inviting needs: members:invite.
    const monitor = await addMember(t, owner, { email: `monitor${owner.n}@example.com` });
    const refused = await monitor.client.post(`${owner.base}/invitations`, {
      emails: ["x@example.com"],
      preview: true,
    });
    expect(refused.statusCode).toBe(403);
  });

  it("previews with the real invitation's permission, validation and seat limit (Free: 3 seats, no cost)", async () => {
    const owner = await signUpAndLogin(t, {
      email: `free-preview-${++serial}@example.com`,
      account: "Free Preview",
    });
    const base = `/api/v1/accounts/${owner.accountId}`;
    expect((await owner.client.post(`${base}/invitations`, { emails: ["fp1@example.com"] })).statusCode).toBe(
      201,
    );
    const before = await snapshot();
    // Root + 1 pending of 3 seats: one more fits, the next is refused.
    const preview = await owner.client.post(`${base}/invitations`, {
      emails: ["fp2@example.com", "fp3@example.com"],
      preview: true,
    });
    expect(preview.statusCode, preview.payload).toBe(200);
    expect(preview.body.data).toEqual([
      { email: "fp2@example.com", preview: { amount: 0, currency: "USD", lines: [] } },
      {
        email: "fp3@example.com",
        error: { code: "seat_limit_reached", detail: expect.stringMatching(/Upgrade/) },
      },
    ]);
    expect(await snapshot()).toEqual(before);

    // Nothing fits: 402 as the real invitation answers.
    expect((await owner.client.post(`${base}/invitations`, { emails: ["fp2@example.com"] })).statusCode).toBe(
      201,
    );
    const full = await owner.client.post(`${base}/invitations`, {
      emails: ["fp3@example.com"],
      preview: true,
    });
    expect(full.statusCode).toBe(402);
    expect(full.body.code).toBe("seat_limit_reached");
    // Validation and permission as the real one.
    expect((await owner.client.post(`${base}/invitations`, { emails: [], preview: true })).statusCode).toBe(
      400,
    );
    const unknownRole = await owner.client.post(`${base}/invitations`, {
      emails: ["fp4@example.com"],
      role_id: "role_nope",
      preview: true,
    });
    expect(unknownRole.statusCode).toBe(400);
    const stranger = await signUpAndLogin(t, {
      email: `stranger-${serial}@example.com`,
      account: "Elsewhere",
    });
    const foreign = await stranger.client.post(`${base}/invitations`, {
      emails: ["x@example.com"],
      preview: true,
    });
    expect(foreign.statusCode).toBe(404);
    // The limit still counts the pending invitations: revoking one frees its seat for a preview.
    const pending = await owner.client.get(`${base}/invitations?status=pending`);
    await owner.client.delete(`${base}/invitations/${pending.body.data[0].id}`);
    const fits = await owner.client.post(`${base}/invitations`, {
      emails: ["fp3@example.com"],
      preview: true,
    });
    expect(fits.statusCode).toBe(200);
    expect(fits.body.data[0].preview).toEqual({ amount: 0, currency: "USD", lines: [] });
  });
});
