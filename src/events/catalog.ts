/**
 * Every event Gatehouse announces (`GET /api/v1/event-types`). `data` is the resource as the API shows
 * it; the examples are what a receiver sees, with the same keys as the real data (event-emission.test.ts
 * checks that). `category` is the notification category the event falls in
 * (src/notifications), or null when it is for machines only (webhooks).
 */
export type EventCategory = "security" | "members" | "billing" | "account";

type EventTypeSpec = {
  description: string;
  category: EventCategory | null;
  example: Record<string, unknown>;
};

const userId = "usr_8Hn2kQx0PzV4bT6cLm9dWe";
const monitor = { id: "role_Qw3eR5tY7uI9oP1aS2dFgH", key: "monitor", name: "Monitor" };
/** A member as `GET …/members/{user_id}` shows them. */
const member = {
  user_id: "usr_3xJk9q2cVt0bX7YhZp1wQa",
  email: "ada@example.com",
  first_name: "Ada",
  last_name: "Lovelace",
  status: "active",
  role: { id: "role_Lp2mX8kQ4zV6bN0cT1hJdR", key: "developer", name: "Developer" },
  team_ids: ["team_Zc7kP1qW9xB3vN5mL2jHfE"],
  last_login_at: "2026-11-30T09:20:02.310Z",
  joined_at: "2026-11-30T09:12:44.120Z",
  mfa_enabled: false,
  avatar_url: null,
  avatar_thumb_url: null,
};
/** An invitation as `GET …/invitations` shows it. */
const invitation = {
  id: "inv_Qm4pZ8rT2vX6nB0cK1hJdA",
  email: "grace@example.com",
  first_name: "Grace",
  last_name: "",
  role: monitor,
  role_id: monitor.id,
  team_ids: [],
  status: "pending",
  expires_at: "2026-12-07T09:12:44.120Z",
  invited_by: { user_id: userId, name: "Root Person" },
  created_at: "2026-11-30T09:12:44.120Z",
  last_sent_at: "2026-11-30T09:12:44.120Z",
  send_count: 1,
};
const team = {
  id: "team_Zc7kP1qW9xB3vN5mL2jHfE",
  name: "Platform",
  description: "Runs the platform",
  role: null,
  member_ids: ["usr_3xJk9q2cVt0bX7YhZp1wQa", "usr_5tGh7jKl9zXc1vBn3mQwEr"],
  resource_count: 0,
  created_at: "2026-11-30T09:12:44.120Z",
  updated_at: "2026-11-30T09:40:10.002Z",
};
const role = {
  id: "role_Vb6nM2kQ8pX4zT0cL1hJdW",
  key: "support_lead",
  name: "Support lead",
  description: "Reads members, resets MFA",
  permissions: ["members:read", "security:manage"],
  builtin: false,
  member_count: 2,
  created_at: "2026-11-30T09:12:44.120Z",
  updated_at: "2026-11-30T09:12:44.120Z",
};
/** An invoice as `GET …/invoices` shows it (without its lines). */
const invoice = {
  id: "in_Vb6nM2kQ8pX4zT0cL1hJdW",
  number: "ACME-0042",
  status: "open",
  period: { start: "2026-12-01T00:00:00.000Z", end: "2027-01-01T00:00:00.000Z" },
  subtotal: 5700,
  total: 5700,
  currency: "USD",
  created_at: "2026-12-01T00:00:02.511Z",
  paid_at: null,
  payment_attempts: 0,
  next_payment_at: null,
  last_payment_error: null,
  bill_to: { legal_name: "Acme Incorporated", address: null, tax_id: null },
};
/** An API key as `GET …/api-keys/{key_id}` shows it: never its secret. */
const apiKey = {
  id: "key_Tn4bX8qK2mZ6vP0cL1hJdS",
  name: "CI deploys",
  prefix: "gh_…1a2b",
  scopes: ["members:read"],
  effective_scopes: ["members:read"],
  allowed_ips: [],
  created_by: userId,
  created_at: "2026-11-30T09:12:44.120Z",
  updated_at: "2026-11-30T09:12:44.120Z",
  expires_at: null,
  last_used_at: null,
  last_used_ip: null,
  previous_secret_expires_at: null,
};

