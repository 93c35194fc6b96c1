import { describe, expect, it } from "vitest";
import {
  checkPassword,
  DEFAULT_PASSWORD_POLICY,
  policyView,
  personalParts as serverPersonalParts,
  strengthInputs as serverStrengthInputs,
} from "../../src/auth/password-policy.js";
import { passwordStrength } from "../../src/auth/password-strength.js";
import {
  type ChecklistContext,
  evaluatePassword,
  hasLocalFailure,
  type PasswordPerson,
  personalParts,
  strengthInputs,
} from "../../web/src/password-rules.js";
import { loadStrengthChecker, strengthMessage } from "../../web/src/password-strength.js";

const policy = policyView(DEFAULT_PASSWORD_POLICY);
const grace: PasswordPerson = {
  email: "grace.hopper@example.com",
  firstName: "Grace",
  lastName: "Hopper",
  accountNames: ["Navy Labs"],
};

async function reading(password: string, person: PasswordPerson | null = grace) {
  const strength = (await loadStrengthChecker())(password, strengthInputs(person));
  return { password, score: strength.score, message: strengthMessage(strength) };
}

const statuses = (password: string, context: ChecklistContext, failures = []) =>
  Object.fromEntries(evaluatePassword(policy, password, failures, context).map((r) => [r.code, r.status]));

describe("the live password checklist", () => {
  it("lists every rule of the policy before anything is submitted", () => {
    const rules = evaluatePassword(policy, "", [], { person: grace });
    expect(rules.map((r) => r.code)).toEqual([
      "min_length",
      "contains_email",
      "contains_name",
      "common_password",
      "min_strength",
    ]);
    expect(new Set(rules.map((r) => r.status))).toEqual(new Set(["pending"]));
    expect(rules.find((r) => r.code === "min_strength")?.label).toBe(
      "Hard to guess (strength 3 of 4 or better)",
    );

    const strict = { ...policy, require_upper: true, require_special: true, min_strength: 4 };
    const replacing = evaluatePassword(strict, "", [], { replacing: true }).map((r) => r.code);
    expect(replacing).toEqual([
      "min_length",
      "require_upper",
      "require_special",
      "contains_email",
      "contains_name",
      "common_password",
      "min_strength",
      "reused",
    ]);
  });

  it("judges while typing whatever the browser can, and leaves the rest to the server", async () => {
    expect(statuses("Onerous-Harbor-grace-42", { person: grace, strength: null })).toEqual({
      min_length: "ok",
      contains_email: "fail",
      contains_name: "fail",
      common_password: "pending",
      min_strength: "checking",
    });
    // Without knowing whose password it is (a reset link), personal info waits for the submit.
    const weak = await reading("password123456", null);
    expect(statuses("password123456", { strength: weak, replacing: true })).toEqual({
      min_length: "ok",
      contains_email: "pending",
      contains_name: "pending",
      common_password: "pending",
      min_strength: "fail",
      reused: "pending",
    });
    const rule = evaluatePassword(policy, "password123456", [], { strength: weak }).find(
      (r) => r.code === "min_strength",
    );
    expect(rule?.detail).toBe(
      "This is similar to a commonly used password. Add more words that are less common.",
    );

    const strong = await reading("violet-Harbor-sunrise-42");
    expect(statuses("violet-Harbor-sunrise-42", { person: grace, strength: strong }).min_strength).toBe("ok");
    // A reading of another password is not this one's; an estimate that cannot load is the server's job.
    expect(statuses("violet-Harbor-sunrise-4", { person: grace, strength: strong }).min_strength).toBe(
      "checking",
    );
    expect(statuses("violet-Harbor-sunrise-4", { strength: "unavailable" }).min_strength).toBe("pending");
  });

  it("blocks a submit only for rules known to fail, never for ones the server judges", async () => {
    const strong = await reading("violet-Harbor-sunrise-42");
    const ok = evaluatePassword(policy, "violet-Harbor-sunrise-42", [], { person: grace, strength: strong });
    expect(hasLocalFailure(ok)).toBe(false);
    const weak = await reading("password123456");
    expect(hasLocalFailure(evaluatePassword(policy, "password123456", [], { strength: weak }))).toBe(true);
    expect(hasLocalFailure(evaluatePassword(policy, "password123456", [], { strength: null }))).toBe(false);
    const rejected = [{ password: "x-Common-but-long-1", codes: ["common_password"] }];
    expect(hasLocalFailure(evaluatePassword(policy, "x-Common-but-long-1", rejected, {}))).toBe(true);
  });
});

describe("the checklist agrees with the server", () => {
  const people: PasswordPerson[] = [
    grace,
    { email: "one@example.com", firstName: "Ada", lastName: "One" },
    {
      email: "jean-luc.van+tag@example.com",
      firstName: "Jean-Luc",
      lastName: "Van der Berg",
      accountNames: [],
    },
    { email: "zoë@example.com", firstName: "Zoë", lastName: "Åström", accountNames: ["Ünïcode AB", "x"] },
  ];
  const passwords = [
    "Onerous-Harbor-sunrise-42",
    "xx-GRACE.HOPPER-2024!",
    "my-name-is-hopPer-ok",
    "Harbor-sunrise-jean-42",
    "zoëåström-navy-labs",
    "password123456",
    "gatehouse2024!",
    "navylabs2024!!",
    "Tr0ub4dour&3-extra",
    `${"Tangerine-Submarine-Orchestra-1".repeat(4)}x`,
  ];

  it("on personal information: the same parts and the same easy guesses", async () => {
    for (const person of people) {
      expect(personalParts(person)).toEqual(serverPersonalParts(person));
      expect(strengthInputs(person)).toEqual(serverStrengthInputs(person));
      for (const password of passwords) {
        const server = (
          await checkPassword(password, { ...DEFAULT_PASSWORD_POLICY, min_strength: 0 }, person)
        )
          .map((e) => e.code)
          .filter((code) => code.startsWith("contains_"));
        const browser = evaluatePassword(policy, password, [], { person })
          .filter((r) => r.code.startsWith("contains_") && r.status === "fail")
          .map((r) => r.code);
        expect(browser, `${password} for ${person.email}`).toEqual(server);
      }
    }
  });

  it("on strength: the same score and message for the same password and person", async () => {
    const check = await loadStrengthChecker();
    for (const person of people) {
      for (const password of passwords) {
        const inputs = strengthInputs(person);
        const server = await passwordStrength(password, inputs);
        const browser = check(password, inputs);
        expect(browser, `${password} for ${person.email}`).toEqual(server);
      }
    }
  });
});
