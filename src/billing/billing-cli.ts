import { parseArgs } from "node:util";
import { SYSTEM_ACTOR } from "../audit/audit.repository.js";
import type { BillingService } from "./billing.service.js";

export const BILLING_USAGE = `Usage: gatehouse billing <command>

  enterprise --account acct_… --price-cents N [--seats N] [--interval month|year]
             [--api-rate N] [--api-keys N] [--webhooks N]
            put an account on Enterprise: N cents per seat per month, an optional seat limit,
            requests per API key per minute, API keys and webhook endpoints (unset: Enterprise's in the catalog);
            starts a new period now (the unused part of a paid period is credited)
  renew     renew (or end) every subscription whose period is over; the server's job loop does this
            every minute (the billing-renewals job)`;

/** `gatehouse billing …`; returns the exit code (0 done, 1 refused, 2 bad usage). */
export async function runBillingCommand(
  args: string[],
  services: { billing: BillingService },
  out: { log(line: string): void; error(line: string): void } = console,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    out.error(`${error instanceof Error ? error.message : String(error)}\n\n${BILLING_USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (command === "renew") {
    out.log(`renewed or ended ${await services.billing.renewDue(SYSTEM_ACTOR)} subscription period(s)`);
    return 0;
  }
  if (command !== "enterprise") {
    out.error(
      `${command ? `Unknown billing command: ${command}` : "Missing billing command"}\n\n${BILLING_USAGE}`,
    );
    return 2;
  }
  const {
    account,
    "price-cents": price,
    seats,
    interval = "month",
    "api-rate": apiRate,
    "api-keys": apiKeys,
    webhooks,
  } = parsed.values;
  const unitPrice = Number(price);
  const seatLimit = seats === undefined ? null : Number(seats);
  const apiRatePerMinute = apiRate === undefined ? null : Number(apiRate);
  const apiKeysLimit = apiKeys === undefined ? null : Number(apiKeys);
  const webhooksLimit = webhooks === undefined ? null : Number(webhooks);
  if (!account || price === undefined || (interval !== "month" && interval !== "year")) {
    out.error(
      `enterprise needs --account and --price-cents (and --interval month or year)\n\n${BILLING_USAGE}`,
    );
    return 2;
  }
  try {
    const overview = await services.billing.setEnterprise(SYSTEM_ACTOR, account, {
      unitPrice,
      seatLimit,
      interval,
      apiRatePerMinute,
      apiKeysLimit,
      webhooksLimit,
    });
    out.log(
      `${account} is on Enterprise: ${unitPrice} cents per seat per month, ${overview.seats.limit ?? "no"} seat limit, ${overview.seats.used} seats in use, ${overview.limits.api_rate_per_minute} API requests per key per minute, ${overview.limits.api_keys ?? "no"} API key limit, ${overview.limits.webhooks ?? "no"} webhook endpoint limit, period ends ${overview.current_period?.end}`,
    );
    return 0;
  } catch (error) {
    out.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      account: { type: "string" },
      "price-cents": { type: "string" },
      seats: { type: "string" },
      interval: { type: "string" },
      "api-rate": { type: "string" },
      "api-keys": { type: "string" },
      webhooks: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
}
