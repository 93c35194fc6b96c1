import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { AccountsService } from "../accounts/accounts.service.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { refuseWhileClosing } from "../closure/closure-guard.js";
import { type Db, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import type { SubscriptionsTable } from "../db/tables.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import {
  createInvoice,
  findInvoice,
  type InvoiceLineInput,
  type InvoiceRecord,
  invoiceView,
} from "./invoices.repository.js";
import type { PaymentMethodView } from "./payment-methods.repository.js";
import { periodEnd, periodPrice, prorate } from "./periods.js";
import type { Interval, Plan, PlanId } from "./plans.js";

export type Subscription = {
  accountId: string;
  plan: PlanId;
  interval: Interval;
  unitPrice: number;
  seatLimit: number | null;
  /** Enterprise: the operator's API rate and key limit; null = the plan's. */
  apiRatePerMinute: number | null;
  apiKeysLimit: number | null;
  webhooksLimit: number | null;
  anchorDay: number;
  periodStart: string;
  periodEnd: string;
  billedSeats: number;
  endsWith: "free" | null;
  creditBalance: number;
  autoPay: boolean;
};

const toSubscription = (r: SubscriptionsTable): Subscription => ({
  accountId: r.account_id,
  plan: r.plan as PlanId,
  interval: r.interval as Interval,
  unitPrice: Number(r.unit_price),
  seatLimit: r.seat_limit === null ? null : Number(r.seat_limit),
  apiRatePerMinute: r.api_rate_per_minute === null ? null : Number(r.api_rate_per_minute),
  apiKeysLimit: r.api_keys_limit === null ? null : Number(r.api_keys_limit),
  webhooksLimit: r.webhooks_limit === null ? null : Number(r.webhooks_limit),
  anchorDay: Number(r.anchor_day),
  periodStart: r.period_start,
  periodEnd: r.period_end,
  billedSeats: Number(r.billed_seats),
  endsWith: r.ends_with === "free" ? "free" : null,
  creditBalance: Number(r.credit_balance),
  autoPay: Number(r.auto_pay) === 1,
});

