// Plain helpers of the API keys pages (no React), tested in test/web/api-keys.test.ts.
import type { ApiKeyUsageDay } from "./types.js";

export const EXPIRY_CHOICES = [
  { value: "never", label: "No expiry" },
  { value: "30", label: "In 30 days" },
  { value: "90", label: "In 90 days" },
  { value: "365", label: "In 1 year" },
  { value: "custom", label: "On a date…" },
] as const;
export type ExpiryChoice = (typeof EXPIRY_CHOICES)[number]["value"];

/**
 * `expires_at` for a choice: null for none, `days` from now, or the end of a picked calendar day
 * (`YYYY-MM-DD`) in the browser's time zone. Undefined when the custom date is missing or unreadable.
 */
export function expiresAtFor(choice: ExpiryChoice, customDate: string, now: Date): string | null | undefined {
  if (choice === "never") return null;
  if (choice === "custom") {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(customDate);
    if (!match) return undefined;
    const [, year, month, day] = match.map(Number) as [number, number, number, number];
    const end = new Date(year, month - 1, day, 23, 59, 59);
    return Number.isNaN(end.getTime()) ? undefined : end.toISOString();
  }
  return new Date(now.getTime() + Number(choice) * 86_400_000).toISOString();
}

/** The allowed-IPs text area: one address or CIDR range a line (commas and spaces also separate). */
export function parseAllowedIps(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);
}

export const GRACE_CHOICES = [
  { seconds: 0, label: "Now", hint: "The current secret stops working at once." },
  { seconds: 3600, label: "In 1 hour", hint: "Both secrets work for an hour." },
  { seconds: 86_400, label: "In 24 hours", hint: "Both secrets work for a day (recommended)." },
  { seconds: 604_800, label: "In 7 days", hint: "Both secrets work for a week." },
] as const;
export const DEFAULT_GRACE_SECONDS = 86_400;

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400],
  ["month", 30 * 86_400],
  ["week", 7 * 86_400],
  ["day", 86_400],
  ["hour", 3600],
  ["minute", 60],
];

/** "3 minutes ago", "in 2 days", "just now": the largest unit that fits, rounded down. */
export function relativeTime(iso: string, now: Date, locale?: string): string {
  const seconds = Math.round((new Date(iso).getTime() - now.getTime()) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (Math.abs(seconds) < 60) return "just now";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(Math.trunc(seconds / 60), "minute");
}

export type UsageTotals = { requests: number; status_2xx: number; status_4xx: number; status_5xx: number };

export function usageTotals(days: readonly ApiKeyUsageDay[]): UsageTotals {
  const totals = { requests: 0, status_2xx: 0, status_4xx: 0, status_5xx: 0 };
  for (const day of days) {
    totals.requests += day.requests;
    totals.status_2xx += day.status_2xx;
    totals.status_4xx += day.status_4xx;
    totals.status_5xx += day.status_5xx;
  }
  return totals;
}

/** The chart's text alternative: "12 requests in the last 30 days: 10 succeeded (2xx), 2 …". */
export function usageSummary(days: readonly ApiKeyUsageDay[]): string {
  const totals = usageTotals(days);
  const span = `in the last ${days.length} day${days.length === 1 ? "" : "s"}`;
  if (totals.requests === 0) return `No requests ${span}.`;
  const count = (n: number, what: string) => `${n.toLocaleString()} ${what}`;
  return `${count(totals.requests, totals.requests === 1 ? "request" : "requests")} ${span}: ${count(totals.status_2xx, "succeeded (2xx)")}, ${count(totals.status_4xx, "refused (4xx)")}, ${count(totals.status_5xx, "failed on the server (5xx)")}.`;
}
