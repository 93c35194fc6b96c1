import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { AuditPage, AuditService } from "../audit/audit.service.js";
import type { BillingService } from "../billing/billing.service.js";
import type { Plan } from "../billing/plans.js";
import { seatLimitOf } from "../billing/seats.js";
import type { Db } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import { type AccessCache, holds, requirePermission } from "../roles/access.js";
import type { CHART_METRICS, DATE_RANGES } from "../users/preferences.js";
import {
  ADMIN_ACTIONS,
  type Bucket,
  type InactiveMember,
  type MemberRef,
  type OverviewRepository,
  type Window,
} from "./overview.repository.js";

/** The ranges and metrics are the ones the user's preferences name as defaults (src/users/preferences.ts). */
export type OverviewRange = (typeof DATE_RANGES)[number];
export type OverviewMetric = (typeof CHART_METRICS)[number];

export const OVERVIEW = {
  /** A member is inactive after this many days without signing in to the account. */
  inactiveDays: 30,
  /** At most this many inactive members, and members lacking a required second factor, are listed. */
  listLimit: 10,
  missingMfaLimit: 50,
  /** Recent admin activity: this many events. */
  activityLimit: 10,
} as const;

const DAY_MS = 86_400_000;
const dateOf = (date: Date) => date.toISOString().slice(0, 10);
const utcDay = (year: number, month: number, day: number) => new Date(Date.UTC(year, month, day));

/** A range as buckets: their keys (YYYY-MM-DD or YYYY-MM, UTC) and the window of timestamps they cover. */
export type RangeWindow = {
  bucket: Bucket;
  keys: string[];
  window: Window;
  /** First and last day (YYYY-MM-DD, inclusive). */
  days: { from: string; to: string };
};

/** Daily buckets up to today (UTC); the last 12 months by calendar month, the current one included. */
export function rangeWindow(range: OverviewRange, now: Date): RangeWindow {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth();
  const tomorrow = utcDay(year, month, now.getUTCDate() + 1);
  if (range === "last_12_months") {
    const start = utcDay(year, month - 11, 1);
    const end = utcDay(year, month + 1, 1);
    const keys = Array.from({ length: 12 }, (_, i) =>
      utcDay(year, month - 11 + i, 1)
        .toISOString()
        .slice(0, 7),
    );
    return {
      bucket: "month",
      keys,
      window: { from: start.toISOString(), to: end.toISOString() },
      days: { from: dateOf(start), to: dateOf(new Date(end.getTime() - DAY_MS)) },
    };
  }
  const length =
    range === "today"
      ? 1
      : range === "last_7_days"
        ? 7
        : range === "last_30_days"
          ? 30
          : range === "last_90_days"
            ? 90
            : Math.round((tomorrow.getTime() - utcDay(year, 0, 1).getTime()) / DAY_MS);
  const start = new Date(tomorrow.getTime() - length * DAY_MS);
  const keys = Array.from({ length }, (_, i) => dateOf(new Date(start.getTime() + i * DAY_MS)));
  return {
    bucket: "day",
    keys,
    window: { from: start.toISOString(), to: tomorrow.toISOString() },
    days: { from: dateOf(start), to: dateOf(now) },
  };
}

export type SeriesPoint = { date: string; succeeded: number; failed: number; value: number };

export type AccountOverview = {
  range: OverviewRange;
  metric: OverviewMetric;
  bucket: Bucket;
  from: string;
  to: string;
  members: {
    active: number;
    suspended: number;
    deactivated: number;
    pending: number;
    seatsUsed: number;
    seatLimit: number | null;
  };
  mfa: {
    membersWithMfa: number;
    membersTotal: number;
    percent: number | null;
    missingRequired: MemberRef[];
    missingRequiredCount: number;
  };
  series: SeriesPoint[];
  totals: { succeeded: number; failed: number; value: number };
  inactive: { since: string; count: number; members: InactiveMember[] };
  /** null: the caller does not hold audit:read. */
  recentAdminActivity: Pick<AuditPage, "events" | "names"> | null;
  /** null: the caller does not hold billing:read. */
  billing: {
    plan: string;
    planName: string;
    interval: string | null;
    nextBillingDate: string | null;
    estimatedNextAmount: number | null;
    currency: string;
  } | null;
};

/**
 * The account overview (members:read): member and seat counts, second-factor adoption, sign-ins and one
 * chosen metric over a range, inactive members; recent admin activity with audit:read, the plan and next
 * bill with billing:read. Everything is read, nothing changes.
 */
