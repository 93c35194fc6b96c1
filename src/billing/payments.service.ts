import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { type Db, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import { invoicePdf, invoicesCsv } from "./invoice-documents.js";
import {
  claimPaymentAttempt,
  findInvoice,
  findInvoiceById,
  type InvoiceRecord,
  type InvoiceStatusFilter,
  invoiceView,
  listDueInvoices,
  listInvoiceLines,
  listInvoices,
  listOpenInvoices,
  markInvoicePaid,
  recordPaymentFailure,
} from "./invoices.repository.js";
import {
  type PaymentMethodRecord,
  type PaymentMethodsRepository,
  type PaymentMethodView,
  paymentMethodView,
} from "./payment-methods.repository.js";
import type { PaymentMethodType, PaymentProvider } from "./payment-provider.js";

/** Days after a failed attempt until the next automatic one; after the last, no more. */
export const RETRY_DELAYS_DAYS = [1, 3, 5] as const;
/** Enough for any real account; keeps a script from filling the table. */
export const MAX_PAYMENT_METHODS = 20;

export type CollectOutcome =
  | { outcome: "paid"; invoice: InvoiceRecord }
  | { outcome: "failed"; invoice: InvoiceRecord; error: string }
  | {
      outcome: "skipped";
      reason:
        | "not_found"
        | "not_open"
        | "no_subscription"
        | "auto_pay_off"
        | "no_payment_method"
        | "in_progress";
    };

/** When the attempt numbered `attempts` (1-based) failed at `now`, the next automatic one, or null. */
export function nextPaymentAt(attempts: number, now: Date): string | null {
  const days = RETRY_DELAYS_DAYS[attempts - 1];
  return days === undefined ? null : addSeconds(now, days * 86_400).toISOString();
}

/**
 * Payment methods, invoices as documents, and collecting invoices through the payment provider.
 * Charges happen outside any transaction (a real processor is a network call); the attempt is
 * claimed first (see `claimPaymentAttempt`) so two processes never charge the same invoice at once.
 */
export function createPaymentsService(deps: {
  db: Db;
  clock: Clock;
  mailQueue: MailQueue;
  access: AccessCache;
  accounts: AccountsRepository;
  methods: PaymentMethodsRepository;
  provider: PaymentProvider;
  publicUrl: string;
  events: Pick<EventLog, "record">;
}) {
  const { db, clock, access, accounts, methods, provider } = deps;

  /** Records `type` with the invoice as the API shows it after the attempt, in its transaction. */
  async function announce(
    trx: Trx,
    effects: Effects,
    actor: Actor,
    type: "invoice.paid" | "payment.failed",
    invoice: InvoiceRecord,
  ) {
    const current = (await findInvoice(trx, invoice.accountId, invoice.id)) as InvoiceRecord;
    await deps.events.record(trx, effects, actor, {
      accountId: invoice.accountId,
      type,
      data: invoiceView(current),
    });
  }
  const now = () => clock.now().toISOString();

  const canRead = async (userId: string, accountId: string) =>
    requirePermission(await access.get(db, accountId, userId), "billing:read");
  const canManage = async (userId: string, accountId: string) =>
    requirePermission(await access.get(db, accountId, userId), "billing:manage");

  async function getInvoiceRecord(accountId: string, invoiceId: string) {
    const invoice = await findInvoice(db, accountId, invoiceId);
    if (!invoice) throw notFound("Invoice");
    return invoice;
  }

  /** One charge of `invoice` with `method`, recorded (and audited) whatever its outcome. */
  async function attempt(
    invoice: InvoiceRecord,
    method: PaymentMethodRecord,
    actor: Actor,
  ): Promise<CollectOutcome> {
    if (!(await claimPaymentAttempt(db, invoice))) return { outcome: "skipped", reason: "in_progress" };
    const attemptNumber = invoice.paymentAttempts + 1;
    let result: Awaited<ReturnType<PaymentProvider["charge"]>>;
    if (method.provider !== provider.name) {
      result = { ok: false, error: `This payment method belongs to another provider (${method.provider})` };
    } else {
      try {
        result = await provider.charge({
          provider_ref: method.providerRef,
          amount: invoice.total,
          currency: invoice.currency,
          invoice_number: invoice.number,
          idempotency_key: `${invoice.id}:${attemptNumber}`,
        });
      } catch {
        result = { ok: false, error: "The payment provider could not be reached" };
      }
    }
    const at = clock.now();
    const claimed = { ...invoice, paymentAttempts: attemptNumber };
    return transact(db, async (trx, effects) => {
      const changes = {
        number: invoice.number,
        amount: invoice.total,
        currency: invoice.currency,
        payment_method_id: method.id,
        attempt: attemptNumber,
      };
      if (result.ok) {
        await markInvoicePaid(trx, invoice, at.toISOString());
        await recordAudit(
          trx,
          actor,
          {
            accountId: invoice.accountId,
            action: "billing.invoice_paid",
            targetType: "invoice",
            targetId: invoice.id,
            changes: { ...changes, reference: result.reference },
          },
          at,
        );
        await announce(trx, effects, actor, "invoice.paid", invoice);
        return {
          outcome: "paid" as const,
          invoice: { ...claimed, status: "paid" as const, paidAt: at.toISOString(), nextPaymentAt: null },
        };
      }
      const error = result.error.slice(0, 500);
      const next = nextPaymentAt(attemptNumber, at);
      await recordPaymentFailure(trx, invoice, error, next);
      await recordAudit(
        trx,
        actor,
        {
          accountId: invoice.accountId,
          action: "billing.payment_failed",
          targetType: "invoice",
          targetId: invoice.id,
          changes: { ...changes, error, next_payment_at: next },
        },
        at,
      );
      // Its billing contacts are mailed by the notifications consumer (their preferences decide).
      await announce(trx, effects, actor, "payment.failed", invoice);
      return {
        outcome: "failed" as const,
        error,
        invoice: { ...claimed, lastPaymentError: error, nextPaymentAt: next },
      };
    });
  }

  /** Charges an invoice automatically when it is open, auto-pay is on and a default method exists. */
  async function collect(invoiceId: string, actor: Actor = SYSTEM_ACTOR): Promise<CollectOutcome> {
    const invoice = await findInvoiceById(db, invoiceId);
    if (!invoice) return { outcome: "skipped", reason: "not_found" };
    if (invoice.status !== "open") return { outcome: "skipped", reason: "not_open" };
    const subscription = await db
      .selectFrom("subscriptions")
      .select("auto_pay")
      .where("account_id", "=", invoice.accountId)
      .executeTakeFirst();
    if (!subscription) return { outcome: "skipped", reason: "no_subscription" };
    if (Number(subscription.auto_pay) !== 1) return { outcome: "skipped", reason: "auto_pay_off" };
    const method = await methods.findDefault(db, invoice.accountId);
    if (!method) return { outcome: "skipped", reason: "no_payment_method" };
    return attempt(invoice, method, actor);
  }

  /** After a new default method or auto-pay turned on: try the account's open invoices again. */
  async function collectOpen(accountId: string, actor: Actor) {
    for (const invoice of await listOpenInvoices(db, accountId)) await collect(invoice.id, actor);
  }

  return {
    provider,
    collect,

    /** The account's default payment method in its API shape (what the billing overview shows). */
    async defaultMethod(executor: Executor, accountId: string): Promise<PaymentMethodView | null> {
      const method = await methods.findDefault(executor, accountId);
      return method ? paymentMethodView(method, provider) : null;
    },

    /**
     * The scheduled job: every open invoice whose next attempt is due. A due invoice that cannot be
     * charged automatically (auto-pay off, no default method) leaves the schedule; a new default
     * method or auto-pay turned on collects it again.
     */
    async retryDue(): Promise<{ attempted: number; paid: number; failed: number }> {
      const counts = { attempted: 0, paid: 0, failed: 0 };
      for (const invoice of await listDueInvoices(db, now())) {
        const result = await collect(invoice.id);
        if (result.outcome === "skipped") {
          if (result.reason !== "in_progress" && result.reason !== "not_open") {
            await db
              .updateTable("invoices")
              .set({ next_payment_at: null })
              .where("id", "=", invoice.id)
              .where("account_id", "=", invoice.accountId)
              .where("status", "=", "open")
              .execute();
          }
          continue;
        }
        counts.attempted++;
        counts[result.outcome]++;
      }
      return counts;
    },

    async listMethods(userId: string, accountId: string) {
      await canRead(userId, accountId);
      return methods.list(db, accountId);
    },

    async addMethod(
      actor: Actor & { id: string },
      accountId: string,
      input: { type: PaymentMethodType; token: string; makeDefault?: boolean },
    ): Promise<PaymentMethodRecord> {
      await canManage(actor.id, accountId);
      const tokenized = await provider.tokenize(input.type, input.token);
      const id = newId("paymentMethod");
      const becameDefault = await transact(db, async (trx) => {
        await accounts.lock(trx, accountId);
        const count = await methods.count(trx, accountId);
        if (count >= MAX_PAYMENT_METHODS)
          throw new AppError(
            "conflict",
            `An account can keep at most ${MAX_PAYMENT_METHODS} payment methods`,
          );
        await methods.insert(trx, {
          id,
          accountId,
          type: input.type,
          provider: provider.name,
          method: tokenized,
          now: now(),
        });
        const makeDefault = count === 0 || input.makeDefault === true;
        if (makeDefault) await methods.setDefault(trx, accountId, id);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "billing.payment_method_added",
            targetType: "payment_method",
            targetId: id,
            changes: {
              type: input.type,
              provider: provider.name,
              brand: tokenized.brand ?? null,
              bank_name: tokenized.bank_name ?? null,
              last4: tokenized.last4,
              default: makeDefault,
            },
          },
          clock.now(),
        );
        return makeDefault;
      });
      if (becameDefault) await collectOpen(accountId, actor);
      return (await methods.find(db, accountId, id)) as PaymentMethodRecord;
    },

    async makeDefault(actor: Actor & { id: string }, accountId: string, methodId: string) {
      await canManage(actor.id, accountId);
      const changed = await transact(db, async (trx) => {
        await accounts.lock(trx, accountId);
        const method = await methods.find(trx, accountId, methodId);
        if (!method) throw notFound("Payment method");
        if (method.isDefault) return false;
        await methods.setDefault(trx, accountId, methodId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "billing.payment_method_defaulted",
            targetType: "payment_method",
            targetId: methodId,
            changes: { default: true },
          },
          clock.now(),
        );
        return true;
      });
      if (changed) await collectOpen(accountId, actor);
      return (await methods.find(db, accountId, methodId)) as PaymentMethodRecord;
    },

    /** Removing the default makes the newest remaining method the default. */
    async removeMethod(actor: Actor & { id: string }, accountId: string, methodId: string) {
      await canManage(actor.id, accountId);
      await transact(db, async (trx) => {
        await accounts.lock(trx, accountId);
        const method = await methods.find(trx, accountId, methodId);
        if (!method) throw notFound("Payment method");
        await methods.delete(trx, accountId, methodId);
        const successor = method.isDefault ? await methods.newest(trx, accountId) : undefined;
        if (successor) await methods.setDefault(trx, accountId, successor.id);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "billing.payment_method_removed",
            targetType: "payment_method",
            targetId: methodId,
            changes: {
              type: method.type,
              last4: method.last4,
              was_default: method.isDefault,
              new_default_id: successor?.id ?? null,
            },
          },
          clock.now(),
        );
      });
    },

    async setAutoPay(actor: Actor & { id: string }, accountId: string, autoPay: boolean) {
      await canManage(actor.id, accountId);
      const turnedOn = await transact(db, async (trx) => {
        await accounts.lock(trx, accountId);
        const subscription = await trx
          .selectFrom("subscriptions")
          .select("auto_pay")
          .where("account_id", "=", accountId)
          .executeTakeFirst();
        if (!subscription)
          throw new AppError("conflict", "Auto-pay needs a paid plan: this account has no paid plan");
        const before = Number(subscription.auto_pay) === 1;
        if (before === autoPay) return false;
        await trx
          .updateTable("subscriptions")
          .set({ auto_pay: autoPay ? 1 : 0, updated_at: now() })
          .where("account_id", "=", accountId)
          .execute();
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "billing.auto_pay_changed",
            targetType: "account",
            targetId: accountId,
            changes: { auto_pay: { from: before, to: autoPay } },
          },
          clock.now(),
        );
        return autoPay;
      });
      if (turnedOn) await collectOpen(accountId, actor);
      return { autoPay };
    },

    async listInvoices(userId: string, accountId: string, status?: InvoiceStatusFilter) {
      await canRead(userId, accountId);
      return listInvoices(db, accountId, undefined, status);
    },

    async getInvoice(userId: string, accountId: string, invoiceId: string) {
      await canRead(userId, accountId);
      const invoice = await getInvoiceRecord(accountId, invoiceId);
      return { invoice, lines: await listInvoiceLines(db, invoice.id) };
    },

    async invoicePdf(userId: string, accountId: string, invoiceId: string) {
      await canRead(userId, accountId);
      const invoice = await getInvoiceRecord(accountId, invoiceId);
      const body = await invoicePdf(invoice, await listInvoiceLines(db, invoice.id));
      return { filename: `invoice-${invoice.number}.pdf`, body };
    },

    async invoicesCsv(userId: string, accountId: string) {
      await canRead(userId, accountId);
      return invoicesCsv(await listInvoices(db, accountId, 10_000));
    },

    /** Manual payment of an open invoice with the default method; a decline is a 402. */
    async payNow(actor: Actor & { id: string }, accountId: string, invoiceId: string) {
      await canManage(actor.id, accountId);
      const invoice = await getInvoiceRecord(accountId, invoiceId);
      if (invoice.status !== "open")
        throw new AppError("conflict", `The invoice is ${invoice.status}, not open`);
      const method = await methods.findDefault(db, accountId);
      if (!method) throw new AppError("conflict", "Add a payment method first");
      const result = await attempt(invoice, method, actor);
      if (result.outcome === "skipped")
        throw new AppError("conflict", "A payment of this invoice is already in progress");
      if (result.outcome === "failed") throw new AppError("payment_failed", result.error);
      return { invoice: result.invoice, lines: await listInvoiceLines(db, invoice.id) };
    },
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
