import { describe, expect, it } from "vitest";
import { addMonths, divideHalfUp, periodEnd, prorate, seatPricePerPeriod } from "./periods.js";
import { annualSaving, DEFAULT_PLANS, loadPlans } from "./plans.js";

const at = (iso: string) => new Date(iso);

describe("billing periods", () => {
  it.each([
    ["2026-03-15T10:30:00.000Z", "month", "2026-04-15T10:30:00.000Z"],
    ["2027-01-31T00:00:00.000Z", "month", "2027-02-28T00:00:00.000Z"],
    ["2028-01-31T00:00:00.000Z", "month", "2028-02-29T00:00:00.000Z"],
    ["2026-12-31T23:59:59.000Z", "month", "2027-01-31T23:59:59.000Z"],
    ["2026-08-31T12:00:00.000Z", "month", "2026-09-30T12:00:00.000Z"],
    ["2028-02-29T00:00:00.000Z", "year", "2029-02-28T00:00:00.000Z"],
    ["2026-05-20T08:00:00.000Z", "year", "2027-05-20T08:00:00.000Z"],
  ] as const)("a period from %s (%s) ends %s", (start, interval, end) => {
    expect(periodEnd(at(start), interval).toISOString()).toBe(end);
  });

  it("keeps a subscription from the 31st on the 31st after a short month", () => {
    // Jan 31 → Feb 28 → Mar 31 → Apr 30 → May 31.
    let start = at("2027-01-31T09:00:00.000Z");
    const ends: string[] = [];
    for (let i = 0; i < 4; i++) {
      start = periodEnd(start, "month", 31);
      ends.push(start.toISOString().slice(0, 10));
    }
    expect(ends).toEqual(["2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]);
  });

  it("adds calendar months across years, clamped", () => {
    expect(addMonths(at("2027-11-30T00:00:00.000Z"), 3).toISOString()).toBe("2028-02-29T00:00:00.000Z");
    expect(addMonths(at("2026-01-31T00:00:00.000Z"), 13).toISOString()).toBe("2027-02-28T00:00:00.000Z");
  });
});

describe("proration", () => {
  it("rounds half up to the cent, in exact integer arithmetic", () => {
    expect(divideHalfUp(5n, 2n)).toBe(3);
    expect(divideHalfUp(4n, 3n)).toBe(1);
    expect(divideHalfUp(5n, 3n)).toBe(2);
    expect(divideHalfUp(3n, 2n)).toBe(2);
    expect(divideHalfUp(1n, 2n)).toBe(1);
    expect(divideHalfUp(1n, 3n)).toBe(0);
    // Large amounts stay exact (no float drift).
    expect(divideHalfUp(9_007_199_254_740_991n * 3n, 3n)).toBe(9_007_199_254_740_991);
  });

  it("charges the remaining fraction of the period measured in seconds", () => {
    const start = at("2026-03-01T00:00:00.000Z");
    const end = at("2026-04-01T00:00:00.000Z");
    // 2 seats × $19.00 for 16 of 31 days: 3800 × 16/31 = 1961.29… → $19.61.
    expect(prorate(3800, start, end, at("2026-03-16T00:00:00.000Z"))).toBe(1961);
    // Exactly half of an odd number of cents rounds up.
    expect(prorate(1, start, end, at("2026-03-16T12:00:00.000Z"))).toBe(1);
    expect(prorate(3, start, end, at("2026-03-16T12:00:00.000Z"))).toBe(2);
    // The whole period at or before its start, nothing at or after its end.
    expect(prorate(1900, start, end, start)).toBe(1900);
    expect(prorate(1900, start, end, at("2026-02-01T00:00:00.000Z"))).toBe(1900);
    expect(prorate(1900, start, end, end)).toBe(0);
    // A leap-year February: 1 of 29 days left.
    expect(
      prorate(
        2900,
        at("2028-02-01T00:00:00.000Z"),
        at("2028-03-01T00:00:00.000Z"),
        at("2028-02-29T00:00:00.000Z"),
      ),
    ).toBe(100);
  });

  it("prices a seat per period: monthly, or 12 × the annual per-month price", () => {
    const pro = DEFAULT_PLANS.find((p) => p.id === "pro") as (typeof DEFAULT_PLANS)[number];
    expect(seatPricePerPeriod(pro, "month")).toBe(1900);
    expect(seatPricePerPeriod(pro, "year")).toBe(18000);
  });
});

describe("the plan catalog", () => {
  it("has the documented defaults and their annual savings", () => {
    const byId = Object.fromEntries(DEFAULT_PLANS.map((p) => [p.id, p]));
    expect(byId.free).toMatchObject({ seat_limit: 3, prices: { month: 0, year_per_month: 0 } });
    expect(byId.pro).toMatchObject({ seat_limit: null, prices: { month: 1900, year_per_month: 1500 } });
    expect(byId.team).toMatchObject({ seat_limit: null, prices: { month: 3900, year_per_month: 3100 } });
    expect(byId.enterprise?.custom).toBe(true);
    expect(annualSaving(byId.pro as never)).toBe(20);
    expect(annualSaving(byId.team as never)).toBe(20);
    expect(annualSaving(byId.free as never)).toBeNull();
  });

  it("takes overrides from BILLING_PLANS and refuses nonsense", () => {
    const plans = loadPlans('{"pro":{"prices":{"month":2000}},"free":{"seat_limit":5}}');
    expect(plans.find((p) => p.id === "pro")?.prices).toEqual({ month: 2000, year_per_month: 1500 });
    expect(plans.find((p) => p.id === "free")?.seat_limit).toBe(5);
    expect(() => loadPlans("{")).toThrow(/JSON/);
    expect(() => loadPlans('{"gold":{}}')).toThrow(/unknown plan/);
    expect(() => loadPlans('{"pro":{"prices":{"month":19.5}}}')).toThrow(/whole cents/);
    expect(() => loadPlans('{"free":{"seat_limit":0}}')).toThrow(/seat_limit/);
  });
});