export function createOverviewService(deps: {
  db: Db;
  clock: Clock;
  access: AccessCache;
  accounts: Pick<AccountsRepository, "findById" | "seatCounts">;
  plans: readonly Plan[];
  billing: Pick<BillingService, "overview">;
  audit: Pick<AuditService, "recentEvents">;
  repository: OverviewRepository;
}) {
  const { db, clock, repository } = deps;

  async function series(accountId: string, metric: OverviewMetric, range: RangeWindow) {
    const signIns = await repository.signIns(db, accountId, range.window, range.bucket);
    const byKey = new Map(signIns.map((b) => [b.bucket, b]));
    const extra = new Map<string, number>();
    if (metric === "sessions") {
      for (const b of await repository.sessionsStarted(db, accountId, range.window, range.bucket))
        extra.set(b.bucket, b.count);
    } else if (metric === "api_calls" || metric === "errors") {
      for (const b of await repository.keyCalls(db, accountId, range.days, range.bucket))
        extra.set(b.bucket, metric === "api_calls" ? b.calls : b.errors);
    }
    const points = range.keys.map((date): SeriesPoint => {
      const s = byKey.get(date);
      const succeeded = s?.succeeded ?? 0;
      const failed = s?.failed ?? 0;
      const value =
        metric === "logins"
          ? succeeded
          : metric === "active_users"
            ? (s?.activeUsers ?? 0)
            : metric === "errors"
              ? failed + (extra.get(date) ?? 0)
              : (extra.get(date) ?? 0);
      return { date, succeeded, failed, value };
    });
    const sum = (pick: (p: SeriesPoint) => number) => points.reduce((total, p) => total + pick(p), 0);
    // People who signed in over the whole range, each once (not the sum of the buckets' counts).
    const value =
      metric === "active_users"
        ? await repository.distinctSignedIn(db, accountId, range.window)
        : sum((p) => p.value);
    return { points, totals: { succeeded: sum((p) => p.succeeded), failed: sum((p) => p.failed), value } };
  }

  async function billingOf(principalId: string, accountId: string): Promise<AccountOverview["billing"]> {
    const billing = await deps.billing.overview(principalId, accountId);
    return {
      plan: billing.plan,
      planName: billing.plan_name,
      interval: billing.interval,
      nextBillingDate: billing.next_billing_date,
      estimatedNextAmount: billing.estimated_next_amount,
      currency: billing.currency,
    };
  }

  return {
    /** `principalId`: a user's id, or an API key's (`key_…`, bound by its scopes). */
    async overview(
      principalId: string,
      accountId: string,
      query: { range: OverviewRange; metric: OverviewMetric },
    ): Promise<AccountOverview> {
      const access = requirePermission(await deps.access.get(db, accountId, principalId), "members:read");
      const now = clock.now();
      const range = rangeWindow(query.range, now);
      const account = await deps.accounts.findById(db, accountId);
      const seats = await deps.accounts.seatCounts(db, accountId, now.toISOString());
      const { limit } = await seatLimitOf(db, deps.plans, accountId);
      const mfa = await repository.mfaAdoption(
        db,
        accountId,
        account?.settings.mfa.required_role_ids ?? [],
        OVERVIEW.missingMfaLimit,
      );
      const since = new Date(now.getTime() - OVERVIEW.inactiveDays * DAY_MS).toISOString();
      const inactive = await repository.inactiveMembers(db, accountId, since, OVERVIEW.listLimit);
      const { points, totals } = await series(accountId, query.metric, range);
      return {
        range: query.range,
        metric: query.metric,
        bucket: range.bucket,
        from: range.days.from,
        to: range.days.to,
        members: {
          active: seats.active,
          suspended: seats.suspended,
          deactivated: seats.deactivated,
          pending: seats.pending,
          seatsUsed: seats.used,
          seatLimit: limit,
        },
        mfa: {
          membersWithMfa: mfa.withMfa,
          membersTotal: mfa.total,
          percent: mfa.total === 0 ? null : Math.round((mfa.withMfa * 100) / mfa.total),
          missingRequired: mfa.missingRequired,
          missingRequiredCount: mfa.missingRequiredCount,
        },
        series: points,
        totals,
        inactive: { since, count: inactive.count, members: inactive.members },
        recentAdminActivity: holds(access, "audit:read")
          ? await deps.audit.recentEvents(accountId, ADMIN_ACTIONS, OVERVIEW.activityLimit)
          : null,
        billing: holds(access, "billing:read") ? await billingOf(principalId, accountId) : null,
      };
    },
  };
}

export type OverviewService = ReturnType<typeof createOverviewService>;
