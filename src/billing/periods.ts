import type { Interval, Plan } from "./plans.js";

/**
 * Billing periods and proration, in integer cents. A period starts at a moment (the upgrade, the
 * renewal) and ends on the same day of the next month, at the same time of day (UTC), clamped to the
 * month's length: a period from Jan 31 ends on Feb 28 (Feb 29 in leap years). Annual periods are twelve
 * such months. Nothing here rounds until the last step; rounding is half up, to the cent.
 */

const DAY_MS = 86_400_000;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** `months` calendar months after `start`, the day clamped to the target month's length (UTC). */
export function addMonths(start: Date, months: number): Date {
  const total = start.getUTCMonth() + months;
  const year = start.getUTCFullYear() + Math.floor(total / 12);
  const month = ((total % 12) + 12) % 12;
  const day = Math.min(start.getUTCDate(), daysInMonth(year, month));
  const timeOfDay =
    start.getTime() - Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  return new Date(Date.UTC(year, month, day) + timeOfDay);
}

/**
 * The end of the period that starts at `start`. `anchorDay`, the day of month the subscription started
 * on, keeps a Jan 31 subscription on the 31st (Feb 28 → Mar 31) instead of drifting to the 28th.
 */
export function periodEnd(start: Date, interval: Interval, anchorDay = start.getUTCDate()): Date {
  const months = interval === "month" ? 1 : 12;
  const end = addMonths(start, months);
  const year = end.getUTCFullYear();
  const month = end.getUTCMonth();
  const day = Math.min(anchorDay, daysInMonth(year, month));
  return new Date(end.getTime() + (day - end.getUTCDate()) * DAY_MS);
}

/** One seat for one whole period at `unitPrice` cents a month: × 12 for an annual period. */
export function periodPrice(unitPrice: number, interval: Interval): number {
  return interval === "month" ? unitPrice : unitPrice * 12;
}

/** One seat of a plan for one whole period: the monthly price, or 12 × the annual per-month price. */
export function seatPricePerPeriod(plan: Pick<Plan, "prices">, interval: Interval): number {
  return periodPrice(interval === "month" ? plan.prices.month : plan.prices.year_per_month, interval);
}

/** `numerator / denominator` rounded half up (both non-negative integers; BigInt so nothing overflows). */
export function divideHalfUp(numerator: bigint, denominator: bigint): number {
  if (denominator <= 0n) throw new RangeError("denominator must be positive");
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  return Number(remainder * 2n >= denominator ? quotient + 1n : quotient);
}

/**
 * The part of `fullAmount` (cents for the whole period) that the rest of the period from `at` is worth:
 * measured in whole seconds, rounded half up to the cent. At or before the start it is everything; at
 * or after the end, nothing.
 */
export function prorate(fullAmount: number, start: Date, end: Date, at: Date): number {
  const total = BigInt(Math.floor((end.getTime() - start.getTime()) / 1000));
  const remaining = BigInt(Math.floor((end.getTime() - Math.max(at.getTime(), start.getTime())) / 1000));
  if (remaining <= 0n) return 0;
  if (remaining >= total) return fullAmount;
  return divideHalfUp(BigInt(fullAmount) * remaining, total);
}
