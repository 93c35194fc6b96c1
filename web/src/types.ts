// Shapes of the API documents the web app reads (docs/api-identity.md, docs/api-accounts.md).

export type Role = { id: string; key: string; name: string; description: string | null };

export type Membership = { account_id: string; account_name: string; role: Role };

export type Me = {
  id: string;
  email: string;
  email_verified: boolean;
  username: string | null;
  first_name: string | null;
  last_name: string | null;
  full_name: string | null;
  mobile: string | null;
  timezone: string | null;
  locale: string | null;
  avatar_url: string | null;
  mfa_enabled: boolean;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
  memberships: Membership[];
};

export type SessionInfo = {
  user: Me;
  account_id: string;
  csrf_token: string;
  session: { id: string; expires_at: string };
  password_change_required: boolean;
  /** The accounts require a second factor and the user has none: set one up by then (ISO), else null. */
  mfa_enrollment_due_at: string | null;
};

export type MfaChallenge = { mfa_required: true; mfa_token: string; methods: string[] };

export type LoginResponse = SessionInfo | MfaChallenge;

// Second factors (docs/api-mfa.md).

/** How a second factor is proved: at log-in and when re-authenticating. */
export type SecondFactorMethod = "totp" | "email" | "sms" | "recovery_code";

export type MfaFactor = {
  id: string;
  type: "totp" | "email" | "sms" | "passkey";
  label: string;
  created_at: string;
  last_used_at: string | null;
};

export type MfaStatus = { enabled: boolean; factors: MfaFactor[]; recovery_codes_remaining: number };

/** `POST /me/mfa/totp`: an enrollment that counts once its first code is verified. */
export type TotpEnrollment = { factor_id: string; secret: string; otpauth_uri: string; qr_svg: string };

/** `POST /me/mfa/email`: a code is on its way to the account's address; verified like a TOTP factor. */
export type EmailEnrollment = { factor_id: string };

/** `POST /me/mfa/sms`: a code is on its way to the number (shown masked); verified like email codes. */
export type SmsEnrollment = { factor_id: string; phone: string };

/** `recovery_codes` only for a user's first factor: shown once. Also the email factor's verify answer. */
export type TotpVerification = { factor: MfaFactor; recovery_codes?: string[] };

export type PasswordPolicy = {
  min_length: number;
  max_length: number;
  require_upper: boolean;
  require_lower: boolean;
  require_digit: boolean;
  require_special: boolean;
  history: number;
  expiry_days: number | null;
  disallow_personal_info: boolean;
  disallow_common: boolean;
};

export const THEMES = ["light", "dark", "system"] as const;
export type Theme = (typeof THEMES)[number];

export const DATE_RANGES = [
  "today",
  "last_7_days",
  "last_30_days",
  "last_90_days",
  "last_12_months",
  "year_to_date",
] as const;
export type DateRange = (typeof DATE_RANGES)[number];

export const CHART_METRICS = ["active_users", "sessions", "logins", "api_calls", "errors"] as const;
export type ChartMetric = (typeof CHART_METRICS)[number];

export const LIST_STATUSES = ["all", "active", "suspended", "pending"] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export type Preferences = {
  theme: Theme;
  animations: boolean;
  default_date_range: DateRange;
  default_chart_metric: ChartMetric;
  default_list_filters: { status: ListStatus; page_size: PageSize };
};

export const DEFAULT_PREFERENCES: Preferences = {
  theme: "system",
  animations: true,
  default_date_range: "last_30_days",
  default_chart_metric: "active_users",
  default_list_filters: { status: "all", page_size: 50 },
};

export type DeviceSession = {
  id: string;
  current: boolean;
  created_at: string;
  last_seen_at: string | null;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  device: { browser: string | null; os: string | null; type: "desktop" | "mobile" | "tablet" | "unknown" };
};

// Accounts, members, invitations, roles, teams, audit (docs/api-accounts.md).

/** How lists answer: `?limit=&cursor=` → `{ data, next_cursor }`. */
export type Page<T> = { data: T[]; next_cursor: string | null };

export type RoleRef = { id: string; key: string; name: string };

export type AccountSummary = { id: string; name: string; slug: string; role: RoleRef; current: boolean };

export type Account = {
  id: string;
  name: string;
  slug: string;
  logo_url: string | null;
  industry: string | null;
  contact_email: string | null;
  tax_id: string | null;
  default_role_id: string | null;
  created_at: string;
  updated_at: string;
};

/** `GET /accounts/{id}/security`: the account's own password rules and session lifetimes. */
export type AccountSecurity = {
  password_policy: Pick<
    PasswordPolicy,
    | "min_length"
    | "require_upper"
    | "require_lower"
    | "require_digit"
    | "require_special"
    | "history"
    | "expiry_days"
  >;
  session: { idle_minutes: number; absolute_hours: number };
  mfa: MfaPolicy;
  /** IPv4/IPv6 addresses and CIDR ranges allowed to log in and use the account; empty = anywhere. */
  ip_allowlist: string[];
  /** The caller's address as the allowlist sees it (read-only). */
  current_ip: string | null;
};