/** "$1,234.56" for invoice line descriptions. */
export function dollars(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100).toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`;
}

const day = (iso: string) => iso.slice(0, 10);

/** What accepting one invitation would charge now: nothing on Free, else one seat prorated. */
export type SeatCost = { amount: number; currency: "USD"; lines: InvoiceLineInput[] };

/** Why `subscription.changed` was announced (its `change`). */
export type SubscriptionChange =
  | "plan_changed"
  | "downgrade_scheduled"
  | "canceled"
  | "cancellation_undone"
  | "seats_added"
  | "renewed"
  | "downgraded"
  | "enterprise_terms_set";

export type ChangePreview = {
  effective: "now" | "period_end";
  period: { start: string; end: string } | null;
  lines: InvoiceLineInput[];
  subtotal: number;
  total: number;
  currency: "USD";
};

/**
 * Subscriptions: plan changes with proration, seats added mid-period, renewals and cancellations. All
 * amounts are integer cents; every change holds the account's row lock, so seat counts, billed seats
 * and invoice numbers agree under concurrency.
 */
export function createBillingService(deps: {
  db: Db;
  clock: Clock;
  plans: readonly Plan[];
  accounts: AccountsRepository;
  /** 404 for non-members, 403 without the permission (fresh inside a transaction): the accounts service's. */
  requirePermission: AccountsService["requirePermission"];
  /** The default payment method as the API shows it, or null: the payments service's. */
  defaultPaymentMethod: (executor: Executor, accountId: string) => Promise<PaymentMethodView | null>;
  /** After an invoice is committed: try to collect it (auto-pay). */
  onInvoiceCreated?: (invoice: InvoiceRecord) => Promise<void>;
  /** Inside the transaction that changes the account's plan or its terms (caches of plan limits). */
  onPlanChanged?: (trx: Executor, effects: Effects, accountId: string) => Promise<void>;
  events: Pick<EventLog, "record">;
  /** Bytes the account's stored files take (logo, exports; not its members' avatars). */
  storageBytes: (executor: Executor, accountId: string) => Promise<number>;
}) {
  const { db, clock, accounts } = deps;
  const planOf = (id: PlanId): Plan => deps.plans.find((p) => p.id === id) as Plan;

  async function subscriptionOf(executor: Executor, accountId: string): Promise<Subscription | null> {
    const row = await executor
      .selectFrom("subscriptions")
      .selectAll()
      .where("account_id", "=", accountId)
      .executeTakeFirst();
    return row ? toSubscription(row) : null;
  }

  async function seatsUsed(executor: Executor, accountId: string): Promise<number> {
    return (await accounts.seatCounts(executor, accountId, clock.now().toISOString())).used;
  }

  /**
   * The seats that are billed: members holding a seat (everything `used` counts but pending
   * invitations). An invitation is billed once it is accepted, never while pending.
   */
  async function seatsBillable(executor: Executor, accountId: string): Promise<number> {
    const counts = await accounts.seatCounts(executor, accountId, clock.now().toISOString());
    return counts.used - counts.pending;
  }

  /**
   * A proration line for `seats` seats added at `now`: one seat's period price × the fraction of the
   * period left, rounded half up, per seat. Per seat so that quantity × unit_amount = amount exactly,
   * and what an invitation preview quotes for one seat is what its acceptance charges.
   */
  function prorationLine(sub: Subscription, seats: number, now: Date): InvoiceLineInput {
    const perPeriod = periodPrice(sub.unitPrice, sub.interval);
    const unit = prorate(perPeriod, new Date(sub.periodStart), new Date(sub.periodEnd), now);
    const start = now.toISOString();
    return {
      kind: "proration",
      description: `${seats} seat${seats === 1 ? "" : "s"} added: ${dollars(perPeriod)} per seat per ${sub.interval}, prorated for ${day(start)} – ${day(sub.periodEnd)}`,
      quantity: seats,
      unit_amount: unit,
      amount: seats * unit,
      period_start: start,
      period_end: sub.periodEnd,
    };
  }

  const audit = (
    trx: Executor,
    actor: Actor,
    accountId: string,
    action: string,
    changes: Record<string, unknown>,
  ) =>
    recordAudit(
      trx,
      actor,
      { accountId, action, targetType: "account", targetId: accountId, changes },
      clock.now(),
    );

  /** A seats line for a whole period: `seats` × the seat's price for that period. */
  function seatsLine(
    plan: Plan,
    interval: Interval,
    unitPrice: number,
    seats: number,
    start: string,
    end: string,
  ) {
    const perPeriod = periodPrice(unitPrice, interval);
    const what = interval === "month" ? "monthly" : `annual, ${dollars(unitPrice)} per seat per month`;
    return {
      kind: "seats" as const,
      description: `${plan.name} plan (${what}): ${seats} seat${seats === 1 ? "" : "s"} × ${dollars(perPeriod)}`,
      quantity: seats,
      unit_amount: perPeriod,
      amount: seats * perPeriod,
      period_start: start,
      period_end: end,
    };
  }

  /** Uses the account's credit balance against `lines`; returns the lines and what balance is left. */
  function applyBalance(lines: InvoiceLineInput[], balance: number, start: string, end: string) {
    const due = lines.reduce((sum, l) => sum + l.amount, 0);
    const out = [...lines];
    if (due < 0) {
      // More credit than charge: the rest is kept for later invoices.
      out.push({
        kind: "credit",
        description: "Unused credit carried to your balance",
        quantity: 1,
        unit_amount: -due,
        amount: -due,
        period_start: start,
        period_end: end,
      });
      return { lines: out, balance: balance - due };
    }
    const used = Math.min(balance, due);
    if (used > 0) {
      out.push({
        kind: "credit",
        description: "Credit balance applied",
        quantity: 1,
        unit_amount: -used,
        amount: -used,
        period_start: start,
        period_end: end,
      });
    }
    return { lines: out, balance: balance - used };
  }

  const totals = (lines: InvoiceLineInput[]) => ({
    subtotal: lines.filter((l) => l.amount > 0).reduce((s, l) => s + l.amount, 0),
    total: lines.reduce((s, l) => s + l.amount, 0),
  });

  async function issue(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    accountId: string,
    period: { start: string; end: string },
    lines: InvoiceLineInput[],
  ) {
    const invoice = await createInvoice(trx, {
      accountId,
      periodStart: period.start,
      periodEnd: period.end,
      now: clock.now().toISOString(),
      lines,
    });
    const data = invoiceView(invoice);
    await deps.events.record(trx, effects, actor, { accountId, type: "invoice.created", data });
    // Covered by credit: paid as it is issued, and announced so (a receiver waits for invoice.paid).
    if (invoice.status === "paid")
      await deps.events.record(trx, effects, actor, { accountId, type: "invoice.paid", data });
    const collect = deps.onInvoiceCreated;
    if (collect) effects.afterCommit(() => collect(invoice));
    return invoice;
  }

  /** Builds (and unless previewing, applies) a change to a paid plan starting now. */
  async function toPaidPlan(
    trx: Executor,
    accountId: string,
    current: Subscription | null,
    plan: Plan,
    interval: Interval,
  ) {
    const now = clock.now();
    const start = now.toISOString();
    const end = periodEnd(now, interval).toISOString();
    const seats = Math.max(1, await seatsBillable(trx, accountId));
    const unitPrice = interval === "month" ? plan.prices.month : plan.prices.year_per_month;
    const lines: InvoiceLineInput[] = [seatsLine(plan, interval, unitPrice, seats, start, end)];
    if (current && current.periodEnd > start) {
      const old = planOf(current.plan);
      const unused = prorate(
        current.billedSeats * periodPrice(current.unitPrice, current.interval),
        new Date(current.periodStart),
        new Date(current.periodEnd),
        now,
      );
      if (unused > 0) {
        // Quantity 1: the credit is rounded once for all billed seats, so it is rarely a multiple of
        // their number; one line of the whole amount always multiplies out (the seats are named).
        lines.push({
          kind: "credit",
          description: `Unused time on ${old.name} (${current.interval === "month" ? "monthly" : "annual"}), ${current.billedSeats} seat${current.billedSeats === 1 ? "" : "s"}, ${day(start)} – ${day(current.periodEnd)}`,
          quantity: 1,
          unit_amount: -unused,
          amount: -unused,
          period_start: start,
          period_end: current.periodEnd,
        });
      }
    }
    const applied = applyBalance(lines, current?.creditBalance ?? 0, start, end);
    return { start, end, seats, unitPrice, lines: applied.lines, balance: applied.balance };
  }

  /** Writes the subscription for a period that starts now (a plan change) and invoices it. */
  async function startPaidPeriod(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    accountId: string,
    current: Subscription | null,
    next: {
      plan: PlanId;
      interval: Interval;
      seatLimit: number | null;
      apiRatePerMinute?: number | null;
      apiKeysLimit?: number | null;
      webhooksLimit?: number | null;
      change: Awaited<ReturnType<typeof toPaidPlan>>;
    },
  ) {
    const { change } = next;
    const values = {
      plan: next.plan,
      interval: next.interval,
      unit_price: change.unitPrice,
      seat_limit: next.seatLimit,
      api_rate_per_minute: next.apiRatePerMinute ?? null,
      api_keys_limit: next.apiKeysLimit ?? null,
      webhooks_limit: next.webhooksLimit ?? null,
      anchor_day: new Date(change.start).getUTCDate(),
      period_start: change.start,
      period_end: change.end,
      billed_seats: change.seats,
      ends_with: null,
      credit_balance: change.balance,
      updated_at: change.start,
    };
    if (current) {
      await trx.updateTable("subscriptions").set(values).where("account_id", "=", accountId).execute();
    } else {
      await trx
        .insertInto("subscriptions")
        .values({ account_id: accountId, auto_pay: 1, created_at: change.start, ...values })
        .execute();
    }
    await deps.onPlanChanged?.(trx, effects, accountId);
    return issue(trx, effects, actor, accountId, { start: change.start, end: change.end }, change.lines);
  }

  async function overviewOf(executor: Executor, accountId: string) {
    const sub = await subscriptionOf(executor, accountId);
    const plan = planOf(sub?.plan ?? "free");
    const counts = await accounts.seatCounts(executor, accountId, clock.now().toISOString());
    const billable = counts.used - counts.pending;
    const month = clock.now().toISOString().slice(0, 7);
    const usage = await executor
      .selectFrom("usage_counters")
      .select(["api_calls"])
      .where("account_id", "=", accountId)
      .where("month", "=", month)
      .executeTakeFirst();
    const renews = sub !== null && sub.endsWith === null;
    const nextAmount = renews
      ? Math.max(0, Math.max(1, billable) * periodPrice(sub.unitPrice, sub.interval) - sub.creditBalance)
      : null;
    return {
      plan: plan.id,
      plan_name: plan.name,
      interval: sub?.interval ?? null,
      seats: {
        used: counts.used,
        billed: sub ? sub.billedSeats : billable,
        limit: sub?.seatLimit ?? plan.seat_limit,
      },
      unit_price: sub?.unitPrice ?? 0,
      monthly_equivalent: sub ? sub.billedSeats * sub.unitPrice : 0,
      current_period: sub ? { start: sub.periodStart, end: sub.periodEnd } : null,
      next_billing_date: renews ? sub.periodEnd : null,
      estimated_next_amount: nextAmount,
      ends_with: sub?.endsWith ?? null,
      credit_balance: sub?.creditBalance ?? 0,
      auto_pay: sub ? sub.autoPay : true,
      currency: "USD" as const,
      usage: {
        api_calls: Number(usage?.api_calls ?? 0),
        // What is stored now, exact (stored_files), not a monthly counter.
        storage_bytes: await deps.storageBytes(executor, accountId),
      },
      limits: {
        api_rate_per_minute: sub?.apiRatePerMinute ?? plan.api_rate_per_minute,
        api_keys: sub?.apiKeysLimit ?? plan.api_keys_limit,
        webhooks: sub?.webhooksLimit ?? plan.webhooks_limit,
      },
      payment_method: await deps.defaultPaymentMethod(executor, accountId),
    };
  }

  /**
   * Records `subscription.changed`: the billing overview as `GET …/billing` shows it after the change,
   * why it changed, and the plan, interval and billed seats before it (Free: no interval, 0 billed).
   */
  async function announceChange(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    accountId: string,
    change: SubscriptionChange,
    before: Subscription | null,
  ) {
    const previous = before
      ? { plan: before.plan, interval: before.interval, billed_seats: before.billedSeats }
      : { plan: "free", interval: null, billed_seats: 0 };
    await deps.events.record(trx, effects, actor, {
      accountId,
      type: "subscription.changed",
      data: { ...(await overviewOf(trx, accountId)), change, previous },
    });
  }

  /** One renewal step for one account, if its period has ended; true when something changed. */
  async function renewOne(accountId: string, actor: Actor): Promise<boolean> {
    return transact(db, async (trx, effects) => {
      await accounts.lock(trx, accountId);
      const sub = await subscriptionOf(trx, accountId);
      const now = clock.now();
      if (!sub || sub.periodEnd > now.toISOString()) return false;
      if (sub.endsWith === "free") {
        await trx.deleteFrom("subscriptions").where("account_id", "=", accountId).execute();
        await deps.onPlanChanged?.(trx, effects, accountId);
        await audit(trx, actor, accountId, "billing.downgraded", { from: sub.plan, to: "free" });
        await announceChange(trx, effects, actor, accountId, "downgraded", sub);
        return true;
      }
      const plan = planOf(sub.plan);
      const start = sub.periodEnd;
      const end = periodEnd(new Date(start), sub.interval, sub.anchorDay).toISOString();
      const seats = Math.max(1, await seatsBillable(trx, accountId));
      const applied = applyBalance(
        [seatsLine(plan, sub.interval, sub.unitPrice, seats, start, end)],
        sub.creditBalance,
        start,
        end,
      );
      await trx
        .updateTable("subscriptions")
        .set({
          period_start: start,
          period_end: end,
          billed_seats: seats,
          credit_balance: applied.balance,
          updated_at: now.toISOString(),
        })
        .where("account_id", "=", accountId)
        .execute();
      const invoice = await issue(trx, effects, actor, accountId, { start, end }, applied.lines);
      await audit(trx, actor, accountId, "billing.renewed", {
        seats,
        invoice: invoice.number,
        total: invoice.total,
      });
      // A renewal at the same seats changes nothing of the subscription's terms (invoice.created says it).
      if (seats !== sub.billedSeats) await announceChange(trx, effects, actor, accountId, "renewed", sub);
      return true;
    });
  }

  async function cancelIn(
    trx: Trx,
    effects: Effects,
    actor: Actor,
    accountId: string,
    current: Subscription,
  ) {
    await trx
      .updateTable("subscriptions")
      .set({ ends_with: "free", updated_at: clock.now().toISOString() })
      .where("account_id", "=", accountId)
      .execute();
    await audit(trx, actor, accountId, "billing.subscription_canceled", {
      plan: current.plan,
      at: current.periodEnd,
    });
    await announceChange(trx, effects, actor, accountId, "canceled", current);
  }

  return {
    plans: deps.plans,
    subscriptionOf,

    async overview(userId: string, accountId: string) {
      await deps.requirePermission(db, userId, accountId, "billing:read");
      return overviewOf(db, accountId);
    },

    /**
     * Moves the account to `planId`/`interval`. A paid plan starts a new period now, billed in full,
     * with the unused part of the current paid period credited on the same invoice (a credit larger
     * than the charge stays on the account's balance). Free happens at the end of the period, and only
     * when the seats in use fit. With `preview`, nothing changes.
     */
    async changePlan(
      actor: Actor & { id: string },
      accountId: string,
      input: { plan: PlanId; interval: Interval; preview: boolean },
    ) {
      await deps.requirePermission(db, actor.id, accountId, "billing:manage");
      const plan = planOf(input.plan);
      if (plan.custom) {
        throw new AppError(
          "forbidden",
          "Enterprise prices and limits are set by your Gatehouse operator: contact sales",
        );
      }
      const result = await transact(db, async (trx, effects) => {
        // A preview writes nothing, so it needs no lock (and does not queue behind real changes).
        if (!input.preview) await accounts.lock(trx, accountId);
        await deps.requirePermission(trx, actor.id, accountId, "billing:manage");
        await refuseWhileClosing(trx, accountId, "plan changes");
        const current = await subscriptionOf(trx, accountId);
        if (plan.id === "free") {
          if (!current) throw new AppError("conflict", "This account is already on the Free plan");
          const used = await seatsUsed(trx, accountId);
          const limit = plan.seat_limit ?? Number.POSITIVE_INFINITY;
          if (used > limit) {
            throw new AppError(
              "conflict",
              `Free allows ${limit} seats and ${used} are in use: remove ${used - limit} user${used - limit === 1 ? "" : "s"} or revoke invitations first`,
            );
          }
          const preview: ChangePreview = {
            effective: "period_end",
            period: { start: current.periodEnd, end: current.periodEnd },
            lines: [],
            subtotal: 0,
            total: 0,
            currency: "USD",
          };
          if (input.preview) return { preview };
          await trx
            .updateTable("subscriptions")
            .set({ ends_with: "free", updated_at: clock.now().toISOString() })
            .where("account_id", "=", accountId)
            .execute();
          await audit(trx, actor, accountId, "billing.downgrade_scheduled", {
            from: current.plan,
            to: "free",
            at: current.periodEnd,
          });
          await announceChange(trx, effects, actor, accountId, "downgrade_scheduled", current);
          return { billing: await overviewOf(trx, accountId), invoice: null };
        }
        if (current && current.plan === plan.id && current.interval === input.interval) {
          if (current.endsWith === null)
            throw new AppError("conflict", `This account is already on ${plan.name} (${input.interval}ly)`);
          // Choosing the current plan again undoes a pending downgrade or cancellation.
          if (input.preview) {
            return {
              preview: {
                effective: "now",
                period: { start: current.periodStart, end: current.periodEnd },
                lines: [],
                subtotal: 0,
                total: 0,
                currency: "USD",
              } as ChangePreview,
            };
          }
          await trx
            .updateTable("subscriptions")
            .set({ ends_with: null, updated_at: clock.now().toISOString() })
            .where("account_id", "=", accountId)
            .execute();
          await audit(trx, actor, accountId, "billing.cancellation_undone", { plan: plan.id });
          await announceChange(trx, effects, actor, accountId, "cancellation_undone", current);
          return { billing: await overviewOf(trx, accountId), invoice: null };
        }
        const change = await toPaidPlan(trx, accountId, current, plan, input.interval);
        if (input.preview) {
          const preview: ChangePreview = {
            effective: "now",
            period: { start: change.start, end: change.end },
            lines: change.lines,
            ...totals(change.lines),
            currency: "USD",
          };
          return { preview };
        }
        if (!(await deps.defaultPaymentMethod(trx, accountId))) {
          throw new AppError("payment_method_required", "Add a payment method before choosing a paid plan");
        }
        const invoice = await startPaidPeriod(trx, effects, actor, accountId, current, {
          plan: plan.id,
          interval: input.interval,
          seatLimit: null,
          change,
        });
        await audit(trx, actor, accountId, "billing.plan_changed", {
          from: current ? { plan: current.plan, interval: current.interval } : { plan: "free" },
          to: { plan: plan.id, interval: input.interval },
          invoice: invoice.number,
          total: invoice.total,
        });
        await announceChange(trx, effects, actor, accountId, "plan_changed", current);
        return { billing: await overviewOf(trx, accountId), invoice };
      });
      // Auto-pay collects the new invoice once the change is committed, within this call: answer the
      // invoice as it is now (paid, or open with the declined attempt), not as it was created.
      if ("invoice" in result && result.invoice) {
        return {
          ...result,
          invoice: (await findInvoice(db, accountId, result.invoice.id)) ?? result.invoice,
        };
      }
      return result;
    },

    /** Cancels at the end of the period: the account then returns to Free. */
    async cancel(actor: Actor & { id: string }, accountId: string) {
      await deps.requirePermission(db, actor.id, accountId, "billing:manage");
      return transact(db, async (trx, effects) => {
        await accounts.lock(trx, accountId);
        const current = await subscriptionOf(trx, accountId);
        if (!current) throw new AppError("conflict", "This account is on the Free plan: nothing to cancel");
        if (current.endsWith)
          throw new AppError("conflict", "The subscription already ends at the end of this period");
        await cancelIn(trx, effects, actor, accountId, current);
        return overviewOf(trx, accountId);
      });
    },

    /**
     * Inside a caller's transaction holding the account lock (closing the account): the subscription
     * ends at the end of its period, as `cancel` does, with no refund. False when there is nothing to
     * cancel (Free, or already ending).
     */
    async cancelAtPeriodEnd(trx: Trx, effects: Effects, actor: Actor, accountId: string): Promise<boolean> {
      const current = await subscriptionOf(trx, accountId);
      if (!current || current.endsWith) return false;
      await cancelIn(trx, effects, actor, accountId, current);
      return true;
    },

    /** Undoes `cancelAtPeriodEnd` while the period lasts (a cancelled closure); false when too late. */
    async undoCancellation(trx: Trx, effects: Effects, actor: Actor, accountId: string): Promise<boolean> {
      const current = await subscriptionOf(trx, accountId);
      if (current?.endsWith !== "free") return false;
      await trx
        .updateTable("subscriptions")
        .set({ ends_with: null, updated_at: clock.now().toISOString() })
        .where("account_id", "=", accountId)
        .execute();
      await audit(trx, actor, accountId, "billing.cancellation_undone", { plan: current.plan });
      await announceChange(trx, effects, actor, accountId, "cancellation_undone", current);
      return true;
    },

    /**
     * Called inside the transaction (holding the account lock) of anything that may have raised the
     * account's billable seats: accepting an invitation. On a paid plan, members holding a seat above
     * the period's billed seats are charged pro rata for the rest of the period at once (one invoice),
     * and become billed. Pending invitations are never billed: they count toward the limit only.
     */
    async seatsChanged(trx: Executor, effects: Effects, accountId: string, actor: Actor): Promise<void> {
      const sub = await subscriptionOf(trx, accountId);
      if (!sub || sub.unitPrice === 0) return;
      const billable = await seatsBillable(trx, accountId);
      if (billable <= sub.billedSeats) return;
      const now = clock.now();
      if (sub.periodEnd <= now.toISOString()) return;
      const added = billable - sub.billedSeats;
      const line = prorationLine(sub, added, now);
      await trx
        .updateTable("subscriptions")
        .set({ billed_seats: billable, updated_at: now.toISOString() })
        .where("account_id", "=", accountId)
        .execute();
      // A seat added at the very end of the period costs nothing: no invoice, but more seats billed.
      if (line.amount > 0) {
        const period = { start: line.period_start, end: sub.periodEnd };
        const applied = applyBalance([line], sub.creditBalance, period.start, period.end);
        if (applied.balance !== sub.creditBalance) {
          await trx
            .updateTable("subscriptions")
            .set({ credit_balance: applied.balance })
            .where("account_id", "=", accountId)
            .execute();
        }
        const invoice = await issue(trx, effects, actor, accountId, period, applied.lines);
        await audit(trx, actor, accountId, "billing.seats_added", {
          seats: added,
          billed_seats: billable,
          invoice: invoice.number,
          total: invoice.total,
        });
      }
      await announceChange(trx, effects, actor, accountId, "seats_added", sub);
    },

    /**
     * What accepting each of `count` new invitations would charge if it happened now, in order: the
     * first ones may take seats already billed this period (after the pending invitations, which are
     * assumed to be accepted first) and cost nothing; each other costs one seat prorated to the period
     * end. Free, a zero price or a period already over: nothing. Reads only.
     */
    async acceptanceCosts(executor: Executor, accountId: string, count: number): Promise<SeatCost[]> {
      const none: SeatCost = { amount: 0, currency: "USD", lines: [] };
      const sub = await subscriptionOf(executor, accountId);
      const now = clock.now();
      if (!sub || sub.unitPrice === 0 || sub.periodEnd <= now.toISOString()) {
        return Array.from({ length: count }, () => none);
      }
      const line = prorationLine(sub, 1, now);
      const paidFor = Math.max(0, sub.billedSeats - (await seatsUsed(executor, accountId)));
      return Array.from({ length: count }, (_, i) =>
        i < paidFor || line.amount === 0 ? none : { amount: line.amount, currency: "USD", lines: [line] },
      );
    },

    /** Renews (or ends) every subscription whose period is over, period by period; the scheduled job. */
    async renewDue(actor: Actor): Promise<number> {
      let changed = 0;
      for (;;) {
        const due = await db
          .selectFrom("subscriptions")
          .select("account_id")
          .where("period_end", "<=", clock.now().toISOString())
          .limit(100)
          .execute();
        let progressed = false;
        for (const { account_id } of due) {
          if (await renewOne(account_id, actor)) {
            changed++;
            progressed = true;
          }
        }
        if (!progressed) return changed;
      }
    },

    /**
     * An operator's Enterprise terms for an account: price per seat per month, seat limit, interval, and
     * API limits (requests per key per minute, keys); a null limit is Enterprise's in the catalog.
     */
    async setEnterprise(
      actor: Actor,
      accountId: string,
      terms: {
        unitPrice: number;
        seatLimit: number | null;
        interval: Interval;
        apiRatePerMinute?: number | null;
        apiKeysLimit?: number | null;
        webhooksLimit?: number | null;
      },
    ) {
      if (!Number.isSafeInteger(terms.unitPrice) || terms.unitPrice < 0) {
        throw new AppError("validation_failed", "The price is whole cents per seat per month, 0 or more");
      }
      if (terms.seatLimit !== null && (!Number.isSafeInteger(terms.seatLimit) || terms.seatLimit < 1)) {
        throw new AppError("validation_failed", "The seat limit is a whole number of 1 or more, or none");
      }
      const apiRatePerMinute = terms.apiRatePerMinute ?? null;
      const apiKeysLimit = terms.apiKeysLimit ?? null;
      const webhooksLimit = terms.webhooksLimit ?? null;
      if (apiRatePerMinute !== null && (!Number.isSafeInteger(apiRatePerMinute) || apiRatePerMinute < 1)) {
        throw new AppError(
          "validation_failed",
          "The API rate is a whole number of requests per minute, 1 or more",
        );
      }
      if (apiKeysLimit !== null && (!Number.isSafeInteger(apiKeysLimit) || apiKeysLimit < 1)) {
        throw new AppError("validation_failed", "The API key limit is a whole number of 1 or more, or none");
      }
      if (webhooksLimit !== null && (!Number.isSafeInteger(webhooksLimit) || webhooksLimit < 1)) {
        throw new AppError(
          "validation_failed",
          "The webhook endpoint limit is a whole number of 1 or more, or none",
        );
      }
      return transact(db, async (trx, effects) => {
        if (!(await accounts.findById(trx, accountId))) throw notFound("Account");
        await accounts.lock(trx, accountId);
        const current = await subscriptionOf(trx, accountId);
        const plan = planOf("enterprise");
        const change = await toPaidPlan(
          trx,
          accountId,
          current,
          { ...plan, prices: { month: terms.unitPrice, year_per_month: terms.unitPrice } },
          terms.interval,
        );
        const invoice = await startPaidPeriod(trx, effects, actor, accountId, current, {
          plan: "enterprise",
          interval: terms.interval,
          seatLimit: terms.seatLimit,
          apiRatePerMinute,
          apiKeysLimit,
          webhooksLimit,
          change,
        });
        await audit(trx, actor, accountId, "billing.enterprise_terms_set", {
          unit_price: terms.unitPrice,
          seat_limit: terms.seatLimit,
          api_rate_per_minute: apiRatePerMinute,
          api_keys_limit: apiKeysLimit,
          webhooks_limit: webhooksLimit,
          interval: terms.interval,
          invoice: invoice.number,
        });
        await announceChange(trx, effects, actor, accountId, "enterprise_terms_set", current);
        return overviewOf(trx, accountId);
      });
    },
  };
}

export type BillingService = ReturnType<typeof createBillingService>;
