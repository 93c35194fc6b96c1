import { type PostalAddress, parseAddress } from "../accounts/organization.js";
import type { Executor } from "../db/database.js";
import type { InvoiceLinesTable, InvoicesTable } from "../db/tables.js";
import { newId } from "../lib/ids.js";

export type InvoiceStatus = "draft" | "open" | "paid" | "void";
export type InvoiceLineKind = "seats" | "proration" | "credit";

/** One line as the billing service hands it over: integer cents, ISO timestamps for what it covers. */
export type InvoiceLineInput = {
  kind: InvoiceLineKind;
  description: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  period_start: string;
  period_end: string;
};

export type InvoiceLine = {
  id: string;
  position: number;
  kind: InvoiceLineKind;
  description: string;
  quantity: number;
  unitAmount: number;
  amount: number;
  periodStart: string;
  periodEnd: string;
};

/** Who an invoice bills, as the account's profile said when it was issued. */
export type BillTo = { legal_name: string; address: PostalAddress | null; tax_id: string | null };

export type InvoiceRecord = {
  id: string;
  accountId: string;
  number: string;
  status: InvoiceStatus;
  periodStart: string;
  periodEnd: string;
  /** Cents: the sum of the positive lines. */
  subtotal: number;
  /** Cents: the sum of all lines (credits are negative); never below zero. */
  total: number;
  currency: string;
  paymentAttempts: number;
  nextPaymentAt: string | null;
  lastPaymentError: string | null;
  paidAt: string | null;
  voidedAt: string | null;
  billTo: BillTo;
  createdAt: string;
};

const toInvoice = (row: InvoicesTable): InvoiceRecord => ({
  id: row.id,
  accountId: row.account_id,
  number: row.number,
  status: row.status as InvoiceStatus,
  periodStart: row.period_start,
  periodEnd: row.period_end,
  subtotal: Number(row.subtotal),
  total: Number(row.total),
  currency: row.currency,
  paymentAttempts: Number(row.payment_attempts),
  nextPaymentAt: row.next_payment_at,
  lastPaymentError: row.last_payment_error,
  paidAt: row.paid_at,
  voidedAt: row.voided_at,
  // Migration 0022 gave every earlier invoice one; the fallback only guards against a hand-made row.
  billTo: row.bill_to ? (JSON.parse(row.bill_to) as BillTo) : { legal_name: "", address: null, tax_id: null },
  createdAt: row.created_at,
});

const toLine = (row: InvoiceLinesTable): InvoiceLine => ({
  id: row.id,
  position: Number(row.position),
  kind: row.kind as InvoiceLineKind,
  description: row.description,
  quantity: Number(row.quantity),
  unitAmount: Number(row.unit_amount),
  amount: Number(row.amount),
  periodStart: row.period_start,
  periodEnd: row.period_end,
});

/** `ACME-CORP` from the slug `acme-corp`: upper case, letters, digits and single hyphens, 12 at most. */
export function invoicePrefix(slug: string): string {
  const cleaned = slug
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 12)
    .replace(/-+$/, "");
  return cleaned || "INV";
}

