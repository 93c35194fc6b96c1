import { readFileSync } from "node:fs";
import type { FieldError } from "../http/errors.js";

export type PasswordPolicy = {
  min_length: number;
  require_upper: boolean;
  require_lower: boolean;
  require_digit: boolean;
  require_special: boolean;
  history: number;
  expiry_days: number | null;
};

/** The longest password accepted, in characters; longer ones are refused, never truncated. */
export const MAX_PASSWORD_LENGTH = 256;

export const POLICY_BOUNDS = {
  min_length: { min: 8, max: 128 },
  history: { min: 0, max: 24 },
  expiry_days: { min: 1, max: 3650 },
} as const;

export const DEFAULT_PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  min_length: 12,
  require_upper: false,
  require_lower: false,
  require_digit: false,
  require_special: false,
  history: 5,
  expiry_days: null,
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

export type PersonalInfo = { email: string; firstName?: string; lastName?: string };

const MESSAGES: Record<PolicyRuleCode, (p: PasswordPolicy) => string> = {
  min_length: (p) => `Use at least ${p.min_length} characters`,
  max_length: () => `Use at most ${MAX_PASSWORD_LENGTH} characters`,
  require_upper: () => "Include an upper-case letter",
  require_lower: () => "Include a lower-case letter",
  require_digit: () => "Include a digit",
  require_special: () => "Include a symbol or punctuation character",
  contains_email: () => "Must not contain your email address",
  contains_name: () => "Must not contain your name",
  common_password: () => "Too common: this password appears in lists of leaked passwords",
  reused: (p) => `Must differ from your last ${p.history} passwords`,
};

export function ruleError(policy: PasswordPolicy, code: PolicyRuleCode, path: string): FieldError {
  return { path, code, message: MESSAGES[code](policy) };
}

/** Every rule the password breaks (except history, which needs the stored hashes). */
export function checkPassword(
  password: string,
  policy: PasswordPolicy,
  person: PersonalInfo,
  path = "password",
): FieldError[] {
  const failed: PolicyRuleCode[] = [];
  const length = [...password].length;
  if (length < policy.min_length) failed.push("min_length");
  if (length > MAX_PASSWORD_LENGTH) failed.push("max_length");
  if (policy.require_upper && !/\p{Lu}/u.test(password)) failed.push("require_upper");
  if (policy.require_lower && !/\p{Ll}/u.test(password)) failed.push("require_lower");
  if (policy.require_digit && !/\p{Nd}/u.test(password)) failed.push("require_digit");
  if (policy.require_special && !/[^\p{L}\p{N}]/u.test(password)) failed.push("require_special");
  const lower = password.toLowerCase();
  const local = person.email.split("@")[0]?.toLowerCase() ?? "";
  if (local.length >= 3 && lower.includes(local)) failed.push("contains_email");
  const names = [person.firstName, person.lastName]
    .map((n) => n?.trim().toLowerCase() ?? "")
    .filter((n) => [...n].length >= 3);
  if (names.some((n) => lower.includes(n))) failed.push("contains_name");
  if (isCommonPassword(password)) failed.push("common_password");
  return failed.map((code) => ruleError(policy, code, path));
}