export const MFA_POLICY_METHODS = ["totp", "email", "sms", "passkey"] as const;
export type MfaPolicyMethod = (typeof MFA_POLICY_METHODS)[number];

/** Who must have a second factor, which kinds count, and how long newcomers have to set one up. */
export type MfaPolicy = {
  required_role_ids: string[];
  allowed_methods: MfaPolicyMethod[];
  grace_days: number;
};

export const MEMBER_STATUSES = ["active", "suspended", "pending"] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export type Member = {
  user_id: string | null;
  email: string;
  first_name: string | null;
  last_name: string | null;
  status: MemberStatus;
  role: RoleRef;
  team_ids: string[];
  last_login_at: string | null;
  joined_at: string | null;
  invitation_id?: string | null;
};

/** `active` counts pending invitations too (each holds a seat); `pending` is that share of it. */
export type MemberCounts = { active: number; suspended: number; pending: number };

export type MembersPage = Page<Member> & { counts?: MemberCounts };

export const MEMBER_SORTS = ["name", "email", "last_login_at", "joined_at"] as const;
export type MemberSort = (typeof MEMBER_SORTS)[number];

export type Invitation = {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  role: RoleRef;
  team_ids: string[];
  status: "pending" | "accepted" | "revoked" | "expired";
  expires_at: string;
  invited_by: { user_id: string; name: string } | null;
  created_at: string;
  last_sent_at: string | null;
  send_count: number;
};

export type ItemError = { code: string; detail: string };

export type InviteResult = { email: string; invitation?: Invitation; error?: ItemError };

export type BulkDeleteResult = { user_id: string; removed?: true; error?: ItemError };

export type InvitationLookup = {
  email: string;
  account_name: string;
  invited_by_name: string | null;
  role_name: string | null;
  existing_user: boolean;
  expires_at: string;
};

export type RoleDetail = RoleRef & {
  description: string | null;
  permissions: string[];
  builtin: boolean;
  member_count: number;
  created_at: string;
  updated_at: string;
};

export type RoleTemplate = { key: string; name: string; description: string; permissions: string[] };

export type PermissionInfo = { key: string; description: string; group: string; custom: boolean };

export type Team = {
  id: string;
  name: string;
  description: string | null;
  role: RoleRef | null;
  member_ids: string[];
  created_at: string;
  updated_at: string;
};

export type AuditEvent = {
  id: string;
  action: string;
  actor: { type: string; id: string | null; email: string | null } | null;
  target: { type: string; id: string | null } | null;
  changes: unknown;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: string;
};

export type AuthzResult = { allowed: boolean; reason: string };

// Plans, seats and billing (docs/api-billing.md). Money is integer cents; `unit_amount`s are per seat per month.

export type PlanId = "free" | "pro" | "team" | "enterprise";
export type BillingInterval = "month" | "year";
export type Period = { start: string; end: string };

export type Plan = {
  id: PlanId;
  name: string;
  /** Most seats the plan allows; null = no limit. */
  seat_limit: number | null;
  prices: { month: number; year_per_month: number };
  currency: string;
  /** "Save 20%" on annual billing; null when annual saves nothing. */
  annual_saving_percent: number | null;
  /** Enterprise: price and limits are agreed per account. */
  custom: boolean;
};

export type PaymentMethod = {
  id: string;
  type: "card" | "ach";
  brand: string | null;
  bank_name: string | null;
  last4: string;
  exp_month: number | null;
  exp_year: number | null;
  default: boolean;
  provider: string;
};

export type BillingOverview = {
  plan: PlanId;
  interval: BillingInterval | null;
  seats: { used: number; billed: number; limit: number | null };
  unit_price: number;
  current_period: Period | null;
  next_billing_date: string | null;
  estimated_next_amount: number | null;
  /** The subscription ends at the period's end and the account returns to this plan. */
  ends_with: "free" | null;
  credit_balance: number;
  auto_pay: boolean;
  usage: { api_calls: number; storage_bytes: number };
  payment_method: Omit<PaymentMethod, "default"> | null;
};

export type InvoiceLine = {
  kind: "seats" | "proration" | "credit";
  description: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  period: Period | null;
};

export type SubscriptionPreview = {
  effective: "now" | "period_end";
  period: Period;
  lines: InvoiceLine[];
  subtotal: number;
  total: number;
  currency: string;
};

export type InvoiceStatus = "draft" | "open" | "paid" | "void";

export type Invoice = {
  id: string;
  number: string;
  status: InvoiceStatus;
  period: Period;
  subtotal: number;
  total: number;
  currency: string;
  created_at: string;
  paid_at: string | null;
};

export type InvoiceDetail = Invoice & { lines: InvoiceLine[] };

export type SubscriptionChange = { billing: BillingOverview; invoice: InvoiceDetail | null };
