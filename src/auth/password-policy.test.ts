import { describe, expect, it } from "vitest";
import {
  checkPassword,
  DEFAULT_PASSWORD_POLICY,
  isCommonPassword,
  MAX_PASSWORD_LENGTH,
  type PersonalInfo,
  strictestPolicy,
} from "./password-policy.js";
import { passwordStrength } from "./password-strength.js";

const person = { email: "grace.hopper@example.com", firstName: "Grace", lastName: "Hopper" };
const codes = async (password: string, policy = DEFAULT_PASSWORD_POLICY, who: PersonalInfo = person) =>
  (await checkPassword(password, policy, who)).map((e) => e.code);

describe("password policy", () => {
  it("has safe defaults", () => {
    expect(DEFAULT_PASSWORD_POLICY).toMatchObject({
      min_length: 12,
      history: 5,
      expiry_days: null,
      min_strength: 3,
    });
  });

  it("accepts a long passphrase and reports nothing", async () => {
    expect(await codes("tangerine submarine orchestra")).toEqual([]);
  });

  it("names every failed rule at once", async () => {
    const strict = {
      ...DEFAULT_PASSWORD_POLICY,
      require_upper: true,
      require_digit: true,
      require_special: true,
    };
    expect((await codes("zzhopperq", strict)).sort()).toEqual(
      [
        "contains_email",
        "contains_name",
        "min_length",
        "require_digit",
        "require_special",
        "require_upper",
      ].sort(),
    );
  });

  it("refuses the email's local part and the name, case-insensitively", async () => {
    expect(await codes("xx-GRACE.HOPPER-2024!")).toContain("contains_email");
    expect(await codes("my-name-is-hopPer-ok")).toContain("contains_name");
  });

  it("refuses name parts of 4 or more characters, and the email's local part and its parts", async () => {
    const ada = { email: "a.lovelace@example.com", firstName: "Ada Mary", lastName: "One" };
    // Three-letter names ("Ada", "One") are parts of too many words to refuse.
    expect(await codes("Onerous-Harbor-sunrise-42", DEFAULT_PASSWORD_POLICY, ada)).toEqual([]);
    expect(await codes("Canada-Harbor-sunrise-42", DEFAULT_PASSWORD_POLICY, ada)).toEqual([]);
    expect(await codes("Harbor-MARY-sunrise-42", DEFAULT_PASSWORD_POLICY, ada)).toEqual(["contains_name"]);
    expect(await codes("Harbor-sunrise-lovelace-42", DEFAULT_PASSWORD_POLICY, ada)).toEqual([
      "contains_email",
    ]);
    expect(await codes("Harbor-a.lovelace-sunrise", DEFAULT_PASSWORD_POLICY, ada)).toEqual([
      "contains_email",
    ]);
    const hyphenated = { email: "one@example.com", firstName: "Jean-Luc", lastName: "Van der Berg" };
    expect(await codes("Harbor-sunrise-Luc-Onerous", DEFAULT_PASSWORD_POLICY, hyphenated)).toEqual([]);
    expect(await codes("Harbor-sunrise-jean-42", DEFAULT_PASSWORD_POLICY, hyphenated)).toEqual([
      "contains_name",
    ]);
    expect(await codes("Harbor-sunrise-berg-42", DEFAULT_PASSWORD_POLICY, hyphenated)).toEqual([
      "contains_name",
    ]);
  });

  it("refuses a guessable password by default with zxcvbn's feedback as the message", async () => {
    // 14 characters and not in the list of 20,000, yet trivially guessable.
    expect(isCommonPassword("password123456")).toBe(false);
    const errors = await checkPassword("password123456", DEFAULT_PASSWORD_POLICY, person);
    expect(errors).toEqual([
      {
        path: "password",
        code: "min_strength",
        message: "This is similar to a commonly used password. Add more words that are less common.",
      },
    ]);
    expect(await codes("password123456", { ...DEFAULT_PASSWORD_POLICY, min_strength: 0 })).toEqual([]);
  });

  it("counts the person's email, names and account names as easy guesses", async () => {
    const who = { email: "g@example.com", firstName: "Ann", lastName: "Li" };
    expect(await codes("gatehouse2024!", DEFAULT_PASSWORD_POLICY, who)).toEqual([]);
    const withAccount = { ...who, accountNames: ["Gatehouse Ltd"] };
    expect(await codes("gatehouse2024!", DEFAULT_PASSWORD_POLICY, withAccount)).toEqual(["min_strength"]);
  });

  it("scores only the first 64 characters, so a long password costs no more than a 64-character one", async () => {
    const head = "Tangerine-Submarine-Orchestra-1".repeat(3).slice(0, 64);
    const strong = await passwordStrength(`${head}${"x".repeat(150)}`, []);
    expect(strong).toEqual(await passwordStrength(head, []));
    expect((await passwordStrength(`aaaaaaaaaaaaaaaa${"x".repeat(100)}`, [])).score).toBeLessThan(3);
  });

  it("refuses common passwords from the shipped list of 20,000", async () => {
    expect(isCommonPassword("password")).toBe(true);
    expect(isCommonPassword("PASSWORD")).toBe(true);
    expect(isCommonPassword("1qaz2wsx3edc")).toBe(true);
    expect(await codes("1qaz2wsx3edc")).toEqual(["common_password", "min_strength"]);
    expect(isCommonPassword("tangerine submarine orchestra")).toBe(false);
  });

  it("counts characters, not bytes, and understands unicode classes", async () => {
    const policy = {
      ...DEFAULT_PASSWORD_POLICY,
      require_upper: true,
      require_lower: true,
      require_digit: true,
      require_special: true,
    };
    expect(await codes("ÉCOLEçà٣🔑xyzwv", policy)).toEqual([]);
    // 11 emoji are 22 UTF-16 units but 11 characters: too short for 12.
    expect(await codes("🔑".repeat(11), { ...DEFAULT_PASSWORD_POLICY, min_strength: 0 })).toEqual([
      "min_length",
    ]);
  });

  it("accepts 128 and more characters without truncating, up to the hard maximum", async () => {
    const long = "a1-Long-passphrase-".repeat(20);
    expect(long.length).toBeGreaterThan(128);
    expect(await codes(long.slice(0, MAX_PASSWORD_LENGTH))).toEqual([]);
    expect(await codes(`${long.slice(0, MAX_PASSWORD_LENGTH)}x`)).toEqual(["max_length"]);
  });

  it("combines several accounts' policies into the strictest", () => {
    const merged = strictestPolicy([
      { ...DEFAULT_PASSWORD_POLICY, min_length: 10, require_digit: true, history: 3, expiry_days: 90 },
      { ...DEFAULT_PASSWORD_POLICY, min_length: 16, require_special: true, history: 1, expiry_days: 30 },
      { ...DEFAULT_PASSWORD_POLICY, min_length: 8, expiry_days: null, min_strength: 4 },
    ]);
    expect(merged).toEqual({
      min_length: 16,
      require_upper: false,
      require_lower: false,
      require_digit: true,
      require_special: true,
      history: 5,
      expiry_days: 30,
      min_strength: 4,
    });
    expect(strictestPolicy([])).toEqual(DEFAULT_PASSWORD_POLICY);
  });
});
