// The audit log's saved default filter (Preferences → default audit filter) as the filter form's values.

import type { AuditFilterRange } from "./types.js";

const RANGE_DAYS: Record<Exclude<AuditFilterRange, "all_time">, number> = {
  today: 0,
  last_7_days: 6,
  last_30_days: 29,
  last_90_days: 89,
};

export const AUDIT_RANGE_LABELS: Record<AuditFilterRange, string> = {
  all_time: "All time",
  today: "Today",
  last_7_days: "Last 7 days",
  last_30_days: "Last 30 days",
  last_90_days: "Last 90 days",
};

/** Today's date (YYYY-MM-DD) where the user is: their timezone, else the browser's. */
export function dayIn(now: Date, timeZone: string | null | undefined): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone ?? undefined }).format(now);
  } catch {
    return new Intl.DateTimeFormat("en-CA").format(now);
  }
}

/** The first day (YYYY-MM-DD) a range covers, counting today; "" for all time. */
export function rangeStartDay(
  range: AuditFilterRange,
  now: Date,
  timeZone: string | null | undefined,
): string {
  if (range === "all_time") return "";
  const today = dayIn(now, timeZone);
  const [year, month, day] = today.split("-").map(Number) as [number, number, number];
  const start = new Date(Date.UTC(year, month - 1, day - RANGE_DAYS[range]));
  return start.toISOString().slice(0, 10);
}
