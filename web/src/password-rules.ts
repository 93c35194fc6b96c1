// The password checklist: every rule of the policy from the start, each judged while typing where
// the browser can (length, character classes, personal info when the page knows the person, the
// strength estimate once its dictionaries have loaded), the rest (common passwords, reuse) by the
// server on submit. The server stays the authority. Mirrors src/auth/password-policy.ts; kept free
// of imports so test/web checks it against the server's code.

/** The parts of the policy document (`PasswordPolicy` in types.ts) the checklist reads. */
export type ChecklistPolicy = {
  min_length: number;
  max_length: number;
  require_upper: boolean;
  require_lower: boolean;
  require_digit: boolean;
  require_special: boolean;
  history: number;
  disallow_personal_info: boolean;
  disallow_common: boolean;
  min_strength: number;
};

/** ok / fail: judged; pending: the server judges it on submit; checking: the estimate is on its way. */
export type RuleStatus = "ok" | "fail" | "pending" | "checking";
export type RuleResult = { code: string; label: string; status: RuleStatus; detail?: string };

/** Rule failures the server reported for one exact password, with its messages by rule. */
export type ServerPasswordFailure = { password: string; codes: string[]; messages?: Record<string, string> };

/** Who the password is for, as far as the page knows. */
export type PasswordPerson = {
  email: string;
  firstName?: string;
  lastName?: string;
  accountNames?: readonly string[];
};

/** The strength estimate of one password (see use-password-checklist.ts). */
export type StrengthReading = { password: string; score: number; message: string };

export type ChecklistContext = {
  /** Known: personal-info rules are checked while typing; unknown (reset link): on submit. */
  person?: PasswordPerson | null;
  /** The password replaces an earlier one, so the history rule applies. */
  replacing?: boolean;
  /** The estimate for this password; null while it is computed; "unavailable" if it cannot load. */
  strength?: StrengthReading | "unavailable" | null;
};

const LOCAL_CHECKS: Record<string, (password: string, policy: ChecklistPolicy) => boolean> = {
  min_length: (password, policy) => [...password].length >= policy.min_length,
  max_length: (password, policy) => [...password].length <= policy.max_length,
  require_upper: (password) => /\p{Lu}/u.test(password),
  require_lower: (password) => /\p{Ll}/u.test(password),
  require_digit: (password) => /\p{Nd}/u.test(password),
  require_special: (password) => /[^\p{L}\p{N}]/u.test(password),
};

/** As on the server: name fragments shorter than this are parts of too many words to refuse. */
const MIN_PERSONAL_PART = 4;
const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{M}\p{N}]+/u);
const atLeast = (min: number) => (word: string) => [...word].length >= min;

/** What `contains_email` and `contains_name` look for (server: `personalParts`). */
export function personalParts(person: PasswordPerson): { email: string[]; name: string[] } {
  const local = (person.email.split("@")[0] ?? "").toLowerCase();
  const email = [local, ...words(local)].filter(atLeast(MIN_PERSONAL_PART));
  const name = [person.firstName ?? "", person.lastName ?? ""]
    .flatMap(words)
    .filter(atLeast(MIN_PERSONAL_PART));
  return { email: [...new Set(email)], name: [...new Set(name)] };
}

/** Words the strength estimate treats as easy guesses for this person (server: `strengthInputs`). */
export function strengthInputs(person: PasswordPerson | null | undefined): string[] {
  if (!person) return [];
  const local = person.email.split("@")[0] ?? "";
  const texts = [local, person.firstName ?? "", person.lastName ?? "", ...(person.accountNames ?? [])];
  const all = [person.email, ...texts, ...texts.flatMap(words)].map((w) => w.trim().toLowerCase());
  return [...new Set(all)].filter(atLeast(3));
}

/** A full name split like the server splits the sign-up `name` (first word, then the rest). */
export function splitName(name: string): { firstName: string; lastName: string } {
  const trimmed = name.trim().replace(/\s+/g, " ");
  const space = trimmed.indexOf(" ");
  return space < 0
    ? { firstName: trimmed, lastName: "" }
    : { firstName: trimmed.slice(0, space), lastName: trimmed.slice(space + 1) };
}

