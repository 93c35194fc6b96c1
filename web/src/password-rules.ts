// Mirrors the server's password policy checks where the browser can decide them, so the
// checklist updates while typing; the rest (common, personal info, reuse) only the server knows.
import { ApiError } from "./api";
import type { PasswordPolicy } from "./types";

export type RuleStatus = "ok" | "fail" | "pending";
export type RuleResult = { code: string; label: string; status: RuleStatus };

/** Rule failures the server reported for one exact password. */
export type ServerPasswordFailure = { password: string; codes: string[] };

const LOCAL_CHECKS: Record<string, (password: string, policy: PasswordPolicy | null) => boolean> = {
  min_length: (password, policy) => [...password].length >= (policy?.min_length ?? 0),
  max_length: (password, policy) => [...password].length <= (policy?.max_length ?? Number.POSITIVE_INFINITY),
  require_upper: (password) => /\p{Lu}/u.test(password),
  require_lower: (password) => /\p{Ll}/u.test(password),
  require_digit: (password) => /\p{Nd}/u.test(password),
  require_special: (password) => /[^\p{L}\p{N}]/u.test(password),
};

function ruleLabel(code: string, policy: PasswordPolicy | null): string {
  switch (code) {
    case "min_length":
      return policy ? `At least ${policy.min_length} characters` : "Long enough";
    case "max_length":
      return policy ? `At most ${policy.max_length} characters` : "Not too long";
    case "require_upper":
      return "An uppercase letter";
    case "require_lower":
      return "A lowercase letter";
    case "require_digit":
      return "A number";
    case "require_special":
      return "A symbol or space (not a letter or number)";
    case "contains_email":
      return "Does not contain your email address";
    case "contains_name":
      return "Does not contain your name";
    case "common_password":
      return "Is not a commonly used password";
    case "reused":
      return policy && policy.history > 0
        ? `Is not one of your last ${policy.history} passwords`
        : "Is not a password you used before";
    default:
      return code.replaceAll("_", " ");
  }
}

function activeLocalRules(policy: PasswordPolicy | null, password: string): string[] {
  if (!policy) return [];
  const rules = ["min_length"];
  // The upper bound is generous; mention it only once it matters.
  if (!LOCAL_CHECKS.max_length?.(password, policy)) rules.push("max_length");
  if (policy.require_upper) rules.push("require_upper");
  if (policy.require_lower) rules.push("require_lower");
  if (policy.require_digit) rules.push("require_digit");
  if (policy.require_special) rules.push("require_special");
  return rules;
}

/**
 * The checklist for `password`. `serverFailures` are every rejection seen in this form, so a
 * rule the server reported once stays listed, and re-typing a rejected password shows it again.
 */
export function evaluatePassword(
  policy: PasswordPolicy | null,
  password: string,
  serverFailures: readonly ServerPasswordFailure[],
): RuleResult[] {
  const codes = activeLocalRules(policy, password);
  for (const failure of serverFailures) {
    for (const code of failure.codes) if (!codes.includes(code)) codes.push(code);
  }
  const rejectedFor = (code: string) =>
    serverFailures.some((failure) => failure.password === password && failure.codes.includes(code));

  return codes.map((code) => {
    const check = LOCAL_CHECKS[code];
    let status: RuleStatus;
    // Nothing typed yet: neutral rather than a wall of red crosses.
    if (password === "") status = "pending";
    else if (check) status = rejectedFor(code) || !check(password, policy) ? "fail" : "ok";
    // Only the server can judge these; after an edit we don't know until the next submit.
    else status = rejectedFor(code) ? "fail" : "pending";
    return { code, label: ruleLabel(code, policy), status };
  });
}

/** Whether a rule the browser can check is not met yet (so submitting is pointless). */
export function hasLocalFailure(results: RuleResult[]): boolean {
  return results.some((rule) => rule.status !== "ok" && rule.code in LOCAL_CHECKS);
}

/** Extracts per-rule failures from a 422 `password_policy` answer, if that is what it is. */
export function passwordFailureFrom(error: unknown, password: string): ServerPasswordFailure | null {
  if (!(error instanceof ApiError) || error.code !== "password_policy") return null;
  return { password, codes: [...new Set(error.errors.map((entry) => entry.code))] };
}
