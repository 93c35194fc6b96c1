import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { transact } from "../db/database.js";
import {
  addMember,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { pdfText } from "../testing/pdf-text.js";
import { seedMembers } from "../testing/seed.js";
import { runBillingCommand } from "./billing-cli.js";

describe.each(testDialects())("subscriptions and proration on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  let serial = 0;
  /** An account with `seats` seats in use (its Root plus members made in the database) and a card. */
  async function account(seats: number, startsAt: string) {
    const n = ++serial;
    t.services.clock.freeze(new Date(startsAt));
    const root = await signUpAndLogin(t, { email: `billing-${n}@example.com`, account: `Billing ${n}` });
    // These tests move the clock by months: the default MFA requirement for Root would lock the Root out.
    await root.client.patch(`/api/v1/accounts/${root.accountId}/security`, {
      mfa: { required_role_ids: [] },
    });
    if (seats > 1) await seedMembers(t.services.db, root.accountId, seats - 1, { prefix: `b${n}x` });
    const card = await root.client.post(`/api/v1/accounts/${root.accountId}/payment-methods`, {
      type: "card",
      token: "tok_visa",
    });
    expect(card.statusCode, card.payload).toBe(201);
    const base = `/api/v1/accounts/${root.accountId}`;
    return { ...root, base, prefix: `b${n}x`, email: `billing-${n}@example.com` };
  }

  /** Moves the clock; sessions do not live for weeks, so the account's Root logs in again. */
  async function travel(a: { client: ReturnType<typeof createClient>; email: string }, iso: string) {
    t.services.clock.set(new Date(iso));
    const login = await a.client.post("/api/v1/auth/login", { email: a.email, password: STRONG_PASSWORD });
    expect(login.statusCode, login.payload).toBe(200);
  }

  async function invoices(accountId: string) {
    const rows = await t.services.db
      .selectFrom("invoices")
      .selectAll()
      .where("account_id", "=", accountId)
      .orderBy("created_at")
      .orderBy("number")
      .execute();
    const lines = await t.services.db
      .selectFrom("invoice_lines")
      .selectAll()
      .where("invoice_id", "in", rows.map((r) => r.id).concat(["-"]))
      .orderBy("position")
      .execute();
    return rows.map((r) => ({
      ...r,
      total: Number(r.total),
      lines: lines.filter((l) => l.invoice_id === r.id).map((l) => ({ ...l, amount: Number(l.amount) })),
    }));
  }

  /** Seats added the way accepting an invitation adds them: members, then the hook in their transaction. */
  async function addSeats(accountId: string, count: number, prefix: string) {
    await seedMembers(t.services.db, accountId, count, { prefix });
    await transact(t.services.db, (trx, effects) =>
      t.services.billing.seatsChanged(trx, effects, accountId, SYSTEM_ACTOR),
    );
  }

  const renew = () => createClient(t.app).post("/dev/jobs/run");

  /** Accepts the invitation mailed to `email` as a new user. */
  async function accept(email: string) {
    const link = await t.linkFor(email, /invited/);
    const accepted = await createClient(t.app).post("/api/v1/invitations/accept", {
      token: new URL(link).searchParams.get("token"),
      password: STRONG_PASSWORD,
      first_name: "New",
      last_name: "Member",
    });
    expect(accepted.statusCode, accepted.payload).toBe(200);
  }

  it("Pro monthly, 10 seats: $190.00; 2 invitations accepted mid-cycle, prorated; the next bill is 12 seats = $228.00", async () => {
    const a = await account(10, "2026-03-01T00:00:00.000Z");
    const up = await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" });
    expect(up.statusCode, up.payload).toBe(200);
    expect(up.body.billing).toMatchObject({
      plan: "pro",
      interval: "month",
      seats: { used: 10, billed: 10, limit: null },
      unit_price: 1900,
      next_billing_date: "2026-04-01T00:00:00.000Z",
      estimated_next_amount: 19000,
    });
    await travel(a, "2026-03-16T00:00:00.000Z");
    const invited = await a.client.post(`${a.base}/invitations`, {
      emails: [`${a.prefix}-1@example.com`, `${a.prefix}-2@example.com`],
    });
    expect(invited.statusCode, invited.payload).toBe(201);
    // Sending charges nothing: the pending invitations hold seats, unbilled.
    expect((await a.client.get(`${a.base}/billing`)).body.seats).toMatchObject({ used: 12, billed: 10 });
    expect(await invoices(a.accountId)).toHaveLength(1);
    // Each acceptance is charged at once: 16 of 31 days left, $19.00 × 16/31 = $9.81 (half up).
    await accept(`${a.prefix}-1@example.com`);
    await accept(`${a.prefix}-2@example.com`);
    await travel(a, "2026-04-01T00:00:00.000Z");
    expect((await renew()).body.renewals).toBeGreaterThanOrEqual(1);
    const all = await invoices(a.accountId);
    expect(all.map((i) => i.total)).toEqual([19000, 981, 981, 22800]);
    // Auto-pay with the test card paid each one as it was made.
    expect(all.map((i) => i.status)).toEqual(["paid", "paid", "paid", "paid"]);
    expect(all[1]?.lines).toMatchObject([
      {
        kind: "proration",
        quantity: 1,
        unit_amount: 981,
        amount: 981,
        period_start: "2026-03-16T00:00:00.000Z",
        period_end: "2026-04-01T00:00:00.000Z",
      },
    ]);
    expect(all[3]?.lines[0]).toMatchObject({ kind: "seats", quantity: 12, unit_amount: 1900, amount: 22800 });
    const overview = await a.client.get(`${a.base}/billing`);
    expect(overview.body).toMatchObject({
      seats: { used: 12, billed: 12 },
      current_period: { start: "2026-04-01T00:00:00.000Z", end: "2026-05-01T00:00:00.000Z" },
    });
  });

  it("Team annual, 25 seats: $775.00 a month equivalent; +5 seats: 30 seats = $930.00", async () => {
    const a = await account(25, "2026-01-15T00:00:00.000Z");
    const up = await a.client.post(`${a.base}/billing/subscription`, { plan: "team", interval: "year" });
    expect(up.statusCode, up.payload).toBe(200);
    expect(up.body.billing.monthly_equivalent).toBe(77500);
    expect((await invoices(a.accountId))[0]?.total).toBe(77500 * 12);
    await travel(a, "2026-07-15T00:00:00.000Z");
    await addSeats(a.accountId, 5, `${a.prefix}y`);
    expect((await a.client.get(`${a.base}/billing`)).body.monthly_equivalent).toBe(93000);
    // 5 × ($372.00 a year for 184 of 365 days = $187.53, half up).
    expect((await invoices(a.accountId))[1]?.lines).toMatchObject([
      { kind: "proration", quantity: 5, unit_amount: 18753, amount: 5 * 18753 },
    ]);
    await travel(a, "2027-01-15T00:00:00.000Z");
    await renew();
    expect((await invoices(a.accountId))[2]?.total).toBe(93000 * 12);
  });

  it("Pro, 15 seats ($285.00); 3 removed on day 10: still $285.00 this period, the next is $228.00", async () => {
    const a = await account(15, "2026-06-01T00:00:00.000Z");
    await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" });
    await travel(a, "2026-06-10T00:00:00.000Z");
    for (const i of [1, 2, 3]) {
      const userId = `usr_${a.prefix}${String(i).padStart(17, "0")}`;
      const removed = await a.client.delete(`${a.base}/members/${userId}`);
      expect(removed.statusCode, removed.payload).toBe(204);
    }
    const overview = await a.client.get(`${a.base}/billing`);
    expect(overview.body.seats).toMatchObject({ used: 12, billed: 15 });
    expect(overview.body.estimated_next_amount).toBe(22800);
    expect((await invoices(a.accountId)).map((i) => i.total)).toEqual([28500]);
    await travel(a, "2026-07-01T00:00:00.000Z");
    await renew();
    expect((await invoices(a.accountId)).map((i) => i.total)).toEqual([28500, 22800]);
  });

  it("changes plan and interval with the unused part credited; a preview shows the same lines and changes nothing", async () => {
    const a = await account(10, "2026-03-01T00:00:00.000Z");
    await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" });
    await travel(a, "2026-03-16T00:00:00.000Z");
    const preview = await a.client.post(`${a.base}/billing/subscription`, {
      plan: "team",
      interval: "month",
      preview: true,
    });
    expect(preview.statusCode, preview.payload).toBe(200);
    // Team 10 × $39.00 from now; credit 10 × $19.00 × 16/31 = $98.06.
    expect(preview.body.lines.map((l: { kind: string; amount: number }) => [l.kind, l.amount])).toEqual([
      ["seats", 39000],
      ["credit", -9806],
    ]);
    expect(preview.body.total).toBe(29194);
    expect(await invoices(a.accountId)).toHaveLength(1);
    const done = await a.client.post(`${a.base}/billing/subscription`, { plan: "team", interval: "month" });
    expect(done.body.billing).toMatchObject({
      plan: "team",
      current_period: { start: "2026-03-16T00:00:00.000Z", end: "2026-04-16T00:00:00.000Z" },
    });
    expect((await invoices(a.accountId))[1]?.total).toBe(29194);

    // Straight back to Pro: the unused Team period is worth more than a Pro month; the rest is kept as credit.
    const back = await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" });
    expect(back.body.billing.credit_balance).toBe(39000 - 19000);
    const third = (await invoices(a.accountId))[2];
    expect(third?.total).toBe(0);
    expect(third?.status).toBe("paid");
    // Monthly → annual: the balance pays part of the year.
    const yearly = await a.client.post(`${a.base}/billing/subscription`, {
      plan: "pro",
      interval: "year",
      preview: true,
    });
    expect(yearly.body.lines.map((l: { kind: string; amount: number }) => [l.kind, l.amount])).toEqual([
      ["seats", 10 * 18000],
      ["credit", -19000],
      ["credit", -20000],
    ]);
    expect(yearly.body.total).toBe(180000 - 39000);
  });

  it("shows a credit line whose quantity × unit is its amount, in the API and the PDF", async () => {
    const a = await account(8, "2026-03-01T00:00:00.000Z");
    await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" });
    await travel(a, "2026-03-16T00:00:00.000Z");
    // 8 × $19.00 × 16/31 = $78.45 (half up): one credit of the whole, rounded once.
    const preview = await a.client.post(`${a.base}/billing/subscription`, {
      plan: "team",
      interval: "month",
      preview: true,
    });
    const credit = { kind: "credit", quantity: 1, unit_amount: -7845, amount: -7845 };
    expect(preview.body.lines[1]).toMatchObject(credit);
    expect(preview.body.lines[1].description).toMatch(/Unused time on Pro \(monthly\), 8 seats/);
    const changed = await a.client.post(`${a.base}/billing/subscription`, {
      plan: "team",
      interval: "month",
    });
    expect(changed.body.invoice.lines[1]).toMatchObject(credit);
    const detail = await a.client.get(`${a.base}/invoices/${changed.body.invoice.id}`);
    expect(detail.body.lines.map((l: { kind: string }) => l.kind)).toEqual(["seats", "credit"]);
    for (const line of detail.body.lines) expect(line.quantity * line.unit_amount).toBe(line.amount);
    expect(detail.body.lines[1]).toMatchObject(credit);

    // The PDF's row: description (and the dates it covers), Qty, Unit, Amount.
    const pdf = await a.client.get(`${a.base}/invoices/${changed.body.invoice.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    const rows = pdfText(pdf.rawPayload).split("\n");
    const at = rows.findIndex((r) => r.startsWith("Unused time on Pro"));
    expect(at).toBeGreaterThan(-1);
    const cells = rows.slice(at).slice(rows.slice(at).findIndex((r) => /^\d+$/.test(r)));
    expect(cells.slice(0, 3)).toEqual(["1", "-$78.45", "-$78.45"]);
  });

  it("answers a plan change with its invoice as auto-pay left it: paid, or open after a decline", async () => {
    const paid = await account(2, "2026-03-01T00:00:00.000Z");
    const up = await paid.client.post(`${paid.base}/billing/subscription`, {
      plan: "pro",
      interval: "month",
    });
    expect(up.statusCode, up.payload).toBe(200);
    expect(up.body.invoice).toMatchObject({
      total: 3800,
      status: "paid",
      paid_at: "2026-03-01T00:00:00.000Z",
      payment_attempts: 1,
      next_payment_at: null,
      last_payment_error: null,
    });
    const stored = await paid.client.get(`${paid.base}/invoices/${up.body.invoice.id}`);
    expect(up.body.invoice).toEqual(stored.body);

    const declined = await account(2, "2026-03-01T00:00:00.000Z");
    const card = await declined.client.post(`${declined.base}/payment-methods`, {
      type: "card",
      token: "tok_declined",
      default: true,
    });
    expect(card.statusCode, card.payload).toBe(201);
    const tried = await declined.client.post(`${declined.base}/billing/subscription`, {
      plan: "pro",
      interval: "month",
    });
    expect(tried.statusCode, tried.payload).toBe(200);
    expect(tried.body.invoice).toMatchObject({
      total: 3800,
      status: "open",
      paid_at: null,
      payment_attempts: 1,
      next_payment_at: "2026-03-02T00:00:00.000Z",
      last_payment_error: expect.stringMatching(/declined/),
    });
    const open = await declined.client.get(`${declined.base}/invoices/${tried.body.invoice.id}`);
    expect(tried.body.invoice).toEqual(open.body);
  });

  it("downgrades to Free only when the seats fit, at the end of the period; cancels at period end", async () => {
    const big = await account(5, "2026-03-01T00:00:00.000Z");
    await big.client.post(`${big.base}/billing/subscription`, { plan: "pro", interval: "month" });
    const refused = await big.client.post(`${big.base}/billing/subscription`, { plan: "free" });
    expect(refused.statusCode).toBe(409);
    expect(refused.body.detail).toMatch(/remove 2 users/);

    const small = await account(2, "2026-03-01T00:00:00.000Z");
    await small.client.post(`${small.base}/billing/subscription`, { plan: "pro", interval: "month" });
    const down = await small.client.post(`${small.base}/billing/subscription`, { plan: "free" });
    expect(down.statusCode, down.payload).toBe(200);
    expect(down.body.billing).toMatchObject({ plan: "pro", ends_with: "free", next_billing_date: null });

    const cancel = await big.client.delete(`${big.base}/billing/subscription`);
    expect(cancel.body).toMatchObject({ plan: "pro", ends_with: "free" });
    expect((await big.client.delete(`${big.base}/billing/subscription`)).statusCode).toBe(409);

    await travel(big, "2026-04-01T00:00:00.000Z");
    await travel(small, "2026-04-01T00:00:00.000Z");
    await renew();
    for (const a of [big, small]) {
      const after = await a.client.get(`${a.base}/billing`);
      expect(after.body).toMatchObject({ plan: "free", interval: null, current_period: null });
      expect(await invoices(a.accountId)).toHaveLength(1);
    }
  });

  it("needs a payment method for a paid plan, and refuses Enterprise to customers", async () => {
    const a = await account(1, "2026-03-01T00:00:00.000Z");
    await t.services.db.deleteFrom("payment_methods").where("account_id", "=", a.accountId).execute();
    const noCard = await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" });
    expect(noCard.statusCode).toBe(402);
    expect(noCard.body.code).toBe("payment_method_required");
    expect(
      (await a.client.post(`${a.base}/billing/subscription`, { plan: "enterprise", interval: "month" }))
        .statusCode,
    ).toBe(403);
    expect((await a.client.post(`${a.base}/billing/subscription`, { plan: "gold" })).statusCode).toBe(400);
    expect(
      (await a.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "week" })).statusCode,
    ).toBe(400);
    expect((await a.client.post(`${a.base}/billing/subscription`, { plan: "free" })).statusCode).toBe(409);
  });

  it("sets Enterprise terms for an operator: custom price per seat and seat limit", async () => {
    const a = await account(4, "2026-03-01T00:00:00.000Z");
    const overview = await t.services.billing.setEnterprise(SYSTEM_ACTOR, a.accountId, {
      unitPrice: 2500,
      seatLimit: 500,
      interval: "month",
    });
    expect(overview).toMatchObject({ plan: "enterprise", unit_price: 2500, seats: { used: 4, limit: 500 } });
    expect((await invoices(a.accountId))[0]?.total).toBe(4 * 2500);
    // Back to a catalog plan: the operator's seat limit goes with the Enterprise terms.
    const team = await a.client.post(`${a.base}/billing/subscription`, { plan: "team", interval: "month" });
    expect(team.body.billing).toMatchObject({ plan: "team", seats: { limit: null } });
    await expect(
      t.services.billing.setEnterprise(SYSTEM_ACTOR, a.accountId, {
        unitPrice: -1,
        seatLimit: null,
        interval: "month",
      }),
    ).rejects.toThrow(/cents/);
  });

  it("lets Root, Admin and Billing see and manage billing; Monitor and Developer get 403; other accounts 404", async () => {
    const a = await account(1, "2026-03-01T00:00:00.000Z");
    // Four more people do not fit on Free.
    await a.client.post(`${a.base}/billing/subscription`, { plan: "team", interval: "month" });
    for (const [roleKey, status] of [
      ["admin", 200],
      ["billing", 200],
      ["developer", 403],
      ["monitor", 403],
    ] as const) {
      const m = await addMember(t, a, { email: `${roleKey}-${serial}@billing.example`, roleKey });
      expect((await m.client.get(`${a.base}/billing`)).statusCode, roleKey).toBe(status);
      const preview = await m.client.post(`${a.base}/billing/subscription`, {
        plan: "pro",
        interval: "month",
        preview: true,
      });
      expect(preview.statusCode, roleKey).toBe(status);
    }
    const stranger = await account(1, "2026-03-01T00:00:00.000Z");
    expect((await stranger.client.get(`${a.base}/billing`)).statusCode).toBe(404);
    expect(
      (await stranger.client.post(`${a.base}/billing/subscription`, { plan: "pro", interval: "month" }))
        .statusCode,
    ).toBe(404);
  });

  it("lets an operator set Enterprise terms from the CLI", async () => {
    const a = await account(2, "2026-03-01T00:00:00.000Z");
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
    const args = ["enterprise", "--account", a.accountId, "--price-cents", "2500", "--seats", "50"];
    expect(await runBillingCommand(args, t.services, out)).toBe(0);
    expect(lines.at(-1)).toMatch(/Enterprise: 2500 cents per seat per month, 50 seat limit, 2 seats in use/);
    expect((await a.client.get(`${a.base}/billing`)).body).toMatchObject({
      plan: "enterprise",
      seats: { limit: 50 },
    });
    expect(await runBillingCommand(["enterprise", "--account", a.accountId], t.services, out)).toBe(2);
    expect(
      await runBillingCommand(
        ["enterprise", "--account", "acct_nope", "--price-cents", "1"],
        t.services,
        out,
      ),
    ).toBe(1);
    expect(
      await runBillingCommand(
        ["enterprise", "--account", a.accountId, "--price-cents", "12.5"],
        t.services,
        out,
      ),
    ).toBe(1);
    expect(await runBillingCommand(["bogus"], t.services, out)).toBe(2);
    expect(await runBillingCommand(["renew"], t.services, out)).toBe(0);
  });

  it("lists the plan catalog publicly", async () => {
    const plans = await createClient(t.app).get("/api/v1/plans");
    expect(plans.statusCode).toBe(200);
    expect(plans.body.data.map((p: { id: string }) => p.id)).toEqual(["free", "pro", "team", "enterprise"]);
    expect(plans.body.data[1]).toMatchObject({
      prices: { month: 1900, year_per_month: 1500 },
      annual_saving_percent: 20,
    });
  });
});
