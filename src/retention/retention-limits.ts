import type { PlanId } from "../billing/plans.js";

/** The three retention settings of an account (`GET/PATCH …/data-retention`). */
export const RETENTION_SETTINGS = ["audit_log_days", "export_files_days", "deleted_member_days"] as const;
export type RetentionSetting = (typeof RETENTION_SETTINGS)[number];

/** Days; null = keep forever. */
export type Days = number | null;

/** The longest an account on each plan may keep its audit log; null = no limit (keep forever allowed). */
export const AUDIT_LOG_MAX_DAYS: Readonly<Record<PlanId, Days>> = Object.freeze({
  free: 30,
  pro: 365,
  team: 1095,
  enterprise: null,
});

/** Where a plan sets no maximum, a number of days is still at most this (100 years). */
export const LONGEST_DAYS = 36_500;

export type Bounds = { min: number; max: number; forever: boolean };

export const FIXED_BOUNDS = {
  export_files_days: { min: 1, max: 90, forever: false },
  deleted_member_days: { min: 1, max: 365, forever: false },
} as const satisfies Record<Exclude<RetentionSetting, "audit_log_days">, Bounds>;

export const DEFAULT_DAYS = { export_files_days: 7, deleted_member_days: 30 } as const;

export function boundsFor(plan: PlanId): Record<RetentionSetting, Bounds> {
  const auditMax = AUDIT_LOG_MAX_DAYS[plan];
  return {
    audit_log_days: { min: 1, max: auditMax ?? LONGEST_DAYS, forever: auditMax === null },
    ...FIXED_BOUNDS,
  };
}

/** The shorter of two limits (null = forever is the longest). */
export function shorter(a: Days, b: Days): Days {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * A limit in force: `days` since `since`. A lowered or newly introduced limit counts from the moment it
 * took effect: until `graceUntil` (= since + days) only `daysBefore` (the limit that governed before;
 * null = nothing is deleted) applies, so nothing kept under the old terms goes before the new window
 * has passed since the change. A raised limit applies at once (graceUntil = since).
 */
export type LimitState = { days: Days; since: string; graceUntil: string; daysBefore: Days };

const DAY_MS = 86_400_000;

/** Days in effect at `now`: what the purge may use (null = delete nothing). */
export function daysInEffect(state: LimitState, now: Date): Days {
  return now.toISOString() >= state.graceUntil ? state.days : state.daysBefore;
}

/** The instant before which things may be deleted at `now`, or null when nothing may be. */
export function cutoffAt(state: LimitState, now: Date): Date | null {
  const days = daysInEffect(state, now);
  return days === null ? null : new Date(now.getTime() - days * DAY_MS);
}

/**
 * The state after the limit in force becomes `target` at `now`; undefined when it already is.
 * `previous` undefined = no limit was ever recorded: `initial` is what governed before (null: everything
 * was kept, so the first limit is newly introduced).
 */
export function transition(
  previous: LimitState | undefined,
  target: Days,
  now: Date,
  initial: Days = null,
): LimitState | undefined {
  if (previous && previous.days === target) return undefined;
  const at = now.toISOString();
  // What is being purged by right now: the old terms that the new limit must not undercut early.
  const governing = previous ? daysInEffect(previous, now) : initial;
  if (target === null) return { days: null, since: at, graceUntil: at, daysBefore: null };
  if (governing !== null && target >= governing)
    return { days: target, since: at, graceUntil: at, daysBefore: null };
  return {
    days: target,
    since: at,
    graceUntil: new Date(now.getTime() + target * DAY_MS).toISOString(),
    daysBefore: governing,
  };
}