function assertCents(value: number, what: string) {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be whole cents, got ${value}`);
}

/**
 * Creates an invoice with its lines. The caller's transaction must hold the account lock
 * (`accounts.lock`): the number is the account's invoice count + 1, so two invoices created at once
 * would otherwise get the same one (the unique index would then refuse the second).
 * An invoice with nothing to pay is paid at once. Every line multiplies out: quantity × unit_amount =
 * amount, in whole cents (a line whose amount is not a multiple of a per-unit price is quantity 1).
 */
export async function createInvoice(
  trx: Executor,
  input: {
    accountId: string;
    periodStart: string;
    periodEnd: string;
    now: string;
    lines: Array<InvoiceLineInput>;
  },
): Promise<InvoiceRecord> {
  for (const [i, line] of input.lines.entries()) {
    assertCents(line.amount, `lines[${i}].amount`);
    assertCents(line.unit_amount, `lines[${i}].unit_amount`);
    if (!Number.isSafeInteger(line.quantity)) throw new RangeError(`lines[${i}].quantity must be an integer`);
    // What the API, the web page and the PDF show must add up for a reader: quantity × unit = amount.
    if (line.quantity * line.unit_amount !== line.amount) {
      throw new RangeError(
        `lines[${i}]: ${line.quantity} × ${line.unit_amount} is not the amount ${line.amount}`,
      );
    }
  }
  const subtotal = input.lines.reduce((sum, l) => (l.amount > 0 ? sum + l.amount : sum), 0);
  const total = input.lines.reduce((sum, l) => sum + l.amount, 0);
  if (total < 0) throw new RangeError(`An invoice total cannot be negative (${total})`);

  const account = await trx
    .selectFrom("accounts")
    .select(["slug", "name", "legal_name", "address", "tax_id"])
    .where("id", "=", input.accountId)
    .executeTakeFirstOrThrow();
  // Past invoices never change: who is billed is copied from the profile now, not read later.
  const billTo: BillTo = {
    legal_name: account.legal_name ?? account.name,
    address: parseAddress(account.address),
    tax_id: account.tax_id,
  };
  const count = await trx
    .selectFrom("invoices")
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .where("account_id", "=", input.accountId)
    .executeTakeFirstOrThrow();
  const number = `${invoicePrefix(account.slug)}-${String(Number(count.n) + 1).padStart(4, "0")}`;

  const row: InvoicesTable = {
    id: newId("invoice"),
    account_id: input.accountId,
    number,
    status: total > 0 ? "open" : "paid",
    period_start: input.periodStart,
    period_end: input.periodEnd,
    subtotal,
    total,
    currency: "USD",
    payment_attempts: 0,
    next_payment_at: null,
    last_payment_error: null,
    paid_at: total > 0 ? null : input.now,
    voided_at: null,
    bill_to: JSON.stringify(billTo),
    created_at: input.now,
  };
  await trx.insertInto("invoices").values(row).execute();
  if (input.lines.length > 0) {
    await trx
      .insertInto("invoice_lines")
      .values(
        input.lines.map((line, position) => ({
          id: newId("invoiceLine"),
          invoice_id: row.id,
          position,
          kind: line.kind,
          description: line.description,
          quantity: line.quantity,
          unit_amount: line.unit_amount,
          amount: line.amount,
          period_start: line.period_start,
          period_end: line.period_end,
        })),
      )
      .execute();
  }
  return toInvoice(row);
}

/** The account's invoices, newest first. */
/** An invoice list filter: a stored status, or "failed" — open with a failed payment attempt. */
export type InvoiceStatusFilter = InvoiceStatus | "failed";

export async function listInvoices(
  db: Executor,
  accountId: string,
  limit = 500,
  status?: InvoiceStatusFilter,
): Promise<InvoiceRecord[]> {
  let query = db.selectFrom("invoices").selectAll().where("account_id", "=", accountId);
  if (status === "failed")
    query = query.where("status", "=", "open").where("last_payment_error", "is not", null);
  else if (status !== undefined) query = query.where("status", "=", status);
  const rows = await query.orderBy("created_at", "desc").orderBy("number", "desc").limit(limit).execute();
  return rows.map(toInvoice);
}

export async function findInvoice(
  db: Executor,
  accountId: string,
  invoiceId: string,
): Promise<InvoiceRecord | undefined> {
  const row = await db
    .selectFrom("invoices")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("id", "=", invoiceId)
    .executeTakeFirst();
  return row && toInvoice(row);
}

/** By id alone: for the system's own jobs (collection, retries), never for a request. */
export async function findInvoiceById(db: Executor, invoiceId: string): Promise<InvoiceRecord | undefined> {
  const row = await db.selectFrom("invoices").selectAll().where("id", "=", invoiceId).executeTakeFirst();
  return row && toInvoice(row);
}

export async function listOpenInvoices(db: Executor, accountId: string): Promise<InvoiceRecord[]> {
  const rows = await db
    .selectFrom("invoices")
    .selectAll()
    .where("account_id", "=", accountId)
    .where("status", "=", "open")
    .orderBy("created_at")
    .execute();
  return rows.map(toInvoice);
}

/** Open invoices whose next automatic payment attempt is due. */
export async function listDueInvoices(db: Executor, now: string, limit = 500): Promise<InvoiceRecord[]> {
  const rows = await db
    .selectFrom("invoices")
    .selectAll()
    .where("status", "=", "open")
    .where("next_payment_at", "is not", null)
    .where("next_payment_at", "<=", now)
    .orderBy("next_payment_at")
    .limit(limit)
    .execute();
  return rows.map(toInvoice);
}

export async function listInvoiceLines(db: Executor, invoiceId: string): Promise<InvoiceLine[]> {
  const rows = await db
    .selectFrom("invoice_lines")
    .selectAll()
    .where("invoice_id", "=", invoiceId)
    .orderBy("position")
    .execute();
  return rows.map(toLine);
}

/**
 * Claims the next payment attempt of an open invoice: only one caller wins attempt `n + 1` (the
 * update is conditional on the count it read), so two processes never charge the same attempt.
 */
export async function claimPaymentAttempt(db: Executor, invoice: InvoiceRecord): Promise<boolean> {
  const result = await db
    .updateTable("invoices")
    .set({ payment_attempts: invoice.paymentAttempts + 1 })
    .where("id", "=", invoice.id)
    .where("account_id", "=", invoice.accountId)
    .where("status", "=", "open")
    .where("payment_attempts", "=", invoice.paymentAttempts)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markInvoicePaid(db: Executor, invoice: InvoiceRecord, paidAt: string): Promise<void> {
  await db
    .updateTable("invoices")
    .set({ status: "paid", paid_at: paidAt, next_payment_at: null, last_payment_error: null })
    .where("id", "=", invoice.id)
    .where("account_id", "=", invoice.accountId)
    .execute();
}

export async function recordPaymentFailure(
  db: Executor,
  invoice: InvoiceRecord,
  error: string,
  nextPaymentAt: string | null,
): Promise<void> {
  await db
    .updateTable("invoices")
    .set({ last_payment_error: error.slice(0, 500), next_payment_at: nextPaymentAt })
    .where("id", "=", invoice.id)
    .where("account_id", "=", invoice.accountId)
    .execute();
}

/** The API shape; the list leaves `lines` out (pass none). */
export function invoiceView(record: InvoiceRecord, lines?: readonly InvoiceLine[]) {
  return {
    id: record.id,
    number: record.number,
    status: record.status,
    period: { start: record.periodStart, end: record.periodEnd },
    ...(lines
      ? {
          lines: lines.map((l) => ({
            kind: l.kind,
            description: l.description,
            quantity: l.quantity,
            unit_amount: l.unitAmount,
            amount: l.amount,
            period: { start: l.periodStart, end: l.periodEnd },
          })),
        }
      : {}),
    subtotal: record.subtotal,
    total: record.total,
    currency: record.currency,
    created_at: record.createdAt,
    paid_at: record.paidAt,
    payment_attempts: record.paymentAttempts,
    next_payment_at: record.nextPaymentAt,
    last_payment_error: record.lastPaymentError,
    bill_to: record.billTo,
  };
}

export type InvoiceView = ReturnType<typeof invoiceView>;
