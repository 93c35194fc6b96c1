import { ConfigError } from "../config.js";

export type PlanId = "free" | "pro" | "team" | "enterprise";
export type Interval = "month" | "year";

/** A plan of the catalog. Prices are integer cents per seat per month; `year_per_month` is billed × 12. */
export type Plan = {
  id: PlanId;
  name: string;
  /** Most seats the plan allows; null = no limit. */
  seat_limit: number | null;
  prices: { month: number; year_per_month: number };
  currency: "USD";
  /** Enterprise: price and limits are set per account by an operator. */
  custom: boolean;
};

export const DEFAULT_PLANS: readonly Plan[] = Object.freeze([
  {
    id: "free",
    name: "Free",
    seat_limit: 3,
    prices: { month: 0, year_per_month: 0 },
    currency: "USD",
    custom: false,
  },
  {
    id: "pro",
    name: "Pro",
    seat_limit: null,
    prices: { month: 1900, year_per_month: 1500 },
    currency: "USD",
    custom: false,
  },
  {
    id: "team",
    name: "Team",
    seat_limit: null,
    prices: { month: 3900, year_per_month: 3100 },
    currency: "USD",
    custom: false,
  },
  {
    id: "enterprise",
    name: "Enterprise",
    seat_limit: null,
    prices: { month: 0, year_per_month: 0 },
    currency: "USD",
    custom: true,
  },
]);

const PLAN_IDS = new Set<string>(["free", "pro", "team", "enterprise"]);

/**
 * The catalog: the defaults, with what `BILLING_PLANS` (JSON: `{"pro": {"prices": {"month": 2000}}}`)
 * changes of name, seat limit and prices. Plans themselves are fixed: code relies on their ids.
 */
export function loadPlans(json: string | undefined): readonly Plan[] {
  if (!json) return DEFAULT_PLANS;
  let overrides: Record<string, Partial<Plan>>;
  try {
    overrides = JSON.parse(json);
  } catch {
    throw new ConfigError('BILLING_PLANS must be JSON like {"pro":{"prices":{"month":2000}}}');
  }
  for (const id of Object.keys(overrides)) {
    if (!PLAN_IDS.has(id)) throw new ConfigError(`BILLING_PLANS: unknown plan "${id}"`);
  }
  return DEFAULT_PLANS.map((plan) => {
    const change = overrides[plan.id] ?? {};
    const merged: Plan = {
      ...plan,
      ...(change.name !== undefined ? { name: String(change.name) } : {}),
      ...(change.seat_limit !== undefined ? { seat_limit: change.seat_limit } : {}),
      prices: { ...plan.prices, ...change.prices },
    };
    const cents = [merged.prices.month, merged.prices.year_per_month];
    if (!cents.every((c) => Number.isSafeInteger(c) && c >= 0)) {
      throw new ConfigError(`BILLING_PLANS: prices of "${plan.id}" must be whole cents ≥ 0`);
    }
    if (merged.seat_limit !== null && !(Number.isSafeInteger(merged.seat_limit) && merged.seat_limit > 0)) {
      throw new ConfigError(`BILLING_PLANS: seat_limit of "${plan.id}" must be a positive integer or null`);
    }
    return merged;
  });
}

/**
 * "Save 20%": what the annual per-month price saves against monthly, rounded down to a multiple of 5 so
 * the claim is never overstated (Pro $19 → $15 saves 21%, Team $39 → $31 saves 20.5%: both "save 20%").
 */
export function annualSaving(plan: Plan): number | null {
  if (plan.prices.month === 0 || plan.prices.year_per_month >= plan.prices.month) return null;
  const percent = Math.floor(((plan.prices.month - plan.prices.year_per_month) * 100) / plan.prices.month);
  return percent >= 5 ? percent - (percent % 5) : percent;
}
