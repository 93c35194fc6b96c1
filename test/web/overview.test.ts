import { describe, expect, it } from "vitest";
import {
  bucketLabel,
  homePath,
  metricSummary,
  mfaLine,
  seatsLine,
  signInSummary,
} from "../../web/src/overview.js";

describe("overview words", () => {
  it("labels day and month buckets in UTC", () => {
    expect(bucketLabel("2026-03-04", "day")).toBe("Mar 4");
    expect(bucketLabel("2026-12-31", "day")).toBe("Dec 31");
    expect(bucketLabel("2026-03", "month")).toBe("Mar 2026");
  });

  it("sums up sign-ins and the chosen metric for the range", () => {
    const totals = { succeeded: 1, failed: 3, value: 4 };
    expect(signInSummary({ totals, range: "last_30_days" })).toBe(
      "1 sign-in and 3 failed in the last 30 days.",
    );
    expect(signInSummary({ totals: { ...totals, succeeded: 12 }, range: "today" })).toBe(
      "12 sign-ins and 3 failed today.",
    );
    expect(metricSummary({ totals, range: "year_to_date", metric: "api_calls" })).toBe(
      "API calls: 4 this year so far.",
    );
    expect(metricSummary({ totals, range: "last_12_months", metric: "active_users" })).toBe(
      "Active users: 4 in the last 12 months.",
    );
  });

  it("states seats and second-factor adoption", () => {
    const members = { active: 5, suspended: 1, deactivated: 0, pending: 2, seats_used: 8, seat_limit: 20 };
    expect(seatsLine(members)).toBe("8 of 20 seats used");
    expect(seatsLine({ ...members, seats_used: 1, seat_limit: null })).toBe("1 seat used");
    const mfa = {
      members_with_mfa: 2,
      members_total: 6,
      percent: 33,
      missing_required: [],
      missing_required_count: 0,
    };
    expect(mfaLine(mfa)).toBe("2 of 6 active members (33%)");
    expect(mfaLine({ ...mfa, members_total: 0, members_with_mfa: 0, percent: null })).toBe(
      "No active members",
    );
  });
});

describe("homePath", () => {
  const ready = (granted: boolean) => ({ status: "ready" as const, can: () => granted });
  it("lands members:read holders on the overview, others on their profile, security-only on Security", () => {
    expect(homePath(false, ready(true))).toBe("/settings/overview");
    expect(homePath(false, ready(false))).toBe("/settings/profile");
    expect(homePath(true, ready(true))).toBe("/settings/security");
    expect(homePath(false, { status: "loading", can: () => false })).toBeNull();
  });
});
