import { describe, expect, it } from "vitest";
import {
  checkPassword,
  DEFAULT_PASSWORD_POLICY,
  isCommonPassword,
  MAX_PASSWORD_LENGTH,
  strictestPolicy,
} from "./password-policy.js";

const person = { email: "grace.hopper@example.com", firstName: "Grace", lastName: "Hopper" };
const codes = (password: string, policy = DEFAULT_PASSWORD_POLICY) =>
  checkPassword(password, policy, person).map((e) => e.code);

describe("password policy", () => {
  it("has safe defaults", () => {
    expect(DEFAULT_PASSWORD_POLICY).toMatchObject({ min_length: 12, history: 5, expiry_days: null });
  });

  it("accepts a long passphrase and reports nothing", () => {
    expect(codes("tangerine submarine orchestra")).toEqual([]);
  });

  it("names every failed rule at once", () => {
    const strict = {
      ...DEFAULT_PASSWORD_POLICY,
      require_upper: true,
      require_digit: true,
      require_special: true,
    };
    expect(codes("zzhopperq", strict).sort()).toEqual(
      ["contains_name", "min_length", "require_digit", "require_special", "require_upper"].sort(),
    );
  });

  it("refuses the email's local part and the name, case-insensitively", () => {
    expect(codes("xx-GRACE.HOPPER-2024!")).toContain("contains_email");
    expect(codes("my-name-is-hopPer-ok")).toContain("contains_name");
  });

  it("refuses common passwords from the shipped list of 20,000", () => {
    expect(isCommonPassword("password")).toBe(true);
    expect(isCommonPassword("PASSWORD")).toBe(true);
    expect(isCommonPassword("1qaz2wsx3edc")).toBe(true);
    expect(codes("1qaz2wsx3edc")).toEqual(["common_password"]);
    expect(isCommonPassword("tangerine submarine orchestra")).toBe(false);
  });

  it("counts characters, not bytes, and understands unicode classes", () => {
    const policy = {
      ...DEFAULT_PASSWORD_POLICY,
      require_upper: true,
      require_lower: true,
      require_digit: true,
      require_special: true,
    };
    expect(codes("ÉCOLEçà٣🔑xyzwv", policy)).toEqual([]);
    // 11 emoji are 22 UTF-16 units but 11 characters: too short for 12.
    expect(codes("🔑".repeat(11))).toEqual(["min_length"]);
  });

  it("accepts 128 and more characters without truncating, up to the hard maximum", () => {
    const long = "a1-Long-passphrase-".repeat(20);
    expect(long.length).toBeGreaterThan(128);
    expect(codes(long.slice(0, MAX_PASSWORD_LENGTH))).toEqual([]);
    expect(codes(`${long.slice(0, MAX_PASSWORD_LENGTH)}x`)).toEqual(["max_length"]);
  });

  it("combines several accounts' policies into the strictest", () => {
    const merged = strictestPolicy([
      { ...DEFAULT_PASSWORD_POLICY, min_length: 10, require_digit: true, history: 3, expiry_days: 90 },
      { ...DEFAULT_PASSWORD_POLICY, min_length: 16, require_special: true, history: 1, expiry_days: 30 },
      { ...DEFAULT_PASSWORD_POLICY, min_length: 8, expiry_days: null },
    ]);
    expect(merged).toEqual({
      min_length: 16,
      require_upper: false,
      require_lower: false,
      require_digit: true,
      require_special: true,
      history: 5,
      expiry_days: 30,
    });
    expect(strictestPolicy([])).toEqual(DEFAULT_PASSWORD_POLICY);
  });
});
