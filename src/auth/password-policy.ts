import { readFileSync } from "node:fs";
import { AppError, type FieldError } from "../http/errors.js";
import { passwordStrength, strengthMessage } from "./password-strength.js";

export type PasswordPolicy = {
  min_length: number;
  require_upper: boolean;
  require_lower: boolean;
  require_digit: boolean;
  require_special: boolean;
  history: number;
  expiry_days: number | null;
  /** The lowest zxcvbn score (0–4) accepted; 0 turns the strength estimate off. */
  min_strength: number;
};

/** The longest password accepted, in characters; longer ones are refused, never truncated. */
export const MAX_PASSWORD_LENGTH = 256;

export const POLICY_BOUNDS = {
  min_length: { min: 8, max: 128 },
  history: { min: 0, max: 24 },
  expiry_days: { min: 1, max: 3650 },
  min_strength: { min: 0, max: 4 },
} as const;

export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  min_length: 12,
  require_upper: false,
  require_lower: false,
  require_digit: false,
  require_special: false,
  history: 5,
  expiry_days: null,
  min_strength: 3,
});

export type PolicyRuleCode =
  | "min_length"
  | "max_length"
  | "require_upper"
  | "require_lower"
  | "require_digit"
  | "require_special"
  | "contains_email"
  | "contains_name"
  | "common_password"
  | "min_strength"
  | "reused";

/** A user in several accounts lives under the strictest combination of their accounts' policies. */
export function strictestPolicy(policies: readonly PasswordPolicy[]): PasswordPolicy {
  if (policies.length === 0) return { ...DEFAULT_PASSWORD_POLICY };
  const expiries = policies.map((p) => p.expiry_days).filter((d): d is number => d !== null);
  return {
    min_length: Math.max(...policies.map((p) => p.min_length)),
    require_upper: policies.some((p) => p.require_upper),
    require_lower: policies.some((p) => p.require_lower),
    require_digit: policies.some((p) => p.require_digit),
    require_special: policies.some((p) => p.require_special),
    history: Math.max(...policies.map((p) => p.history)),
    expiry_days: expiries.length ? Math.min(...expiries) : null,
    min_strength: Math.max(...policies.map((p) => p.min_strength)),
  };
}

export function policyView(policy: PasswordPolicy) {
  return { ...policy, max_length: MAX_PASSWORD_LENGTH, disallow_personal_info: true, disallow_common: true };
}

let commonPasswords: Set<string> | undefined;

/** The 20,000 most common passwords (zxcvbn's frequency list, MIT), loaded on first use. */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(
    readFileSync(new URL("./common-passwords.txt", import.meta.url), "utf8")
      .split("\n")
      .filter(Boolean),
  );
  return commonPasswords.has(password.toLowerCase());
}

export type PersonalInfo = {
  email: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  /** The names of the accounts the password is for: easy guesses too, for the strength estimate. */
  accountNames?: readonly string[] | undefined;
};

/** Name fragments shorter than this are too common as parts of words ("One", "Li", "Ng") to refuse. */
export const MIN_PERSONAL_PART = 4;

const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{M}\p{N}]+/u);
const atLeast = (min: number) => (word: string) => [...word].length >= min;

/**
 * What `contains_email` and `contains_name` look for: the email's local part, whole and split at
 * its separators ("grace.hopper" → grace, hopper), and each part of the first and last names, all
 * of at least 4 characters.
 */
export function personalParts(person: PersonalInfo): { email: string[]; name: string[] } {
  const local = (person.email.split("@")[0] ?? "").toLowerCase();
  const email = [local, ...words(local)].filter(atLeast(MIN_PERSONAL_PART));
  const name = [person.firstName ?? "", person.lastName ?? ""]
    .flatMap(words)
    .filter(atLeast(MIN_PERSONAL_PART));
  return { email: [...new Set(email)], name: [...new Set(name)] };
}

/** Words zxcvbn treats as easy guesses for this person: the email, its parts, names, account names. */
export function strengthInputs(person: PersonalInfo): string[] {
  const local = person.email.split("@")[0] ?? "";
  const texts = [local, person.firstName ?? "", person.lastName ?? "", ...(person.accountNames ?? [])];
  const all = [person.email, ...texts, ...texts.flatMap(words)].map((w) => w.trim().toLowerCase());
  return [...new Set(all)].filter(atLeast(3));
}

const MESSAGES: Record<Exclude<PolicyRuleCode, "min_strength">, (p: PasswordPolicy) => string> = {
  min_length: (p) => `Use at least ${p.min_length} characters`,
  max_length: () => `Use at most ${MAX_PASSWORD_LENGTH} characters`,
  require_upper: () => "Include an upper-case letter",
  require_lower: () => "Include a lower-case letter",
  require_digit: () => "Include a digit",
  require_special: () => "Include a symbol or punctuation character",
  contains_email: () => "Must not contain your email address or a part of it",
  contains_name: () => "Must not contain your name",
  common_password: () => "Too common: this password appears in lists of leaked passwords",
  reused: (p) => `Must differ from your last ${p.history} passwords`,
};

export function ruleError(
  policy: PasswordPolicy,
  code: Exclude<PolicyRuleCode, "min_strength">,
  path: string,
): FieldError {
  return { path, code, message: MESSAGES[code](policy) };
}

/** Every rule the password breaks (except history, which needs the stored hashes). */
export async function checkPassword(
  password: string,
  policy: PasswordPolicy,
  person: PersonalInfo,
  path = "password",
): Promise<FieldError[]> {
  const failed: Array<Exclude<PolicyRuleCode, "min_strength">> = [];
  const length = [...password].length;
  if (length < policy.min_length) failed.push("min_length");
  if (length > MAX_PASSWORD_LENGTH) failed.push("max_length");
  if (policy.require_upper && !/\p{Lu}/u.test(password)) failed.push("require_upper");
  if (policy.require_lower && !/\p{Ll}/u.test(password)) failed.push("require_lower");
  if (policy.require_digit && !/\p{Nd}/u.test(password)) failed.push("require_digit");
  if (policy.require_special && !/[^\p{L}\p{N}]/u.test(password)) failed.push("require_special");
  const lower = password.toLowerCase();
  const personal = personalParts(person);
  if (personal.email.some((part) => lower.includes(part))) failed.push("contains_email");
  if (personal.name.some((part) => lower.includes(part))) failed.push("contains_name");
  if (isCommonPassword(password)) failed.push("common_password");
  const errors = failed.map((code) => ruleError(policy, code, path));
  if (policy.min_strength > 0) {
    const strength = await passwordStrength(password, strengthInputs(person));
    if (strength.score < policy.min_strength)
      errors.push({ path, code: "min_strength", message: strengthMessage(strength) });
  }
  return errors;
}

/** The 422 for a refused password: every failed rule in `errors[]`, their messages in `detail`. */
export function passwordPolicyError(errors: readonly FieldError[]): AppError {
  const detail = errors.map((e) => e.message.replace(/\.$/, "")).join(". ");
  return new AppError("password_policy", detail, { errors: [...errors] });
}
