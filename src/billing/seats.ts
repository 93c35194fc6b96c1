import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { Executor } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { Plan, PlanId } from "./plans.js";

export type SeatLimit = { plan: PlanId; limit: number | null };

/**
 * The account's plan and seat limit: the subscription row's plan with its own `seat_limit` when an
 * operator set one (Enterprise), else the catalog's; no row = Free. null = no limit.
 */
export async function seatLimitOf(
  executor: Executor,
  plans: readonly Plan[],
  accountId: string,
): Promise<SeatLimit> {
  const row = await executor
    .selectFrom("subscriptions")
    .select(["plan", "seat_limit"])
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  const planId = (row?.plan ?? "free") as PlanId;
  const plan = plans.find((p) => p.id === planId);
  if (!plan) throw new Error(`Subscription of ${accountId} names an unknown plan "${planId}"`);
  return { plan: planId, limit: row?.seat_limit ?? plan.seat_limit };
}

export type SeatRoom = SeatLimit & { used: number; planName: string; free: number };

/**
 * How many seats are left. Must run inside the transaction that holds the account lock
 * (`accounts.lock`), before the seats are added: every path that adds a seat takes that lock, so two
 * of them never both see the last free seat.
 */
export async function seatRoom(
  trx: Executor,
  deps: { plans: readonly Plan[]; accounts: AccountsRepository },
  accountId: string,
  now: string,
): Promise<SeatRoom> {
  const limit = await seatLimitOf(trx, deps.plans, accountId);
  const { used } = await deps.accounts.seatCounts(trx, accountId, now);
  const planName = deps.plans.find((p) => p.id === limit.plan)?.name ?? limit.plan;
  return {
    ...limit,
    used,
    planName,
    free: limit.limit === null ? Number.POSITIVE_INFINITY : Math.max(0, limit.limit - used),
  };
}

/** What a refused seat says: the limit, and the way out (a bigger plan, or fewer people). */
export function seatLimitMessage(room: SeatRoom): string {
  return (
    `All ${room.limit} seats of the ${room.planName} plan are in use (${room.used} used). ` +
    "Upgrade the plan, or remove users or revoke pending invitations to free seats."
  );
}

export function seatLimitError(room: SeatRoom, options: ConstructorParameters<typeof AppError>[2] = {}) {
  return new AppError("seat_limit_reached", seatLimitMessage(room), options);
}
