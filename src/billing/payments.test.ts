import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccountsRepository } from "../accounts/accounts.repository.js";
import { transact } from "../db/database.js";
import { up as fixInvoiceLineUnits } from "../db/migrations/0013-invoice-line-units.js";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { pdfText } from "../testing/pdf-text.js";
import { csvCell, formatAmount, invoicesCsv } from "./invoice-documents.js";
import {
  createInvoice,
  type InvoiceLineInput,
  type InvoiceRecord,
  invoicePrefix,
} from "./invoices.repository.js";

const DAY = 86_400;
const P_START = "2026-01-15T10:00:00.000Z";
const P_END = "2026-02-15T10:00:00.000Z";

const seats = (quantity: number, unit = 1900): InvoiceLineInput => ({
  kind: "seats",
  description: `Pro × ${quantity} seats`,
  quantity,
  unit_amount: unit,
  amount: quantity * unit,
  period_start: P_START,
  period_end: P_END,
});

describe.each(testDialects())("invoices and payments (%s)", (dialect) => {
  let t: TestApp;
  type Owner = { client: Client; accountId: string; userId: string; email: string };
  let alpha: Owner;
  let beta: Owner;
  let alphaBilling: Client;
  let alphaDeveloper: Client;
  let betaAdmin: Client;
  let betaMonitor: Client;

  const api = (accountId: string, path = "") => `/api/v1/accounts/${accountId}${path}`;

  async function owner(email: string, account: string): Promise<Owner> {
    const o = await signUpAndLogin(t, { email, account, name: "Olive Owner" });
    return { ...o, email };
  }

  async function invoice(accountId: string, lines: InvoiceLineInput[] = [seats(10)]): Promise<InvoiceRecord> {
    return transact(t.services.db, async (trx) => {
      // The billing service calls createInvoice holding the account lock.
      await createAccountsRepository().lock(trx, accountId);
      return createInvoice(trx, {
        accountId,
        periodStart: P_START,
        periodEnd: P_END,
        now: t.services.clock.now().toISOString(),
        lines,
      });
    });
  }

  /** The subscription row the billing service would write on an upgrade. */
  async function subscribe(accountId: string, autoPay = true) {
    const now = t.services.clock.now().toISOString();
    await t.services.db
      .insertInto("subscriptions")
      .values({
        account_id: accountId,
        plan: "pro",
        interval: "month",
        unit_price: 1900,
        seat_limit: null,
        anchor_day: 15,
        period_start: P_START,
        period_end: P_END,
        billed_seats: 1,
        ends_with: null,
        credit_balance: 0,
        auto_pay: autoPay ? 1 : 0,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  async function audit(accountId: string, action: string) {
    return t.services.db
      .selectFrom("audit_events")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("action", "=", action)
      .orderBy("seq")
      .execute();
  }

  async function waitForMail(to: string, subject: RegExp) {
    for (let i = 0; i < 100; i++) {
      const mail = t.mails.find((m) => m.to === to && subject.test(m.subject));
      if (mail) return mail;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no mail "${subject}" to ${to}`);
  }

  const stored = (id: string) =>
    t.services.db.selectFrom("invoices").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    alpha = await owner("olive@alpha.example", "Alpha Co");
    beta = await owner("olive@beta.example", "Beta Co");
    alphaBilling = (
      await addMember(t, alpha, { email: "bill@alpha.example", roleKey: "billing", firstName: "Bill" })
    ).client;
    alphaDeveloper = (await addMember(t, alpha, { email: "dev@alpha.example", roleKey: "developer" })).client;
    betaAdmin = (await addMember(t, beta, { email: "admin@beta.example", roleKey: "admin" })).client;
    betaMonitor = (await addMember(t, beta, { email: "mon@beta.example", roleKey: "monitor" })).client;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("numbers invoices per account in sequence and sums lines into subtotal and total", async () => {
    const first = await invoice(alpha.accountId, [seats(10)]);
    const second = await invoice(alpha.accountId, [
      seats(12),
      {
        kind: "proration",
        description: "2 seats from Jan 25",
        quantity: 2,
        unit_amount: 1563,
        amount: 3126,
        period_start: "2026-01-25T00:00:00.000Z",
        period_end: P_END,
      },
      {
        kind: "credit",
        description: "Unused time on Team",
        quantity: 1,
        unit_amount: -5000,
        amount: -5000,
        period_start: P_START,
        period_end: P_END,
      },
    ]);
    const betaFirst = await invoice(beta.accountId);
    expect(first.number).toBe("ALPHA-CO-0001");
    expect(second.number).toBe("ALPHA-CO-0002");
    expect(betaFirst.number).toBe("BETA-CO-0001");
    expect(second).toMatchObject({ subtotal: 22800 + 3126, total: 22800 + 3126 - 5000, currency: "USD" });
    expect(second.status).toBe("open");
    expect(second.paidAt).toBeNull();

    const free = await invoice(alpha.accountId, [seats(3, 0)]);
    expect(free).toMatchObject({ number: "ALPHA-CO-0003", status: "paid", total: 0 });
    expect(free.paidAt).toBe(free.createdAt);

    await expect(
      invoice(alpha.accountId, [
        seats(1),
        { ...seats(1), kind: "credit", amount: -5000, unit_amount: -5000 },
      ]),
    ).rejects.toThrow(/negative/);
    await expect(invoice(alpha.accountId, [{ ...seats(1), amount: 19.5 }])).rejects.toThrow(/cents/);
    // Every line multiplies out: 8 × −$151.98 is not −$151.98.
    await expect(
      invoice(alpha.accountId, [
        seats(10),
        { ...seats(1), kind: "credit", quantity: 8, unit_amount: -15198, amount: -15198 },
      ]),
    ).rejects.toThrow(/8 × -15198 is not the amount -15198/);
    // The refused invoices took no number.
    expect((await invoice(alpha.accountId)).number).toBe("ALPHA-CO-0004");
  });

  it("corrects stored lines whose quantity × unit was not the amount, keeping amounts (migration 0013)", async () => {
    const legacy = await invoice(beta.accountId, [
      seats(10),
      { ...seats(1), kind: "proration", quantity: 1, unit_amount: 1961, amount: 1961 },
      { ...seats(1), kind: "credit", quantity: 1, unit_amount: -15198, amount: -15198 },
    ]);
    // As lines were stored before: N seats × the full price beside a prorated amount.
    const stored = () =>
      t.services.db
        .selectFrom("invoice_lines")
        .select(["kind", "quantity", "unit_amount", "amount"])
        .where("invoice_id", "=", legacy.id)
        .orderBy("position")
        .execute()
        .then((rows) =>
          rows.map((r) => [r.kind, Number(r.quantity), Number(r.unit_amount), Number(r.amount)]),
        );
    await t.services.db
      .updateTable("invoice_lines")
      .set({ quantity: 2, unit_amount: 1900 })
      .where("invoice_id", "=", legacy.id)
      .where("kind", "=", "proration")
      .execute();
    await t.services.db
      .updateTable("invoice_lines")
      .set({ quantity: 8 })
      .where("invoice_id", "=", legacy.id)
      .where("kind", "=", "credit")
      .execute();
    expect(await stored()).toEqual([
      ["seats", 10, 1900, 19000],
      ["proration", 2, 1900, 1961],
      ["credit", 8, -15198, -15198],
    ]);
    await fixInvoiceLineUnits(t.services.db);
    expect(await stored()).toEqual([
      ["seats", 10, 1900, 19000],
      ["proration", 1, 1961, 1961],
      ["credit", 1, -15198, -15198],
    ]);
  });

  it("shows the list newest first without lines, and one invoice with its lines", async () => {
    const created = await invoice(alpha.accountId, [
      seats(10),
      {
        kind: "proration",
        description: "2 seats, Jan 25 – Feb 15",
        quantity: 2,
        unit_amount: 1287,
        amount: 2574,
        period_start: "2026-01-25T00:00:00.000Z",
        period_end: P_END,
      },
    ]);
    const list = await alphaBilling.get(api(alpha.accountId, "/invoices"));
    expect(list.statusCode).toBe(200);
    const numbers = list.body.data.map((i: { number: string }) => i.number);
    expect(numbers[0]).toBe(created.number);
    expect([...numbers].sort().reverse()).toEqual(numbers);
    expect(list.body.data[0].lines).toBeUndefined();
    expect(list.body.data.every((i: { id: string }) => i.id.startsWith("in_"))).toBe(true);

    const detail = await alphaBilling.get(api(alpha.accountId, `/invoices/${created.id}`));
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toEqual({
      id: created.id,
      number: created.number,
      status: "open",
      period: { start: P_START, end: P_END },
      lines: [
        {
          kind: "seats",
          description: "Pro × 10 seats",
          quantity: 10,
          unit_amount: 1900,
          amount: 19000,
          period: { start: P_START, end: P_END },
        },
        {
          kind: "proration",
          description: "2 seats, Jan 25 – Feb 15",
          quantity: 2,
          unit_amount: 1287,
          amount: 2574,
          period: { start: "2026-01-25T00:00:00.000Z", end: P_END },
        },
      ],
      subtotal: 21574,
      total: 21574,
      currency: "USD",
      bill_to: { legal_name: "Alpha Co", address: null, tax_id: null },
      created_at: created.createdAt,
      paid_at: null,
      payment_attempts: 0,
      next_payment_at: null,
      last_payment_error: null,
    });
  });

  it("renders an invoice as a PDF with its number, lines and total", async () => {
    const created = await invoice(alpha.accountId, [seats(12)]);
    const response = await alpha.client.get(api(alpha.accountId, `/invoices/${created.id}/pdf`));
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/pdf");
    expect(response.headers["content-disposition"]).toContain(`invoice-${created.number}.pdf`);
    const pdf = response.rawPayload;
    expect(pdf.subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(pdf.subarray(-8).toString("latin1")).toContain("%%EOF");
    const text = pdfText(pdf);
    expect(text).toContain(created.number);
    expect(text).toContain("Alpha Co");
    expect(text).toContain("Pro × 12 seats");
    expect(text).toContain("$228.00");
  });

  it("exports the list as CSV with dollars, quoting and formula injection neutralized", async () => {
    const response = await alphaBilling.get(api(alpha.accountId, "/invoices.csv"));
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/csv/);
    const rows = response.payload.trimEnd().split("\r\n");
    expect(rows[0]).toBe("number,date,period_start,period_end,status,total,currency");
    const list = await alphaBilling.get(api(alpha.accountId, "/invoices"));
    expect(rows).toHaveLength(list.body.data.length + 1);
    expect(rows).toContain(
      `ALPHA-CO-0001,${list.body.data.at(-1).created_at.slice(0, 10)},2026-01-15,2026-02-15,open,190.00,USD`,
    );
    expect(rows.some((r) => r.startsWith("ALPHA-CO-0003,") && r.includes(",paid,0.00,USD"))).toBe(true);

    expect(csvCell('He said "hi", then left')).toBe('"He said ""hi"", then left"');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("http://evil.example","x")')).toBe(
      '"\'=HYPERLINK(""http://evil.example"",""x"")"',
    );
    for (const start of ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
      expect(csvCell(start).replace(/^"/, "")[0]).toBe("'");
    expect(csvCell("-12.50", "number")).toBe("-12.50");
    expect(formatAmount(5)).toBe("0.05");
    expect(formatAmount(-1050)).toBe("-10.50");
    expect(formatAmount(123456789)).toBe("1234567.89");
    const injected = invoicesCsv([
      {
        id: "in_x",
        accountId: "acct_x",
        number: "=cmd|' /C calc'!A0",
        status: "open",
        periodStart: P_START,
        periodEnd: P_END,
        subtotal: 100,
        total: 100,
        currency: "USD",
        paymentAttempts: 0,
        nextPaymentAt: null,
        lastPaymentError: null,
        paidAt: null,
        voidedAt: null,
        billTo: { legal_name: "X", address: null, tax_id: null },
        createdAt: P_START,
      },
    ]);
    expect(injected.split("\r\n")[1]).toBe(
      "'=cmd|' /C calc'!A0,2026-01-15,2026-01-15,2026-02-15,open,1.00,USD",
    );
    expect(invoicePrefix("--ü-weird--slug-that-is-long")).toBe("WEIRD-SLUG-T");
    expect(invoicePrefix("---")).toBe("INV");
  });

  it("adds, lists, defaults and removes payment methods, audited", async () => {
    const path = api(beta.accountId, "/payment-methods");
    expect((await beta.client.get(path)).body.data).toEqual([]);

    const visa = await beta.client.post(path, { type: "card", token: "tok_visa" });
    expect(visa.statusCode).toBe(201);
    expect(visa.body).toMatchObject({
      type: "card",
      brand: "Visa",
      bank_name: null,
      last4: "4242",
      exp_month: 12,
      exp_year: 2034,
      default: true,
      provider: "offline",
    });
    expect(visa.body.provider_label).toMatch(/offline test provider/i);
    expect(visa.body.id).toMatch(/^pm_/);
    expect(JSON.stringify(visa.body)).not.toContain("tok_visa");

    t.services.clock.advance(1);
    const ach = await betaAdmin.post(path, { type: "ach", token: "tok_ach" });
    expect(ach.statusCode).toBe(201);
    expect(ach.body).toMatchObject({
      type: "ach",
      bank_name: "Test Bank",
      last4: "6789",
      brand: null,
      default: false,
    });

    t.services.clock.advance(1);
    const master = await beta.client.post(path, { type: "card", token: "tok_mastercard", default: true });
    expect(master.body).toMatchObject({ brand: "Mastercard", default: true });
    t.services.clock.advance(1);
    const amex = await beta.client.post(path, { type: "card", token: "tok_amex", default: false });
    expect(amex.body).toMatchObject({ brand: "American Express", default: false });

    let list = await betaMonitor.get(path);
    expect(list.statusCode).toBe(403);
    list = await beta.client.get(path);
    expect(list.body.provider).toMatchObject({ name: "offline", test_mode: true });
    expect(list.body.provider.label).toMatch(/offline test provider/i);
    expect(
      list.body.data.filter((m: { default: boolean }) => m.default).map((m: { id: string }) => m.id),
    ).toEqual([master.body.id]);
    expect(list.body.data[0].id).toBe(master.body.id);

    const patched = await beta.client.patch(`${path}/${visa.body.id}`, { default: true });
    expect(patched.statusCode).toBe(200);
    expect(patched.body.default).toBe(true);
    list = await beta.client.get(path);
    expect(list.body.data.filter((m: { default: boolean }) => m.default)).toHaveLength(1);

    // Removing the default makes the newest remaining one (amex) the default.
    expect((await beta.client.delete(`${path}/${visa.body.id}`)).statusCode).toBe(204);
    list = await beta.client.get(path);
    expect(list.body.data.map((m: { id: string; default: boolean }) => [m.id, m.default])).toEqual([
      [amex.body.id, true],
      [master.body.id, false],
      [ach.body.id, false],
    ]);
    // Removing another leaves the default alone.
    expect((await beta.client.delete(`${path}/${ach.body.id}`)).statusCode).toBe(204);
    expect((await beta.client.delete(`${path}/${ach.body.id}`)).statusCode).toBe(404);
    list = await beta.client.get(path);
    expect(list.body.data.map((m: { id: string; default: boolean }) => [m.id, m.default])).toEqual([
      [amex.body.id, true],
      [master.body.id, false],
    ]);

    expect(await audit(beta.accountId, "billing.payment_method_added")).toHaveLength(4);
    const removed = await audit(beta.accountId, "billing.payment_method_removed");
    expect(removed).toHaveLength(2);
    expect(JSON.parse(removed[0]?.changes ?? "{}")).toMatchObject({
      was_default: true,
      new_default_id: amex.body.id,
    });
    const defaulted = await audit(beta.accountId, "billing.payment_method_defaulted");
    expect(defaulted.map((e) => e.target_id)).toEqual([visa.body.id]);
    expect(defaulted[0]?.actor_id).toBe(beta.userId);
  });

  it("refuses bad input with 400", async () => {
    const path = api(beta.accountId, "/payment-methods");
    const bad = [
      { type: "card", token: "tok_nope" },
      { type: "card", token: "tok_ach" },
      { type: "ach", token: "tok_visa" },
      { type: "paypal", token: "tok_visa" },
      { type: "card", token: 4242 },
      { type: "card" },
      { type: "card", token: "" },
      { type: "card", token: "x".repeat(10_000) },
      { type: "card", token: "tok_visa", default: "yes" },
      { type: "card", token: "tok_visa", card_number: "4242424242424242" },
      [],
      "tok_visa",
    ];
    for (const body of bad) {
      const response = await beta.client.post(path, body);
      expect(response.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(response.body.code).toMatch(/validation_failed|invalid_json/);
    }
    const unknown = await beta.client.post(path, { type: "card", token: "tok_nope" });
    expect(unknown.body.errors[0]).toMatchObject({ path: "token", code: "unknown_token" });
    expect(unknown.body.errors[0].message).toContain("tok_visa");

    const methods = await beta.client.get(path);
    const id = methods.body.data[0].id;
    for (const body of [{ default: false }, { default: "true" }, {}, { default: true, brand: "x" }])
      expect((await beta.client.patch(`${path}/${id}`, body)).statusCode).toBe(400);
    for (const body of [{ auto_pay: "yes" }, {}, { auto_pay: 1 }])
      expect((await beta.client.patch(api(beta.accountId, "/billing/auto-pay"), body)).statusCode).toBe(400);
    expect((await beta.client.get(api(beta.accountId, `/invoices/${"x".repeat(80)}`))).statusCode).toBe(400);
    expect((await beta.client.get(api(beta.accountId, "/invoices/in_missing"))).statusCode).toBe(404);
    expect((await beta.client.get(path)).body.data).toHaveLength(methods.body.data.length);
  });

  it("lets Root, Admin and Billing use billing; Developer and Monitor get 403", async () => {
    const alphaInvoice = await invoice(alpha.accountId, [seats(1, 0)]);
    const betaInvoice = await invoice(beta.accountId, [seats(1, 0)]);
    const cases: Array<[string, Client, string, string, boolean]> = [
      ["root", alpha.client, alpha.accountId, alphaInvoice.id, true],
      ["billing", alphaBilling, alpha.accountId, alphaInvoice.id, true],
      ["developer", alphaDeveloper, alpha.accountId, alphaInvoice.id, false],
      ["admin", betaAdmin, beta.accountId, betaInvoice.id, true],
      ["monitor", betaMonitor, beta.accountId, betaInvoice.id, false],
    ];
    for (const [role, client, accountId, invoiceId, allowed] of cases) {
      const expectStatus = (status: number, expected: number) =>
        expect(status, role).toBe(allowed ? expected : 403);
      expectStatus((await client.get(api(accountId, "/payment-methods"))).statusCode, 200);
      expectStatus((await client.get(api(accountId, "/invoices"))).statusCode, 200);
      expectStatus((await client.get(api(accountId, `/invoices/${invoiceId}`))).statusCode, 200);
      expectStatus((await client.get(api(accountId, `/invoices/${invoiceId}/pdf`))).statusCode, 200);
      expectStatus((await client.get(api(accountId, "/invoices.csv"))).statusCode, 200);
      const added = await client.post(api(accountId, "/payment-methods"), {
        type: "card",
        token: "tok_visa",
      });
      expectStatus(added.statusCode, 201);
      const methodPath = api(accountId, `/payment-methods/${allowed ? added.body.id : "pm_x"}`);
      expectStatus((await client.patch(methodPath, { default: true })).statusCode, 200);
      expectStatus((await client.delete(methodPath)).statusCode, 204);
      // Paid already: 409 for whoever may pay.
      expectStatus((await client.post(api(accountId, `/invoices/${invoiceId}/pay`))).statusCode, 409);
      // No paid plan yet: 409 for whoever may change it.
      expectStatus(
        (await client.patch(api(accountId, "/billing/auto-pay"), { auto_pay: false })).statusCode,
        409,
      );
    }
  });

  it("keeps accounts apart: another account's invoices and methods are 404", async () => {
    const alphaInvoice = await invoice(alpha.accountId);
    const alphaMethod = (
      await alpha.client.post(api(alpha.accountId, "/payment-methods"), { type: "card", token: "tok_visa" })
    ).body.id as string;
    const before = await stored(alphaInvoice.id);
    // Beta's Root, with alpha's ids under beta's account…
    for (const [method, path, body] of [
      ["GET", `/invoices/${alphaInvoice.id}`, undefined],
      ["GET", `/invoices/${alphaInvoice.id}/pdf`, undefined],
      ["POST", `/invoices/${alphaInvoice.id}/pay`, {}],
      ["PATCH", `/payment-methods/${alphaMethod}`, { default: true }],
      ["DELETE", `/payment-methods/${alphaMethod}`, undefined],
    ] as const) {
      const response = await beta.client.request(method, api(beta.accountId, path), body);
      expect(response.statusCode, `${method} ${path}`).toBe(404);
    }
    // …and under alpha's account, of which beta's Root is no member.
    for (const path of ["/invoices", "/invoices.csv", "/payment-methods", `/invoices/${alphaInvoice.id}`]) {
      expect((await beta.client.get(api(alpha.accountId, path))).statusCode, path).toBe(404);
    }
    expect(
      (await beta.client.post(api(alpha.accountId, "/payment-methods"), { type: "card", token: "tok_visa" }))
        .statusCode,
    ).toBe(404);
    expect(
      (await beta.client.patch(api(alpha.accountId, "/billing/auto-pay"), { auto_pay: false })).statusCode,
    ).toBe(404);
    const betaList = await beta.client.get(api(beta.accountId, "/invoices"));
    expect(betaList.body.data.map((i: { id: string }) => i.id)).not.toContain(alphaInvoice.id);
    expect(await stored(alphaInvoice.id)).toEqual(before);
    const alphaMethods = await alpha.client.get(api(alpha.accountId, "/payment-methods"));
    expect(alphaMethods.body.data.map((m: { id: string }) => m.id)).toContain(alphaMethod);
  });

  it("collects an invoice with auto-pay and the default method; a decline leaves it open and mails the billing contacts", async () => {
    const gamma = await owner("olive@gamma.example", "Gamma Co");
    await addMember(t, gamma, { email: "bill@gamma.example", roleKey: "billing", firstName: "Bill" });
    await addMember(t, gamma, { email: "dev@gamma.example", roleKey: "developer" });
    const methods = api(gamma.accountId, "/payment-methods");

    // No subscription: nothing is charged.
    const early = await invoice(gamma.accountId);
    expect(await t.services.payments.collect(early.id)).toEqual({
      outcome: "skipped",
      reason: "no_subscription",
    });
    await subscribe(gamma.accountId);
    expect(await t.services.payments.collect(early.id)).toEqual({
      outcome: "skipped",
      reason: "no_payment_method",
    });

    // A declining card is stored (and, as the new default with auto-pay on, tried on the open invoice at once).
    const declined = await gamma.client.post(methods, { type: "card", token: "tok_declined" });
    expect(declined.statusCode).toBe(201);
    expect(declined.body).toMatchObject({ brand: "Visa", last4: "0002", default: true });
    expect(await stored(early.id)).toMatchObject({ status: "open", payment_attempts: 1 });

    const mailsBefore = t.mails.length;
    const created = await invoice(gamma.accountId, [seats(10)]);
    const failedAt = t.services.clock.now();
    const result = await t.services.payments.collect(created.id);
    expect(result.outcome).toBe("failed");
    const row = await stored(created.id);
    expect(row).toMatchObject({ status: "open", payment_attempts: 1, paid_at: null });
    expect(row.last_payment_error).toMatch(/declined/);
    const next = new Date(row.next_payment_at as string).getTime();
    expect(next - failedAt.getTime()).toBeGreaterThanOrEqual(DAY * 1000);
    expect(next - failedAt.getTime()).toBeLessThan(DAY * 1000 + 60_000);

    const detail = await gamma.client.get(api(gamma.accountId, `/invoices/${created.id}`));
    expect(detail.body).toMatchObject({
      status: "open",
      payment_attempts: 1,
      next_payment_at: row.next_payment_at,
    });

    const ownerMail = await waitForMail(
      gamma.email,
      new RegExp(`Payment failed for invoice ${created.number}`),
    );
    expect(ownerMail.text).toContain("$190.00");
    expect(ownerMail.text).toMatch(/declined/);
    expect(ownerMail.text).toMatch(/try again on/);
    expect(ownerMail.text).toContain("http://gatehouse.test/settings/billing");
    await waitForMail("bill@gamma.example", new RegExp(created.number));
    expect(
      t.mails
        .slice(mailsBefore)
        .filter((m) => m.subject.includes(created.number))
        .map((m) => m.to)
        .sort(),
    ).toEqual(["bill@gamma.example", gamma.email].sort());

    const failures = await audit(gamma.accountId, "billing.payment_failed");
    expect(failures.at(-1)).toMatchObject({ target_id: created.id, actor_type: "system" });

    // A good card as the new default: open invoices are collected at once.
    const visa = await gamma.client.post(methods, { type: "card", token: "tok_visa", default: true });
    expect(visa.statusCode).toBe(201);
    for (const id of [early.id, created.id]) {
      const paid = await stored(id);
      expect(paid.status).toBe("paid");
      expect(paid.paid_at).not.toBeNull();
      expect(paid.next_payment_at).toBeNull();
      expect(paid.last_payment_error).toBeNull();
    }
    const paidEvents = await audit(gamma.accountId, "billing.invoice_paid");
    expect(paidEvents.map((e) => e.target_id).sort()).toEqual([early.id, created.id].sort());
    expect(JSON.parse(paidEvents[0]?.changes ?? "{}").reference).toMatch(/^offline_ch_/);

    // Paid invoices are not charged again.
    expect(await t.services.payments.collect(created.id)).toEqual({ outcome: "skipped", reason: "not_open" });
    // A new invoice is paid by collect; two collectors at once charge it once.
    const another = await invoice(gamma.accountId, [seats(3)]);
    const outcomes = await Promise.all([
      t.services.payments.collect(another.id),
      t.services.payments.collect(another.id),
    ]);
    expect(outcomes.filter((o) => o.outcome === "paid")).toHaveLength(1);
    expect(
      (await audit(gamma.accountId, "billing.invoice_paid")).filter((e) => e.target_id === another.id),
    ).toHaveLength(1);
    expect(await stored(another.id)).toMatchObject({ status: "paid", payment_attempts: 1 });
  });

  it("turns auto-pay off and on (needs a paid plan), and pays an invoice by hand", async () => {
    const delta = await owner("olive@delta.example", "Delta Co");
    const autoPay = api(delta.accountId, "/billing/auto-pay");
    const refused = await delta.client.patch(autoPay, { auto_pay: false });
    expect(refused.statusCode).toBe(409);
    expect(refused.body.detail).toMatch(/no paid plan/);

    await subscribe(delta.accountId);
    const off = await delta.client.patch(autoPay, { auto_pay: false });
    expect(off.statusCode).toBe(200);
    expect(off.body).toEqual({ auto_pay: false });
    const sub = await t.services.db
      .selectFrom("subscriptions")
      .select("auto_pay")
      .where("account_id", "=", delta.accountId)
      .executeTakeFirstOrThrow();
    expect(Number(sub.auto_pay)).toBe(0);
    const changed = await audit(delta.accountId, "billing.auto_pay_changed");
    expect(JSON.parse(changed[0]?.changes ?? "{}")).toEqual({ auto_pay: { from: true, to: false } });

    const open = await invoice(delta.accountId, [seats(15)]);
    const pay = api(delta.accountId, `/invoices/${open.id}/pay`);
    expect((await delta.client.post(pay)).statusCode).toBe(409); // no payment method

    await delta.client.post(api(delta.accountId, "/payment-methods"), {
      type: "ach",
      token: "tok_ach_declined",
    });
    // Auto-pay is off: adding a method charges nothing.
    expect(await stored(open.id)).toMatchObject({ status: "open", payment_attempts: 0 });
    expect(await t.services.payments.collect(open.id)).toEqual({
      outcome: "skipped",
      reason: "auto_pay_off",
    });

    const declined = await delta.client.post(pay);
    expect(declined.statusCode).toBe(402);
    expect(declined.body.code).toBe("payment_failed");
    expect(declined.body.detail).toMatch(/bank declined/);
    expect(await stored(open.id)).toMatchObject({ status: "open", payment_attempts: 1 });
    await waitForMail(delta.email, new RegExp(open.number));

    const good = await delta.client.post(api(delta.accountId, "/payment-methods"), {
      type: "card",
      token: "tok_amex",
      default: true,
    });
    expect(good.statusCode).toBe(201);
    expect(await stored(open.id)).toMatchObject({ status: "open" });

    const paid = await delta.client.post(pay);
    expect(paid.statusCode).toBe(200);
    expect(paid.body).toMatchObject({ id: open.id, status: "paid", total: 28500, payment_attempts: 2 });
    expect(paid.body.paid_at).not.toBeNull();
    expect(paid.body.lines).toHaveLength(1);
    const event = (await audit(delta.accountId, "billing.invoice_paid")).at(-1);
    expect(event).toMatchObject({ target_id: open.id, actor_id: delta.userId, actor_type: "user" });
    expect((await delta.client.post(pay)).statusCode).toBe(409);

    // Turning auto-pay back on collects what is open.
    const later = await invoice(delta.accountId, [seats(2)]);
    const on = await delta.client.patch(autoPay, { auto_pay: true });
    expect(on.body).toEqual({ auto_pay: true });
    expect(await stored(later.id)).toMatchObject({ status: "paid" });
    expect(await audit(delta.accountId, "billing.auto_pay_changed")).toHaveLength(2);
  });

  it("retries a declined payment after 1, 3 and 5 days, then stops", async () => {
    const omega = await owner("olive@omega.example", "Omega Co");
    await omega.client.patch(api(omega.accountId, "/security"), { mfa: { required_role_ids: [] } });
    await subscribe(omega.accountId);
    await omega.client.post(api(omega.accountId, "/payment-methods"), {
      type: "card",
      token: "tok_declined",
    });
    const created = await invoice(omega.accountId, [seats(30, 3100)]);
    expect((await t.services.payments.collect(created.id)).outcome).toBe("failed");

    const { clock, payments } = t.services;
    const attempts = async () => Number((await stored(created.id)).payment_attempts);
    const nextAt = async () => (await stored(created.id)).next_payment_at;
    const gaps: Array<number | null> = [];
    let previous = clock.now().getTime();
    for (const days of [1, 3, 5]) {
      const due = new Date(String(await nextAt())).getTime();
      gaps.push(Math.round((due - previous) / 1000 / DAY));
      // Not yet due: nothing happens.
      clock.advance((due - clock.now().getTime()) / 1000 - 60);
      const before = await attempts();
      await payments.retryDue();
      expect(await attempts()).toBe(before);
      clock.advance(61);
      previous = clock.now().getTime();
      const counts = await payments.retryDue();
      expect(counts.failed, `after ${days} days`).toBeGreaterThanOrEqual(1);
      expect(await attempts()).toBe(before + 1);
    }
    expect(gaps).toEqual([1, 3, 5]);
    expect(await nextAt()).toBeNull();
    expect((await stored(created.id)).status).toBe("open");
    clock.advance(30 * DAY);
    await payments.retryDue();
    expect(await attempts()).toBe(4);

    const failureMails = t.mails.filter((m) => m.to === omega.email && m.subject.includes(created.number));
    for (let i = 0; i < 100 && failureMails.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 20));
      failureMails.splice(
        0,
        failureMails.length,
        ...t.mails.filter((m) => m.to === omega.email && m.subject.includes(created.number)),
      );
    }
    expect(failureMails).toHaveLength(4);
    expect(failureMails.at(-1)?.text).toMatch(/will not try again automatically/);

    // The dev job runner runs the retries too and reports counts.
    const retried = await invoice(omega.accountId, [seats(1)]);
    await payments.collect(retried.id);
    clock.advance(DAY + 1);
    const dev = await createClient(t.app).post("/dev/jobs/run");
    expect(dev.statusCode).toBe(200);
    expect(dev.body.payments).toMatchObject({ attempted: 1, failed: 1, paid: 0 });

    // After a fix the owner logs in again (the session idled out) and pays by hand.
    const client = createClient(t.app);
    const login = await client.post("/api/v1/auth/login", { email: omega.email, password: STRONG_PASSWORD });
    expect(login.statusCode).toBe(200);
    await client.post(api(omega.accountId, "/payment-methods"), {
      type: "card",
      token: "tok_visa",
      default: true,
    });
    // Auto-pay is on, so the new default collected both open invoices.
    expect((await stored(created.id)).status).toBe("paid");
    expect((await stored(retried.id)).status).toBe("paid");
    const csv = await client.get(api(omega.accountId, "/invoices.csv"));
    expect(csv.payload).toContain(`${created.number},`);
    expect(csv.payload).toContain(",paid,930.00,USD");
  });
});
