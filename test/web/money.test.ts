import { describe, expect, it } from "vitest";
import { formatBytes, formatCents, formatCount, formatPrice } from "../../web/src/money.js";

describe("money formatting (integer cents, no float arithmetic)", () => {
  it.each([
    [0, "$0.00"],
    [5, "$0.05"],
    [190, "$1.90"],
    [19000, "$190.00"],
    [123456, "$1,234.56"],
    [93000000, "$930,000.00"],
    [-1250, "−$12.50"],
  ])("formatCents(%i) = %s", (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it("names other currencies by code", () => {
    expect(formatCents(1999, "EUR")).toBe("EUR 19.99");
  });

  it("plan prices drop zero cents only", () => {
    expect(formatPrice(1900)).toBe("$19");
    expect(formatPrice(1950)).toBe("$19.50");
    expect(formatPrice(0)).toBe("$0");
  });

  it("usage counters", () => {
    expect(formatCount(1234567)).toBe("1,234,567");
    expect(formatBytes(0)).toBe("0 bytes");
    expect(formatBytes(1)).toBe("1 byte");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(5 * 1024 ** 3)).toBe("5.0 GB");
  });
});
