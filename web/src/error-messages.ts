// Plain-language explanations for the account-management error codes (docs/api-accounts.md).
// The server's `detail` is already a sentence, but these say what to do about it.
import { ApiError, describeError } from "./api";
import { type FormErrors, toFormErrors } from "./form-errors";

const EXPLANATIONS: Record<string, string> = {
  root_only: "Only a Root user can change, suspend or remove a Root member, or grant the Root role.",
  last_root: "This is the account's last active Root user. Make someone else Root first.",
  self_change: "You can't change your own role or status, or remove yourself. Ask another administrator.",
  privilege_escalation: "You can't grant permissions that your own role doesn't have.",
  forbidden: "Your role in this account doesn't allow this.",
  not_found: "It no longer exists, or you are no longer a member of this account.",
  builtin_role: "Built-in roles can't be changed or deleted.",
  role_in_use: "Members still have this role. Choose a role to move them to.",
  seat_limit_reached:
    "No free seat: the plan's seat limit is reached. Upgrade the plan (Settings → Billing), or remove users or revoke pending invitations first.",
  payment_method_required: "Add a payment method first: paid plans charge it for each invoice.",
  already_member: "Already a member of this account.",
  already_invited: "Already has a pending invitation.",
  invalid_email: "Not a valid email address.",
  duplicate: "Listed more than once.",
  wrong_user: "This invitation is for a different email address than the one you're logged in with.",
  invalid_token: "This invitation link is invalid, was revoked, or has expired.",
  password_change_required: "Change your password first (Settings → Security), then open this link again.",
  unauthenticated: "Your session has ended. Log in again to continue.",
  reauth_required: "Confirm it's you first: try again and enter your password or a code when asked.",
};

export function errorCode(error: unknown): string | null {
  return error instanceof ApiError ? error.code : null;
}

/** A message for an alert: what went wrong and, where it helps, what to do. */
export function explainError(error: unknown): string {
  if (error instanceof ApiError && error.code === "rate_limited" && error.status === 429) {
    return error.retryAfter === undefined
      ? "That was done very recently. Please wait a while before trying again."
      : `That was done very recently. Try again in ${error.retryAfter} second${error.retryAfter === 1 ? "" : "s"}.`;
  }
  if (error instanceof ApiError && error.code in EXPLANATIONS) return EXPLANATIONS[error.code] as string;
  return describeError(error);
}

/** For per-item results (`{ code, detail }`), e.g. one email of a bulk invitation. */
export function explainItemError(item: { code: string; detail?: string }): string {
  return EXPLANATIONS[item.code] ?? item.detail ?? item.code.replaceAll("_", " ");
}

/** A page-level outcome message: what an action did, or why it failed. */
export type Notice = { tone: "success" | "error"; text: string; code?: string | null };

export function errorNotice(error: unknown, prefix?: string): Notice {
  const text = explainError(error);
  return { tone: "error", text: prefix ? `${prefix}: ${text}` : text, code: errorCode(error) };
}

/**
 * Like toFormErrors, but when nothing lands on a field the banner explains the code
 * (privilege_escalation, root_only…) rather than repeating the server's terse detail.
 */
export function toExplainedFormErrors(error: unknown, formFields: readonly string[]): FormErrors {
  return toFormErrors(error, formFields, explainError);
}
