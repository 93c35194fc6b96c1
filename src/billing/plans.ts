import { ConfigError } from "../config.js";

export type PlanId = "free" | "pro" | "team" | "enterprise";
export type Interval = "month" | "year";

/** A plan of the catalog. Prices are integer cents per seat per month; `year_per_month` is billed × 12. */
export type Plan = {
  id: PlanId;
  name: string;
  /** Most seats the plan allows; null = no limit. */
  seat_limit: number | null;
  /** Requests each API key may make per minute (a fixed one-minute window). */
  api_rate_per_minute: number;
  /** Most unrevoked API keys an account may hold; null = no limit. */
  api_keys_limit: number | null;
  /** Most webhook endpoints an account may have; null = no limit. */
  webhooks_limit: number | null;
  /** Whether accounts may serve their login and app on their own domains (src/domains). */
  custom_domains: boolean;
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
    api_rate_per_minute: 60,
    api_keys_limit: 2,
    webhooks_limit: 1,
    custom_domains: false,
    prices: { month: 0, year_per_month: 0 },
    currency: "USD",
    custom: false,
  },
  {
    id: "pro",
    name: "Pro",
    seat_limit: null,
    api_rate_per_minute: 600,
    api_keys_limit: 25,
    webhooks_limit: 10,
    custom_domains: false,
    prices: { month: 1900, year_per_month: 1500 },
    currency: "USD",
    custom: false,
  },
  {
    id: "team",
    name: "Team",
    seat_limit: null,
    api_rate_per_minute: 3_000,
    api_keys_limit: 100,
    webhooks_limit: 50,
    custom_domains: true,
    prices: { month: 3900, year_per_month: 3100 },
    currency: "USD",
    custom: false,
  },
  {
    id: "enterprise",
    name: "Enterprise",
    seat_limit: null,
    api_rate_per_minute: 3_000,
    api_keys_limit: 100,
    webhooks_limit: 50,
    custom_domains: true,
    prices: { month: 0, year_per_month: 0 },
    currency: "USD",
    custom: true,
  },
]);

const PLAN_IDS = new Set<string>(["free", "pro", "team", "enterprise"]);

/**
 * The catalog: the defaults, with what `BILLING_PLANS` (JSON: `{"pro": {"prices": {"month": 2000}}}`)
 * changes of name, seat limit, prices, API rate (`api_rate_per_minute`), API key limit
 * (`api_keys_limit`), webhook endpoint limit (`webhooks_limit`) and custom domains (`custom_domains`, true
 * or false). Plans themselves are fixed: code relies on their ids. Enterprise's values are
 * the defaults for accounts whose operator set none of their own.
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
      ...(change.api_rate_per_minute !== undefined
        ? { api_rate_per_minute: change.api_rate_per_minute }
        : {}),
      ...(change.api_keys_limit !== undefined ? { api_keys_limit: change.api_keys_limit } : {}),
      ...(change.webhooks_limit !== undefined ? { webhooks_limit: change.webhooks_limit } : {}),
      ...(change.custom_domains !== undefined ? { custom_domains: change.custom_domains } : {}),
      prices: { ...plan.prices, ...change.prices },
    };
    const cents = [merged.prices.month, merged.prices.year_per_month];
    if (!cents.every((c) => Number.isSafeInteger(c) && c >= 0)) {
      throw new ConfigError(`BILLING_PLANS: prices of "${plan.id}" must be whole cents ≥ 0`);
    }
    if (merged.seat_limit !== null && !(Number.isSafeInteger(merged.seat_limit) && merged.seat_limit > 0)) {
      throw new ConfigError(`BILLING_PLANS: seat_limit of "${plan.id}" must be a positive integer or null`);
    }
    if (!isPositiveInteger(merged.api_rate_per_minute)) {
      throw new ConfigError(`BILLING_PLANS: api_rate_per_minute of "${plan.id}" must be a positive integer`);
    }
    if (merged.api_keys_limit !== null && !isPositiveInteger(merged.api_keys_limit)) {
      throw new ConfigError(
        `BILLING_PLANS: api_keys_limit of "${plan.id}" must be a positive integer or null`,
      );
    }
    if (merged.webhooks_limit !== null && !isPositiveInteger(merged.webhooks_limit)) {
      throw new ConfigError(
        `BILLING_PLANS: webhooks_limit of "${plan.id}" must be a positive integer or null`,
      );
    }
    if (typeof merged.custom_domains !== "boolean") {
      throw new ConfigError(`BILLING_PLANS: custom_domains of "${plan.id}" must be true or false`);
    }
    return merged;
  });
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
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
