import type { ColumnType } from "kysely";

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
  /** Storage keys of the uploaded avatar (256 px) and its 64 px copy (migration 0022). */
  avatar_key: string | null;
  avatar_small_key: string | null;
  preferences: string | null;
  last_login_at: string | null;
  last_login_ip: string | null;
  last_account_id: string | null;
  deactivated_at: string | null;
  mfa_required_since: string | null;
  /** When the `mobile` number was proven by a texted code (migration 0021); null when unproven. */
  mobile_verified_at: string | null;
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
  industry: string | null;
  contact_email: string | null;
  tax_id: string | null;
  default_role_id: string | null;
  /** Organization profile (migration 0022). `address` is JSON text; `certifications` a JSON list. */
  legal_name: string | null;
  website: string | null;
  industry_other: string | null;
  phone: string | null;
  address: string | null;
  billing_email: string | null;
  /** Defaults to "[]" (also for rows inserted by code older than the column). */
  certifications: ColumnType<string, string | undefined, string>;
  /** Storage keys of the uploaded logo (512 px) and its 128 px copy. */
  logo_key: string | null;
  logo_small_key: string | null;
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
  /** The member an API key acted for (actor_type "api_key"); null for every other actor. */
  actor_user_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  changes: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: string;
  /** JSON: personal data the event mentions (emails, names), outside the hash; erased by retention. */
  personal: ColumnType<string | null, string | null | undefined, string | null>;
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

export interface JobsTable {
  name: string;
  interval_seconds: number;
  next_run_at: string;
  last_started_at: string | null;
  last_finished_at: string | null;
  last_status: "ok" | "failed" | null;
  last_error: string | null;
  last_result: string | null;
  consecutive_failures: number;
  locked_by: string | null;
  locked_until: string | null;
}

export interface MailQueueTable {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: "queued" | "sending" | "sent" | "failed";
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
  /** JSON object of extra headers (List-Unsubscribe…), or null. */
  headers: string | null;
}

export interface PasswordResetRequestsTable {
  id: string;
  email: string;
  actor: string;
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
  /** "Firefox on macOS" (see deviceFamily) */
  family: string | null;
  /** The /24 or /48 the device signed in from last (see networkOf) */
  network: string | null;
  /** When a "New sign-in" mail went out for this device */
  announced_at: string | null;
  created_at: string;
  last_seen_at: string;
}

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  description: string;
  events: string;
  enabled: number;
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: string | null;
  failing_since: string | null;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: "pending" | "sending" | "succeeded" | "failed";
  attempts: number;
  next_attempt_at: string;
  last_attempt_at: string | null;
  response_status: number | null;
  response_body: string | null;
  duration_ms: number | null;
  error: string | null;
  created_at: string;
}

export interface WebhookDeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  account_id: string;
  attempted_at: string;
  response_status: number | null;
  response_body: string | null;
  duration_ms: number;
  error: string | null;
}

