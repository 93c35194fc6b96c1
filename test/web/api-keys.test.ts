import { describe, expect, it } from "vitest";
import { expiresAtFor, parseAllowedIps, relativeTime, usageSummary } from "../../web/src/api-keys.js";

const NOW = new Date("2025-03-10T12:00:00Z");
const day = (date: string, s2: number, s4: number, s5: number) => ({
  date,
  requests: s2 + s4 + s5,
  status_2xx: s2,
  status_4xx: s4,
  status_5xx: s5,
});

describe("API key helpers", () => {
  it("turns an expiry choice into expires_at: none, days from now, or the end of a picked day", () => {
    expect(expiresAtFor("never", "", NOW)).toBeNull();
    expect(expiresAtFor("30", "", NOW)).toBe("2025-04-09T12:00:00.000Z");
    expect(expiresAtFor("365", "", NOW)).toBe("2026-03-10T12:00:00.000Z");
    // The end of that day in the browser's zone (the test's own, whichever it is).
    expect(expiresAtFor("custom", "2025-06-01", NOW)).toBe(new Date(2025, 5, 1, 23, 59, 59).toISOString());
    expect(expiresAtFor("custom", "", NOW)).toBeUndefined();
    expect(expiresAtFor("custom", "01/06/2025", NOW)).toBeUndefined();
  });

  it("reads allowed IPs one a line, also split by commas or spaces, blanks dropped", () => {
    expect(parseAllowedIps("10.0.0.0/8\n 203.0.113.7 \n\n2001:db8::/32, 192.0.2.1")).toEqual([
      "10.0.0.0/8",
      "203.0.113.7",
      "2001:db8::/32",
      "192.0.2.1",
    ]);
    expect(parseAllowedIps("  \n ")).toEqual([]);
  });

  it("says when in words: just now, minutes, days, in the future too", () => {
    expect(relativeTime("2025-03-10T11:59:30Z", NOW, "en")).toBe("just now");
    expect(relativeTime("2025-03-10T11:55:00Z", NOW, "en")).toBe("5 minutes ago");
    expect(relativeTime("2025-03-09T11:00:00Z", NOW, "en")).toBe("yesterday");
    expect(relativeTime("2025-03-13T12:00:00Z", NOW, "en")).toBe("in 3 days");
    expect(relativeTime("2025-01-01T12:00:00Z", NOW, "en")).toBe("2 months ago");
  });

  it("sums the days into the chart's text alternative", () => {
    expect(usageSummary([day("2025-03-09", 0, 0, 0), day("2025-03-10", 0, 0, 0)])).toBe(
      "No requests in the last 2 days.",
    );
    expect(usageSummary([day("2025-03-09", 3, 1, 0), day("2025-03-10", 7, 1, 1)])).toBe(
      "13 requests in the last 2 days: 10 succeeded (2xx), 2 refused (4xx), 1 failed on the server (5xx).",
    );
  });
});