function ruleLabel(code: string, policy: ChecklistPolicy | null): string {
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
      return "Does not contain your email address or part of it";
    case "contains_name":
      return "Does not contain your name";
    case "common_password":
      return "Is not a commonly used password";
    case "min_strength":
      return policy && policy.min_strength < 4
        ? `Hard to guess (strength ${policy.min_strength} of 4 or better)`
        : "Very hard to guess (strength 4 of 4)";
    case "reused":
      return policy && policy.history > 0
        ? `Is not one of your last ${policy.history} passwords`
        : "Is not a password you used before";
    default:
      return code.replaceAll("_", " ");
  }
}

/** Every rule of the policy, in the order the checklist shows them. */
function policyRules(policy: ChecklistPolicy | null, password: string, context: ChecklistContext): string[] {
  if (!policy) return [];
  const rules = ["min_length"];
  // The upper bound (256) is generous; mention it only once it matters.
  if (!LOCAL_CHECKS.max_length?.(password, policy)) rules.push("max_length");
  if (policy.require_upper) rules.push("require_upper");
  if (policy.require_lower) rules.push("require_lower");
  if (policy.require_digit) rules.push("require_digit");
  if (policy.require_special) rules.push("require_special");
  if (policy.disallow_personal_info) rules.push("contains_email", "contains_name");
  if (policy.disallow_common) rules.push("common_password");
  if (policy.min_strength > 0) rules.push("min_strength");
  if (context.replacing && policy.history > 0) rules.push("reused");
  return rules;
}

/** Whether the browser can tell that `password` breaks `code` (undefined: it cannot tell). */
function breaks(
  code: string,
  password: string,
  policy: ChecklistPolicy | null,
  context: ChecklistContext,
): boolean | undefined {
  const local = LOCAL_CHECKS[code];
  if (local) return policy ? !local(password, policy) : undefined;
  const lower = password.toLowerCase();
  const person = context.person;
  if (code === "contains_email" && person?.email)
    return personalParts(person).email.some((part) => lower.includes(part));
  if (code === "contains_name" && person)
    return personalParts(person).name.some((part) => lower.includes(part));
  const strength = context.strength;
  if (code === "min_strength" && policy && typeof strength === "object" && strength?.password === password)
    return strength.score < policy.min_strength;
  return undefined;
}

/**
 * The checklist for `password`. `serverFailures` are every rejection seen in this form, so a
 * rule the server reported once stays listed, and re-typing a rejected password shows it again.
 */
export function evaluatePassword(
  policy: ChecklistPolicy | null,
  password: string,
  serverFailures: readonly ServerPasswordFailure[],
  context: ChecklistContext = {},
): RuleResult[] {
  const codes = policyRules(policy, password, context);
  for (const failure of serverFailures) {
    for (const code of failure.codes) if (!codes.includes(code)) codes.push(code);
  }
  const rejection = (code: string) =>
    serverFailures.find((failure) => failure.password === password && failure.codes.includes(code));

  return codes.map((code): RuleResult => {
    const label = ruleLabel(code, policy);
    // Nothing typed yet: neutral rather than a wall of red crosses.
    if (password === "") return { code, label, status: "pending" };
    const rejected = rejection(code);
    const broken = breaks(code, password, policy, context);
    if (rejected || broken) {
      const strength = context.strength;
      const detail =
        broken && code === "min_strength" && typeof strength === "object" && strength
          ? strength.message
          : rejected?.messages?.[code];
      return detail ? { code, label, status: "fail", detail } : { code, label, status: "fail" };
    }
    if (broken === false) return { code, label, status: "ok" };
    const checking = code === "min_strength" && context.strength !== "unavailable";
    return { code, label, status: checking ? "checking" : "pending" };
  });
}

/** Whether submitting is pointless: a rule is known to fail, or a local one is not met yet. */
export function hasLocalFailure(results: readonly RuleResult[]): boolean {
  return results.some(
    (rule) => rule.status === "fail" || (rule.code in LOCAL_CHECKS && rule.status !== "ok"),
  );
}