export interface SubscriptionsTable {
  account_id: string;
  plan: string;
  interval: string;
  unit_price: number;
  seat_limit: number | null;
  /** Enterprise: the operator's API rate per key per minute; null = the plan's. */
  api_rate_per_minute: number | null;
  /** Enterprise: the operator's limit of unrevoked API keys; null = the plan's. */
  api_keys_limit: number | null;
  /** Enterprise: the operator's limit of webhook endpoints; null = the plan's. */
  webhooks_limit: number | null;
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
  /** JSON `{legal_name, address, tax_id}` as it was when the invoice was issued (migration 0022). */
  bill_to: string | null;
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

export interface ApiKeysTable {
  id: string;
  account_id: string;
  created_by: string;
  name: string;
  prefix: string;
  secret_hash: string;
  previous_secret_hash: string | null;
  previous_expires_at: string | null;
  /** JSON array of permission keys. */
  scopes: string;
  /** JSON array of normalized IPs and CIDRs; empty = no restriction beyond the account's allowlist. */
  allowed_ips: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApiKeyUsageDaysTable {
  account_id: string;
  key_id: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  status_2xx: number;
  status_4xx: number;
  status_5xx: number;
}

export interface ApiKeyRequestLogsTable {
  id: string;
  account_id: string;
  key_id: string;
  at: string;
  method: string;
  /** The route pattern, never the concrete path or its query string. */
  route: string;
  status: number;
  ip: string | null;
  duration_ms: number;
}

/** Requests of one API key in one fixed minute (PostgreSQL's rate-limit store without Redis). */
export interface ApiRateWindowsTable {
  key_id: string;
  /** Minutes since the Unix epoch: the window's start. */
  minute: number;
  count: number;
}

/** The event stream (migration 0018): one row per meaningful change, fanned out once. */
export interface EventsTable {
  id: string;
  account_id: string;
  type: string;
  occurred_at: string;
  /** JSON: the resource as the API shows it. */
  data: string;
  actor_type: "user" | "api_key" | "system";
  actor_id: string | null;
  fanned_out_at: string | null;
}

/** In-app notifications (migration 0021): one row per recipient. */
export interface NotificationsTable {
  id: string;
  user_id: string;
  account_id: string | null;
  event_id: string | null;
  type: string;
  title: string;
  body: string;
  link: string | null;
  read_at: string | null;
  created_at: string;
}

/** A person's notification choices that differ from the defaults (booleans 0/1). */
export interface NotificationPreferencesTable {
  user_id: string;
  category: string;
  email: number;
  in_app: number;
  sms: number;
  updated_at: string;
}

/** Codes texted to prove the profile's mobile number. */
export interface MobileCodesTable {
  id: string;
  user_id: string;
  mobile: string;
  code_hash: string;
  attempts: number;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

/** Custom domains of accounts (migration 0024); a host name is verified by at most one account. */
export interface AccountDomainsTable {
  id: string;
  account_id: string;
  hostname: string;
  verification_token: string;
  status: "pending" | "verified" | "failed";
  verified_at: string | null;
  last_checked_at: string | null;
  failure_reason: string | null;
  created_at: string;
}

/** An account's branding (migration 0023); null fields are the defaults. */
export interface AccountBrandingTable {
  account_id: string;
  primary_color: string | null;
  login_message: string | null;
  support_url: string | null;
  support_email: string | null;
  privacy_url: string | null;
  terms_url: string | null;
  invitation_subject: string | null;
  invitation_intro: string | null;
  welcome_subject: string | null;
  welcome_intro: string | null;
  updated_at: string;
}

/** Every file in storage with whose it is and its size (migration 0022). */
export interface StoredFilesTable {
  key: string;
  /** The account whose storage it counts toward; null for a person's own files (avatars). */
  account_id: string | null;
  /** The person whose own file it is (avatars); null for account files. */
  user_id: string | null;
  kind: string;
  content_type: string;
  bytes: number;
  created_at: string;
}

/** Data exports (migration 0025): one row per requested file; `file_key` null once purged. */
export interface ExportsTable {
  id: string;
  account_id: string;
  type: string;
  format: string;
  date_from: string | null;
  date_to: string | null;
  filters: string;
  status: "queued" | "running" | "succeeded" | "failed";
  requested_by: string;
  requested_by_key: string | null;
  schedule_id: string | null;
  rows_total: ColumnType<number, number | undefined, number>;
  rows_done: ColumnType<number, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  file_key: string | null;
  file_bytes: number | null;
  error: string | null;
  heartbeat_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  file_deleted_at: string | null;
  created_at: string;
}

/** Scheduled exports (migration 0025); `recipients` is a JSON list of user ids, `paused` 0/1. */
export interface ExportSchedulesTable {
  id: string;
  account_id: string;
  type: string;
  format: string;
  filters: string;
  frequency: "daily" | "weekly" | "monthly";
  recipients: string;
  paused: number;
  next_run_at: string;
  last_run_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** An account's retention choices (migration 0026); null counts are the defaults. */
export interface AccountRetentionTable {
  account_id: string;
  audit_log_days: number | null;
  audit_log_forever: number;
  export_files_days: number | null;
  deleted_member_days: number | null;
  updated_at: string;
}

/** The retention limit in force per account and setting, and since when (src/retention). */
export interface RetentionLimitsTable {
  account_id: string;
  setting: string;
  days: number | null;
  since: string;
  grace_until: string;
  days_before: number | null;
}

/** Where an account's audit chain starts after a purge (signed with a key from SECRET_KEY). */
export interface AuditCheckpointsTable {
  account_id: string;
  seq: number;
  event_id: string;
  hash: string;
  purged_count: number;
  created_at: string;
  mac: string;
}

/** People who left an account; their personal data there is anonymised later. */
export interface RetentionDeparturesTable {
  account_id: string;
  user_id: string;
  left_at: string;
  anonymised_at: string | null;
}

/** A scheduled account closure (migration 0027); the account is deleted at `delete_at`. */
export interface AccountClosuresTable {
  account_id: string;
  requested_by: string;
  requested_at: string;
  delete_at: string;
  subscription_canceled: number;
}

/** The mailed links that cancel a closure (hashes only); deleted with the closure. */
export interface AccountClosureTokensTable {
  id: string;
  account_id: string;
  user_id: string;
  token_hash: string;
  expires_at: string;
  created_at: string;
}

/** Invoices of deleted accounts, kept for 7 years without an account reference (migration 0027). */
export interface RetainedInvoicesTable {
  id: string;
  number: string;
  status: string;
  issued_at: string;
  period_start: string;
  period_end: string;
  subtotal: number;
  total: number;
  currency: string;
  paid_at: string | null;
  legal_name: string;
  /** JSON address, or null. */
  address: string | null;
  tax_id: string | null;
  /** JSON array of `{description, quantity, unit_amount, amount, period_start, period_end}`. */
  lines: string;
  retained_at: string;
  purge_after: string;
}

export interface OidcClientsTable {
  client_id: string;
  name: string;
  secret_sealed: string | null;
  party: "first" | "third";
  /** JSON arrays */
  redirect_uris: string;
  post_logout_redirect_uris: string;
  grant_types: string;
  scopes: string;
  backchannel_logout_uri: string | null;
  logo_uri: string | null;
  source: "cli" | "file";
  created_at: string;
  updated_at: string;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  private_jwk_sealed: string;
  created_at: string;
  retired_at: string | null;
  expires_at: string | null;
}

export interface OidcPayloadsTable {
  kind: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: string | null;
  consumed_at: string | null;
}

export interface OidcAuthorizationsTable {
  grant_id: string;
  client_id: string;
  user_id: string;
  account_id: string | null;
  session_id: string | null;
  sid: string | null;
  scopes: string;
  created_at: string;
  updated_at: string;
}

export interface Database {
  oidc_clients: OidcClientsTable;
  oidc_signing_keys: OidcSigningKeysTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_authorizations: OidcAuthorizationsTable;
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
  jobs: JobsTable;
  mail_queue: MailQueueTable;
  password_reset_requests: PasswordResetRequestsTable;
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
  api_keys: ApiKeysTable;
  api_key_usage_days: ApiKeyUsageDaysTable;
  api_key_request_logs: ApiKeyRequestLogsTable;
  api_rate_windows: ApiRateWindowsTable;
  events: EventsTable;
  notifications: NotificationsTable;
  notification_preferences: NotificationPreferencesTable;
  mobile_codes: MobileCodesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  account_domains: AccountDomainsTable;
  account_branding: AccountBrandingTable;
  stored_files: StoredFilesTable;
  exports: ExportsTable;
  export_schedules: ExportSchedulesTable;
  account_retention: AccountRetentionTable;
  retention_limits: RetentionLimitsTable;
  audit_checkpoints: AuditCheckpointsTable;
  retention_departures: RetentionDeparturesTable;
  account_closures: AccountClosuresTable;
  account_closure_tokens: AccountClosureTokensTable;
  retained_invoices: RetainedInvoicesTable;
}