/** A custom domain as `GET …/domains/{domain_id}` shows it. */
const domain = {
  id: "dom_Tz4kQ8pX2vN6bM0cL1hJdS",
  hostname: "login.acme.example",
  status: "verified",
  txt_record: {
    name: "_gatehouse.login.acme.example",
    value: "gatehouse-verification=Yk2pQ9xV4bN7cM1zT6hJdRwE",
  },
  cname_target: "gatehouse.example.com",
  verified_at: "2026-11-30T09:20:02.310Z",
  last_checked_at: "2026-11-30T09:20:02.310Z",
  failure_reason: null,
  created_at: "2026-11-30T09:12:44.120Z",
};

export const EVENT_TYPES = {
  "member.invited": {
    description: "An invitation to join the account was sent (one event per address of a bulk invite)",
    category: "members",
    example: invitation,
  },
  "member.joined": {
    description:
      "Someone accepted an invitation and is now a member (the account's creator is not announced)",
    category: "members",
    example: { ...member, team_ids: [], last_login_at: null },
  },
  "member.role_changed": {
    description: "A member's role changed; `previous_role` is the role they had",
    category: "members",
    example: {
      ...member,
      role: { id: "role_Hk3nP9qZ1xV5bM7cT2jLdF", key: "admin", name: "Admin" },
      previous_role: member.role,
    },
  },
  "member.suspended": {
    description: "A member was suspended: they cannot use the account until reactivated",
    category: "members",
    example: { ...member, status: "suspended" },
  },
  "member.reactivated": {
    description: "A suspended member can use the account again",
    category: "members",
    example: member,
  },
  "member.removed": {
    description:
      "A member was removed from the account (one event per member of a bulk removal); the member as they were just before. Their API keys went with them (`api_key.revoked`)",
    category: "members",
    example: member,
  },
  "invitation.revoked": {
    description: "A pending invitation was revoked before it was accepted",
    category: "members",
    example: { ...invitation, status: "revoked" },
  },
  "team.created": { description: "A team was created", category: null, example: { ...team, member_ids: [] } },
  "team.updated": {
    description:
      "A team's name, description, role or members changed (also when a deleted team's members moved in)",
    category: null,
    example: team,
  },
  "team.deleted": {
    description: "A team was deleted; the team as it was just before",
    category: null,
    example: team,
  },
  "role.created": {
    description: "A custom role was created",
    category: null,
    example: { ...role, member_count: 0 },
  },
  "role.updated": {
    description: "A role's name, description or permissions changed",
    category: null,
    example: role,
  },
  "role.deleted": {
    description: "A custom role was deleted; the role as it was just before (its members moved to `move_to`)",
    category: null,
    example: role,
  },
  "subscription.changed": {
    description:
      "The plan, billing interval or billed seats changed, or the subscription was cancelled (or the cancellation undone). `data` is the billing overview after the change; `change` says what happened; `previous` is the plan, interval and billed seats before",
    category: "billing",
    example: {
      plan: "pro",
      plan_name: "Pro",
      interval: "month",
      seats: { used: 3, billed: 3, limit: null },
      unit_price: 1900,
      monthly_equivalent: 5700,
      current_period: { start: "2026-12-01T00:00:00.000Z", end: "2027-01-01T00:00:00.000Z" },
      next_billing_date: "2027-01-01T00:00:00.000Z",
      estimated_next_amount: 5700,
      ends_with: null,
      credit_balance: 0,
      auto_pay: true,
      currency: "USD",
      usage: { api_calls: 1204, storage_bytes: 0 },
      limits: { api_rate_per_minute: 600, api_keys: 25, webhooks: 10 },
      payment_method: {
        id: "pm_Rt5yU7iO9pA1sD3fG5hJkL",
        type: "card",
        brand: "Visa",
        bank_name: null,
        last4: "4242",
        exp_month: 12,
        exp_year: 2030,
        default: true,
        provider: "offline",
        provider_label: "Offline test provider (no real charges)",
        created_at: "2026-11-30T09:12:44.120Z",
      },
      change: "plan_changed",
      previous: { plan: "free", interval: null, billed_seats: 0 },
    },
  },
  "invoice.created": {
    description: "An invoice was issued (plan change, seats added, renewal)",
    category: "billing",
    example: invoice,
  },
  "invoice.paid": {
    description: "An invoice was paid in full (also one that credit covered as it was issued)",
    category: "billing",
    example: { ...invoice, status: "paid", paid_at: "2026-12-01T00:00:03.120Z", payment_attempts: 1 },
  },
  "payment.failed": {
    description:
      "Charging the payment method for an invoice failed; the invoice with `last_payment_error`, and `next_payment_at` when it is retried (null: no more automatic attempts)",
    category: "billing",
    example: {
      ...invoice,
      payment_attempts: 1,
      next_payment_at: "2026-12-02T00:00:03.120Z",
      last_payment_error: "The card was declined",
    },
  },
  "api_key.created": { description: "An API key was created", category: "security", example: apiKey },
  "api_key.revoked": {
    description: "An API key was revoked, or went with the member who created it; the key as it was",
    category: "security",
    example: apiKey,
  },
  "security.mfa_enabled": {
    description:
      "A member turned on two-factor authentication (their first factor; `method` is its kind). A login is shared: one event per account the person is an active member of",
    category: "security",
    example: { ...member, mfa_enabled: true, method: "totp" },
  },
  "security.mfa_disabled": {
    description:
      "A member's last second factor was removed, by them (`disabled_by: user`) or by an admin's reset (`admin`); one event per account the person is an active member of",
    category: "security",
    example: { ...member, disabled_by: "user" },
  },
  "security.policy_changed": {
    description:
      "The account's security settings changed (password policy, sessions, MFA requirement, IP allowlist); the settings after, and `changed` as `section.field`",
    category: "security",
    example: {
      password_policy: {
        min_length: 12,
        require_upper: false,
        require_lower: false,
        require_digit: false,
        require_special: false,
        history: 5,
        expiry_days: null,
        min_strength: 3,
      },
      session: { idle_minutes: 60, absolute_hours: 24 },
      mfa: { required_role_ids: [monitor.id], allowed_methods: ["totp", "passkey"], grace_days: 7 },
      ip_allowlist: [],
      changed: ["session.idle_minutes", "mfa.required_role_ids"],
    },
  },
  "account.updated": {
    description:
      "The account's profile changed (name, logo, organization details, default role); `changed` lists the fields",
    category: "account",
    example: {
      id: "acct_Hk3nP9qZ1xV5bM7cT2jLdF",
      name: "Acme Inc.",
      slug: "acme",
      logo_url: null,
      logo_thumb_url: null,
      legal_name: "Acme Incorporated",
      website: "https://acme.example",
      industry: "software",
      industry_other: null,
      phone: "+14155550100",
      address: {
        line1: "1 Market Street",
        line2: null,
        city: "San Francisco",
        region: "CA",
        postal_code: "94105",
        country: "US",
      },
      contact_email: "billing@acme.example",
      billing_email: "billing@acme.example",
      tax_id: null,
      certifications: ["soc2"],
      default_role_id: null,
      created_at: "2026-11-30T09:12:44.120Z",
      updated_at: "2026-11-30T10:02:17.440Z",
      changed: ["name", "contact_email"],
    },
  },
  "domain.verified": {
    description:
      "A custom domain's DNS records were found right: the account's login and app are served on it from now on",
    category: null,
    example: domain,
  },
  "domain.failed": {
    description:
      "A verified custom domain's records broke (the daily check or a new verification), or the plan no longer includes custom domains: it is no longer served; `failure_reason` says why",
    category: null,
    example: {
      ...domain,
      status: "failed",
      last_checked_at: "2026-12-01T09:20:05.112Z",
      failure_reason: "TXT record _gatehouse.login.acme.example not found",
    },
  },
  "branding.updated": {
    description:
      "The account's branding changed (colour, log-in message, support links, mail wording); `changed` lists the fields",
    category: "account",
    example: {
      account_id: "acct_Hk3nP9qZ1xV5bM7cT2jLdF",
      primary_color: "#2563eb",
      primary_text_color: "#ffffff",
      logo_url: null,
      login_message: "Welcome to Acme. Use your work email.",
      support_url: "https://help.acme.example",
      support_email: "it@acme.example",
      privacy_url: null,
      terms_url: null,
      email_templates: {
        invitation: { subject: "{{inviter_name}} invites you to Acme", intro: null },
        welcome: { subject: null, intro: null },
      },
      changed: ["primary_color", "email_templates.invitation.subject"],
    },
  },
} as const satisfies Record<string, EventTypeSpec>;

export type EventType = keyof typeof EVENT_TYPES;

/** Sent by `POST …/webhooks/{id}/test`; not in the catalog (no subscription can select it). */
export const TEST_EVENT_TYPE = "webhook.test";

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(EVENT_TYPES, type);
}

export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventType[];
