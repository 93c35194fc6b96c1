// The account overview's words and numbers (GET /accounts/{id}/overview), kept apart from React so
// that test/web checks them.
import type { AuditEvent, ChartMetric, DateRange } from "./types.js";

export type OverviewPoint = { date: string; succeeded: number; failed: number; value: number };
export type OverviewMemberRef = { user_id: string; name: string; email: string };

export type AccountOverview = {
  range: DateRange;
  metric: ChartMetric;
  bucket: "day" | "month";
  from: string;
  to: string;
  members: {
    active: number;
    suspended: number;
    deactivated: number;
    pending: number;
    seats_used: number;
    seat_limit: number | null;
  };
  mfa: {
    members_with_mfa: number;
    members_total: number;
    percent: number | null;
    missing_required: OverviewMemberRef[];
    missing_required_count: number;
  };
  series: OverviewPoint[];
  totals: { succeeded: number; failed: number; value: number };
  inactive_members: {
    since: string;
    count: number;
    data: Array<OverviewMemberRef & { last_login_at: string | null }>;
  };
  /** The newest admin events, shaped as the audit log's; null without audit:read. */
  recent_admin_activity: AuditEvent[] | null;
  billing: {
    plan: string;
    plan_name: string;
    interval: string | null;
    next_billing_date: string | null;
    estimated_next_amount: number | null;
    currency: string;
  } | null;
};

export const RANGE_LABELS: Record<DateRange, string> = {
  today: "Today",
  last_7_days: "Last 7 days",
  last_30_days: "Last 30 days",
  last_90_days: "Last 90 days",
  last_12_months: "Last 12 months",
  year_to_date: "Year to date",
};

export const METRIC_LABELS: Record<ChartMetric, string> = {
  active_users: "Active users",
  sessions: "Sessions",
  logins: "Logins",
  api_calls: "API calls",
  errors: "Errors",
};

/** What the chosen metric counts, under its chart. */
export const METRIC_DESCRIPTIONS: Record<ChartMetric, string> = {
  active_users: "People who signed in",
  sessions: "Sessions started in this account",
  logins: "Successful sign-ins",
  api_calls: "Requests made with this account's API keys",
  errors: "Failed sign-ins and API key requests answered with an error",
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A bucket as the chart's axis and the table show it: "Mar 4" for a day, "Mar 2026" for a month (UTC). */
export function bucketLabel(date: string, bucket: "day" | "month"): string {
  const [year, month, day] = date.split("-");
  const name = MONTHS[Number(month) - 1] ?? month;
  return bucket === "month" ? `${name} ${year}` : `${name} ${Number(day)}`;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

/** "12 sign-ins and 3 failed in the last 30 days". */
export function signInSummary(overview: Pick<AccountOverview, "totals" | "range">): string {
  const { succeeded, failed } = overview.totals;
  return `${plural(succeeded, "sign-in")} and ${failed} failed ${rangePhrase(overview.range)}.`;
}

/** "Active users: 4 in the last 30 days". */
export function metricSummary(overview: Pick<AccountOverview, "totals" | "range" | "metric">): string {
  return `${METRIC_LABELS[overview.metric]}: ${overview.totals.value} ${rangePhrase(overview.range)}.`;
}

function rangePhrase(range: DateRange): string {
  return range === "today"
    ? "today"
    : range === "year_to_date"
      ? "this year so far"
      : `in the ${RANGE_LABELS[range].toLowerCase()}`;
}

/** "5 of 20 seats used", or "5 seats used" without a limit. */
export function seatsLine(members: AccountOverview["members"]): string {
  const { seats_used: used, seat_limit: limit } = members;
  return limit === null ? `${plural(used, "seat")} used` : `${used} of ${limit} seats used`;
}

/** "4 of 6 active members (67%)"; "No active members" when there are none. */
export function mfaLine(mfa: AccountOverview["mfa"]): string {
  if (mfa.members_total === 0 || mfa.percent === null) return "No active members";
  return `${mfa.members_with_mfa} of ${plural(mfa.members_total, "active member")} (${mfa.percent}%)`;
}

/**
 * Where a signed-in user lands (after log-in, on / and /settings): the overview for those who may see
 * it (members:read in the current account), else their profile; only Security while a password change
 * or a second factor is due. null: not known until the permissions arrive.
 */
export function homePath(
  securityOnly: boolean,
  permissions: { status: "loading" | "ready"; can(permission: "members:read"): boolean },
): string | null {
  if (securityOnly) return "/settings/security";
  if (permissions.status === "loading") return null;
  return permissions.can("members:read") ? "/settings/overview" : "/settings/profile";
}
