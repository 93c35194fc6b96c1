import type { Executor } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { Plan, PlanId } from "./plans.js";

/** What an account's plan allows its API keys; an operator's Enterprise values win over the catalog's. */
export type ApiLimits = {
  plan: PlanId;
  planName: string;
  /** Requests per key per fixed minute. */
  ratePerMinute: number;
  /** Unrevoked keys the account may hold; null = no limit. */
  keysLimit: number | null;
  /** Webhook endpoints the account may hold; null = no limit. */
  webhooksLimit: number | null;
};

/** The account's API limits from its subscription row (no row = Free). */
export async function apiLimitsOf(
  executor: Executor,
  plans: readonly Plan[],
  accountId: string,
): Promise<ApiLimits> {
  const row = await executor
    .selectFrom("subscriptions")
    .select(["plan", "api_rate_per_minute", "api_keys_limit", "webhooks_limit"])
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  const planId = (row?.plan ?? "free") as PlanId;
  const plan = plans.find((p) => p.id === planId);
  if (!plan) throw new Error(`Subscription of ${accountId} names an unknown plan "${planId}"`);
  return {
    plan: planId,
    planName: plan.name,
    ratePerMinute:
      row?.api_rate_per_minute == null ? plan.api_rate_per_minute : Number(row.api_rate_per_minute),
    keysLimit: row?.api_keys_limit == null ? plan.api_keys_limit : Number(row.api_keys_limit),
    webhooksLimit: row?.webhooks_limit == null ? plan.webhooks_limit : Number(row.webhooks_limit),
  };
}

/** Webhook endpoints the account's plan allows (null = no limit); an operator's Enterprise value wins. */
export async function webhooksLimitOf(
  executor: Executor,
  plans: readonly Plan[],
  accountId: string,
): Promise<{ planName: string; limit: number | null }> {
  const limits = await apiLimitsOf(executor, plans, accountId);
  return { planName: limits.planName, limit: limits.webhooksLimit };
}

/** 402 `plan_limit_reached` for one API key too many: the plan, its limit and the ways out. */
export function apiKeysLimitError(limits: ApiLimits, used: number): AppError {
  return new AppError(
    "plan_limit_reached",
    `The ${limits.planName} plan allows ${limits.keysLimit} API keys and this account has ${used}. ` +
      "Revoke a key you no longer use, or upgrade the plan.",
  );
}

/** Whether the account's plan includes custom domains (src/domains); no subscription row = Free. */
export async function customDomainsOf(
  executor: Executor,
  plans: readonly Plan[],
  accountId: string,
): Promise<{ planName: string; allowed: boolean }> {
  const row = await executor
    .selectFrom("subscriptions")
    .select("plan")
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  const plan = plans.find((p) => p.id === (row?.plan ?? "free"));
  if (!plan) throw new Error(`Subscription of ${accountId} names an unknown plan "${row?.plan}"`);
  return { planName: plan.name, allowed: plan.custom_domains };
}
