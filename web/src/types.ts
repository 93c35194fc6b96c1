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
  /** The mobile number answered a texted code (needed for SMS notifications). */
  mobile_verified?: boolean;
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
  /** The active account is scheduled for deletion at this time (ISO); null when it is not. */
  account_closure_delete_at?: string | null;
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
  /** The lowest zxcvbn score (0–4) accepted; 0 = not checked. */
  min_strength: number;
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

export const LIST_STATUSES = ["all", "active", "suspended", "deactivated", "pending"] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export type Preferences = {
  theme: Theme;
  animations: boolean;
  default_date_range: DateRange;
  default_chart_metric: ChartMetric;
  default_list_filters: { status: ListStatus; page_size: PageSize };
  default_audit_filter: { category: "all" | AuditCategory; range: AuditFilterRange };
  default_invoices_filter: { status: InvoiceFilterStatus };
};

export const DEFAULT_PREFERENCES: Preferences = {
  theme: "system",
  animations: true,
  default_date_range: "last_30_days",
  default_chart_metric: "active_users",
  default_list_filters: { status: "all", page_size: 50 },
  default_audit_filter: { category: "all", range: "all_time" },
  default_invoices_filter: { status: "all" },
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

export type PostalAddress = {
  line1: string | null;
  line2: string | null;
  city: string | null;
  region: string | null;
  postal_code: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string | null;
};

/** `GET /accounts/{id}`: the organization profile. `logo_url` is set by uploading a logo only. */
export type Account = {
  id: string;
  name: string;
  slug: string;
  logo_url: string | null;
  legal_name?: string | null;
  website?: string | null;
  /** One of `INDUSTRIES` (organization.ts); `other` with `industry_other` saying what. */
  industry: string | null;
  industry_other?: string | null;
  /** E.164. */
  phone?: string | null;
  address?: PostalAddress | null;
  contact_email: string | null;
  billing_email?: string | null;
  tax_id: string | null;
  certifications?: string[];
  default_role_id: string | null;
  created_at: string;
  updated_at: string;
};

export type EmailTemplateOverride = { subject: string | null; intro: string | null };

/** `GET/PATCH /accounts/{id}/branding`; each null = Gatehouse's default. */
export type Branding = {
  primary_color: string | null;
  /** Chosen by the server for `primary_color` (read-only). */
  primary_text_color: "#000000" | "#ffffff" | null;
  logo_url: string | null;
  login_message: string | null;
  support_url: string | null;
  support_email: string | null;
  privacy_url: string | null;
  terms_url: string | null;
  email_templates: { invitation: EmailTemplateOverride; welcome: EmailTemplateOverride };
  /** The `{{variables}}` each template's overrides may use, when the server lists them. */
  template_variables?: { invitation: string[]; welcome: string[] };
};

/** `POST …/branding/preview`: a mail rendered with sample values. */
export type MailPreview = { subject: string; html: string; text: string };

/** `GET /branding?account=<slug>` (no authentication): what the login page shows. */
export type PublicBranding = {
  branded: boolean;
  account_name: string | null;
  logo_url: string | null;
  primary_color: string | null;
  primary_text_color: string | null;
  login_message: string | null;
  support_url: string | null;
  support_email: string | null;
  privacy_url: string | null;
  terms_url: string | null;
  /** False on a custom domain where passkeys are not offered: the passkey button hides. */
  passkeys: boolean;
};

export const DOMAIN_STATUSES = ["pending", "verified", "failed"] as const;
export type DomainStatus = (typeof DOMAIN_STATUSES)[number];

/** `…/domains`: a custom domain and the DNS records that prove it. */
export type CustomDomain = {
  id: string;
  hostname: string;
  status: DomainStatus;
  txt_record: { name: string; value: string };
  cname_target: string;
  verified_at: string | null;
  last_checked_at: string | null;
  failure_reason: string | null;
  created_at?: string;
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
    | "min_strength"
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

/** `deactivated`: the member turned their own login off (only they can turn it back on). */
export const MEMBER_STATUSES = ["active", "suspended", "deactivated", "pending"] as const;
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
  /** A confirmed second factor on their login (false for pending invitations). */
  mfa_enabled: boolean;
  invitation_id?: string | null;
  /** Their profile picture (`/files/…`), or null: initials then. */
  avatar_url?: string | null;
};

/** Members by status (`active`: active members only, as in `GET …/seats`) and open invitations. */
export type MemberCounts = { active: number; suspended: number; deactivated: number; pending: number };

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

/** `POST …/invitations` with `preview: true`: what accepting each address would charge now. */
export type SeatCost = { amount: number; currency: string; lines: InvoiceLine[] };
export type InvitePreview = { email: string; preview?: SeatCost; error?: ItemError };

export type BulkDeleteResult = { user_id: string; removed?: true; error?: ItemError };

export type InvitationLookup = {
  email: string;
  account_name: string;
  invited_by_name: string | null;
  role_name: string | null;
  existing_user: boolean;
  expires_at: string;
  /** The inviting account's password policy, which a new user's password must meet. */
  password_policy: PasswordPolicy;
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
  /** Resources the team owns: deleting it asks where they go only when there are any. */
  resource_count: number;
  created_at: string;
  updated_at: string;
};

export type AuditEvent = {
  id: string;
  action: string;
  actor: {
    type: string;
    id: string | null;
    email: string | null;
    user_id?: string | null;
    /** The person's name (or email), or the API key's name; null when the account no longer names them. */
    name?: string | null;
    avatar_url?: string | null;
  } | null;
  target: { type: string; id: string | null; name?: string | null } | null;
  changes: unknown;
  /** The fields of `changes` holding ids or role keys, with names instead. */
  change_names?: Record<string, unknown> | null;
  category?: AuditCategory;
  ip: string | null;
  user_agent: string | null;
  /** The user agent read for people: "Chrome on macOS". */
  device?: string | null;
  request_id: string | null;
  created_at: string;
};

/** The audit log's action categories (the server sorts actions into them: src/audit/audit-categories.ts). */
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
export const AUDIT_FILTER_RANGES = [
  "all_time",
  "today",
  "last_7_days",
  "last_30_days",
  "last_90_days",
] as const;
export type AuditFilterRange = (typeof AUDIT_FILTER_RANGES)[number];
export const INVOICE_FILTER_STATUSES = ["all", "open", "paid", "failed", "void"] as const;
export type InvoiceFilterStatus = (typeof INVOICE_FILTER_STATUSES)[number];

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
  /** `api_calls`: requests made with the account's API keys this calendar month. */
  usage: { api_calls: number; storage_bytes: number };
  /** The plan's API limits (null = no limit); absent from servers that predate them. */
  limits?: { api_rate_per_minute: number | null; api_keys: number | null; webhooks?: number | null };
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

// API keys (docs/api-keys.md).

export type ApiKey = {
  id: string;
  name: string;
  /** `gh_…` and the secret's last four characters. */
  prefix: string;
  scopes: string[];
  /** Its scopes its creator still holds: what it may do now. */
  effective_scopes: string[];
  /** IPs and CIDR ranges it may be used from; empty = anywhere the account allows. */
  allowed_ips: string[];
  /** The user id of the member it acts for. */
  created_by: string;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  /** Until when the secret replaced by the last rotation still works. */
  previous_secret_expires_at: string | null;
};

/** Creation and rotation answer with the secret, shown this once. */
export type ApiKeyWithSecret = ApiKey & { secret: string };

/** `GET …/api-keys/{id}/usage`: one row per day (`YYYY-MM-DD`), zero-filled. */
export type ApiKeyUsageDay = {
  date: string;
  requests: number;
  status_2xx: number;
  status_4xx: number;
  status_5xx: number;
};

/** `GET …/api-keys/{id}/logs`: newest first. */
export type ApiKeyLogEntry = {
  at: string;
  method: string;
  route: string;
  status: number;
  ip: string | null;
  duration_ms: number;
};

// Events, webhooks, notifications (issue 13)

export type EventType = {
  type: string;
  description: string;
  category?: string;
  example: unknown;
};

export type Webhook = {
  id: string;
  url: string;
  /** Event types, or `["*"]` for every event. */
  events: string[];
  enabled: boolean;
  description: string | null;
  created_at: string;
};

export type WebhookWithSecret = Webhook & { secret: string };

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type WebhookDelivery = {
  id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  attempts: number;
  response_status: number | null;
  response_body?: string | null;
  duration_ms?: number | null;
  next_attempt_at: string | null;
  created_at: string;
};

export const NOTIFICATION_CHANNELS = ["email", "in_app", "sms"] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export type NotificationCategory = {
  key: string;
  channels: Record<NotificationChannel, boolean>;
  locked: NotificationChannel[];
};

export type NotificationPreferences = { categories: NotificationCategory[] };

export type AppNotification = {
  id: string;
  type: string;
  title: string;
  body: string;
  link: string | null;
  read_at: string | null;
  created_at: string;
};

export type NotificationsPage = Page<AppNotification> & { unread_count: number };
