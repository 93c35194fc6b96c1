/**
 * The audit log's action categories: the one place an action is sorted into what a person filters by.
 * The API filters by them (`category=`) and returns each event's; the web only shows their labels.
 */
export const AUDIT_CATEGORIES = [
  "members",
  "invitations",
  "roles_teams",
  "security",
  "api_keys_webhooks",
  "billing",
  "account_data",
] as const;

export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/** Actions filed away from where their prefix would put them; checked before the prefixes. */
const EXACT: Readonly<Record<string, AuditCategory>> = {
  "account.security_updated": "security",
  "member.mfa_reset": "security",
  "member.recovery_codes_issued": "security",
  "member.recovery_codes_viewed": "security",
  "member.password_reset_forced": "security",
  "member.logged_out": "security",
  "member.session_revoked": "security",
  "user.password_changed": "security",
  "user.password_reset": "security",
  "user.password_reset_by_operator": "security",
  "user.email_change_requested": "security",
  "user.email_changed": "security",
  "user.email_verified": "security",
  "user.mobile_verification_sent": "security",
  "user.mobile_verified": "security",
};

const PREFIXES: ReadonlyArray<readonly [string, AuditCategory]> = [
  ["member.", "members"],
  ["user.", "members"],
  ["invitation.", "invitations"],
  ["role.", "roles_teams"],
  ["team.", "roles_teams"],
  ["permission.", "roles_teams"],
  ["auth.", "security"],
  ["mfa.", "security"],
  ["session.", "security"],
  ["oidc.", "security"],
  ["api_key.", "api_keys_webhooks"],
  ["webhook.", "api_keys_webhooks"],
  ["billing.", "billing"],
];

/** Anything not matched above (account.*, branding.*, data_retention.*, export.*, domain.*, audit.*…). */
const CATCH_ALL: AuditCategory = "account_data";

export function auditCategoryOf(action: string): AuditCategory {
  const exact = EXACT[action];
  if (exact) return exact;
  return PREFIXES.find(([prefix]) => action.startsWith(prefix))?.[1] ?? CATCH_ALL;
}

/** What a category matches, as data a query can use: exact actions, or prefixes minus the exceptions. */
export type CategoryRule = {
  exact: string[];
  prefixes: string[];
  /** Actions with one of `prefixes` that EXACT files elsewhere. */
  except: string[];
  /** For the catch-all: everything no other category matches. */
  rest: boolean;
};

export function categoryRule(category: AuditCategory): CategoryRule {
  const exact = Object.keys(EXACT).filter((action) => EXACT[action] === category);
  const prefixes = PREFIXES.filter(([, c]) => c === category).map(([p]) => p);
  const except = Object.keys(EXACT).filter(
    (action) => EXACT[action] !== category && prefixes.some((p) => action.startsWith(p)),
  );
  return { exact, prefixes, except, rest: category === CATCH_ALL };
}
