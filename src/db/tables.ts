/**
 * Storage shapes. Timestamps are ISO 8601 UTC strings (same text on SQLite and PostgreSQL, so they
 * compare correctly as strings); booleans are 0/1 integers; documents are JSON text.
 */
export interface UsersTable {
  id: string;
  email: string;
  email_normalized: string;
  email_verified_at: string | null;
  password_hash: string | null;
  password_changed_at: string | null;
  must_change_password: number;
  username: string | null;
  first_name: string;
  last_name: string;
  mobile: string | null;
  timezone: string;
  locale: string;
  avatar_url: string | null;
  preferences: string | null;
  last_login_at: string | null;
  last_login_ip: string | null;
  last_account_id: string | null;
  deactivated_at: string | null;
  mfa_required_since: string | null;
  created_at: string;
  updated_at: string;
}

export interface PasswordHistoryTable {
  id: string;
  user_id: string;
  password_hash: string;
  created_at: string;
}

export interface AccountsTable {
  id: string;
  name: string;
  slug: string;
  settings: string;
  logo_url: string | null;
  industry: string | null;
  contact_email: string | null;
  tax_id: string | null;
  default_role_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface RolesTable {
  id: string;
  account_id: string;
  key: string;
  name: string;
  description: string;
  permissions: string;
  builtin: number;
  created_at: string;
  updated_at: string;
}

export interface MembershipsTable {
  id: string;
  account_id: string;
  user_id: string;
  role_id: string;
  status: string;
  sort_name: string;
  email_normalized: string;
  last_login_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  account_id: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  expires_at: string;
  idle_minutes: number;
  ip: string | null;
  user_agent: string | null;
  password_change_required: number;
  reauth_until: string | null;
  mfa_enrollment_due_at: string | null;
  revoked_at: string | null;
}

export interface EmailTokensTable {
  id: string;
  user_id: string;
  purpose: string;
  token_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface ThrottlesTable {
  key: string;
  failures: number;
  window_started_at: string;
  locked_until: string | null;
  lock_level: number;
  updated_at: string;
}

export interface AuditEventsTable {
  id: string;
  account_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  changes: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: string;
  /** Place in the event's chain (its account's, or the installation's when account_id is null). */
  seq: number;
  prev_hash: string;
  /** SHA-256 hex of prev_hash + the canonical event (src/audit/audit-chain.ts). */
  hash: string;
}

/** Last seq and hash of each audit chain; chain_key is the account id, "" for the installation. */
export interface AuditChainHeadsTable {
  chain_key: string;
  seq: number;
  hash: string;
}

export interface MailOutboxTable {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  created_at: string;
}

export interface SmsOutboxTable {
  id: string;
  to_number: string;
  text_body: string;
  created_at: string;
}

export interface InvitationsTable {
  id: string;
  account_id: string;
  email: string;
  email_normalized: string;
  first_name: string;
  last_name: string;
  role_id: string;
  team_ids: string;
  status: string;
  token_hash: string;
  expires_at: string;
  invited_by: string | null;
  accepted_user_id: string | null;
  send_count: number;
  last_sent_at: string;
  created_at: string;
  updated_at: string;
}

export interface TeamsTable {
  id: string;
  account_id: string;
  name: string;
  name_normalized: string;
  description: string;
  role_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface TeamMembersTable {
  account_id: string;
  team_id: string;
  user_id: string;
  created_at: string;
}

export interface AccountPermissionsTable {
  account_id: string;
  key: string;
  description: string;
  created_at: string;
}

export interface ResourcesTable {
  id: string;
  account_id: string;
  name: string;
  owner_team_id: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface MfaFactorsTable {
  id: string;
  user_id: string;
  type: string;
  label: string;
  secret_enc: string | null;
  last_used_step: number;
  confirmed_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  code_enc: string | null;
  used_at: string | null;
  created_at: string;
}

export interface MfaChallengesTable {
  id: string;
  user_id: string;
  token_hash: string;
  account_id: string | null;
  ip: string | null;
  attempts: number;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface MfaCodesTable {
  id: string;
  user_id: string;
  factor_id: string;
  code_hash: string;
  attempts: number;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface PasskeyCredentialsTable {
  factor_id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number;
  transports: string;
  backed_up: number;
  device_type: string;
  aaguid: string;
  created_at: string;
}

export interface WebauthnChallengesTable {
  id: string;
  purpose: string;
  user_id: string | null;
  session_id: string | null;
  mfa_challenge_id: string | null;
  challenge_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface EmailChangeRequestsTable {
  id: string;
  user_id: string;
  new_email: string;
  token_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface UserDevicesTable {
  id: string;
  user_id: string;
  device_hash: string;
  user_agent: string | null;
  ip: string | null;
  created_at: string;
  last_seen_at: string;
}

export interface SubscriptionsTable {
  account_id: string;
  plan: string;
  interval: string;
  unit_price: number;
  seat_limit: number | null;
  anchor_day: number;
  period_start: string;
  period_end: string;
  billed_seats: number;
  ends_with: string | null;
  credit_balance: number;
  auto_pay: number;
  created_at: string;
  updated_at: string;
}

export interface InvoicesTable {
  id: string;
  account_id: string;
  number: string;
  status: string;
  period_start: string;
  period_end: string;
  subtotal: number;
  total: number;
  currency: string;
  payment_attempts: number;
  next_payment_at: string | null;
  last_payment_error: string | null;
  paid_at: string | null;
  voided_at: string | null;
  created_at: string;
}

export interface InvoiceLinesTable {
  id: string;
  invoice_id: string;
  position: number;
  kind: string;
  description: string;
  quantity: number;
  unit_amount: number;
  amount: number;
  period_start: string;
  period_end: string;
}

export interface PaymentMethodsTable {
  id: string;
  account_id: string;
  type: string;
  provider: string;
  provider_ref: string;
  brand: string | null;
  bank_name: string | null;
  last4: string;
  exp_month: number | null;
  exp_year: number | null;
  is_default: number;
  created_at: string;
}

export interface UsageCountersTable {
  account_id: string;
  month: string;
  api_calls: number;
  storage_bytes: number;
}

export interface Database {
  users: UsersTable;
  password_history: PasswordHistoryTable;
  accounts: AccountsTable;
  roles: RolesTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  email_tokens: EmailTokensTable;
  throttles: ThrottlesTable;
  audit_events: AuditEventsTable;
  audit_chain_heads: AuditChainHeadsTable;
  mail_outbox: MailOutboxTable;
  sms_outbox: SmsOutboxTable;
  invitations: InvitationsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  account_permissions: AccountPermissionsTable;
  resources: ResourcesTable;
  mfa_factors: MfaFactorsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  mfa_codes: MfaCodesTable;
  passkey_credentials: PasskeyCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  email_change_requests: EmailChangeRequestsTable;
  user_devices: UserDevicesTable;
  subscriptions: SubscriptionsTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  payment_methods: PaymentMethodsTable;
  usage_counters: UsageCountersTable;
}
