import { describe, expect, it } from "vitest";
import { boundsFor, cutoffAt, daysInEffect, type LimitState, transition } from "./retention-limits.js";

const DAY = 86_400_000;
const t0 = new Date("2027-01-01T00:00:00.000Z");
const at = (days: number) => new Date(t0.getTime() + days * DAY);

describe("retention limits in force", () => {
  it("a first limit where everything was kept counts from when it took effect", () => {
    const state = transition(undefined, 30, t0) as LimitState;
    expect(state).toEqual({
      days: 30,
      since: t0.toISOString(),
      graceUntil: at(30).toISOString(),
      daysBefore: null,
    });
    expect(cutoffAt(state, at(29))).toBeNull();
    expect(cutoffAt(state, at(30))).toEqual(at(0));
    expect(cutoffAt(state, at(45))).toEqual(at(15));
  });

  it("a lowered limit keeps the old terms until its own days have passed; a raised one applies at once", () => {
    const pro = {
      days: 365,
      since: at(-1000).toISOString(),
      graceUntil: at(-635).toISOString(),
      daysBefore: null,
    };
    const lowered = transition(pro, 30, t0) as LimitState;
    expect(lowered).toMatchObject({ days: 30, daysBefore: 365, graceUntil: at(30).toISOString() });
    expect(daysInEffect(lowered, at(29))).toBe(365);
    expect(daysInEffect(lowered, at(30))).toBe(30);
    // Raised during that wait (above what is purged now): at once, no wait.
    expect(transition(lowered, 400, at(10))).toMatchObject({ days: 400, graceUntil: at(10).toISOString() });
    // Lowered again during the wait, below the 365 still governing: a new wait, still under 365.
    expect(transition(lowered, 100, at(10))).toMatchObject({ days: 100, daysBefore: 365 });
    // The same limit again changes nothing; keep forever applies at once.
    expect(transition(lowered, 30, at(10))).toBeUndefined();
    expect(transition(lowered, null, at(10))).toMatchObject({ days: null, daysBefore: null });
    expect(cutoffAt(transition(lowered, null, at(10)) as LimitState, at(5000))).toBeNull();
  });

  it("a limit that was always there (export files) applies at once", () => {
    expect(transition(undefined, 7, t0, 7)).toMatchObject({ days: 7, graceUntil: t0.toISOString() });
  });

  it("bounds follow the plan: Free 30, Pro 365, Team 1095, Enterprise any or forever", () => {
    expect(boundsFor("free").audit_log_days).toEqual({ min: 1, max: 30, forever: false });
    expect(boundsFor("pro").audit_log_days.max).toBe(365);
    expect(boundsFor("team").audit_log_days.max).toBe(1095);
    expect(boundsFor("enterprise").audit_log_days).toMatchObject({ forever: true });
  });
});
