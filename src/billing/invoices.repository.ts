// Placeholder with the agreed signature; the invoices/payments branch brings the full repository.
import type { Executor } from "../db/database.js";
import { newId } from "../lib/ids.js";

export type InvoiceLineInput = {
  kind: "seats" | "proration" | "credit";
  description: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  period_start: string;
  period_end: string;
};

export type InvoiceRecord = { id: string; number: string; status: string; total: number };

export async function createInvoice(
  trx: Executor,
  input: {
    accountId: string;
    periodStart: string;
    periodEnd: string;
    now: string;
    lines: InvoiceLineInput[];
  },
): Promise<InvoiceRecord> {
  const total = input.lines.reduce((sum, line) => sum + line.amount, 0);
  if (total < 0) throw new Error("an invoice total cannot be negative");
  const subtotal = input.lines.filter((l) => l.amount > 0).reduce((sum, line) => sum + line.amount, 0);
  const count = await trx
    .selectFrom("invoices")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("account_id", "=", input.accountId)
    .executeTakeFirstOrThrow();
  const id = newId("invoice");
  const number = `${input.accountId.slice(-6).toUpperCase()}-${String(Number(count.n) + 1).padStart(4, "0")}`;
  const status = total > 0 ? "open" : "paid";
  await trx
    .insertInto("invoices")
    .values({
      id,
      account_id: input.accountId,
      number,
      status,
      period_start: input.periodStart,
      period_end: input.periodEnd,
      subtotal,
      total,
      currency: "USD",
      payment_attempts: 0,
      next_payment_at: null,
      last_payment_error: null,
      paid_at: status === "paid" ? input.now : null,
      voided_at: null,
      created_at: input.now,
    })
    .execute();
  for (const [position, line] of input.lines.entries()) {
    await trx
      .insertInto("invoice_lines")
      .values({ id: newId("invoiceLine"), invoice_id: id, position, ...line })
      .execute();
  }
  return { id, number, status, total };
}
