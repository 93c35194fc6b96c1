// The audit log read as sentences: "Dana Scully changed Alice Nguyen's role from Developer to Admin".
// Plain functions over the API's event, so test/web checks every action the server records.

import type { AuditCategory, AuditEvent } from "./types.js";

export const AUDIT_CATEGORY_LABELS: Record<AuditCategory, string> = {
  members: "Members",
  invitations: "Invitations",
  roles_teams: "Roles & teams",
  security: "Security & sign-in",
  api_keys_webhooks: "API keys & webhooks",
  billing: "Billing",
  account_data: "Account & data",
};

type Changes = Record<string, unknown>;

const asChanges = (value: unknown): Changes =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Changes) : {};

/** Who acted, for people: the name, else the email, else what kind of actor it was. */
export function actorLabel(event: AuditEvent): string {
  const actor = event.actor;
  if (!actor || actor.type === "system") return "Gatehouse";
  if (actor.type === "api_key") return actor.name ? `API key “${actor.name}”` : "An API key";
  if (actor.name) return actor.name;
  if (actor.email) return actor.email;
  return actor.id ? "A former member" : "Someone";
}

/** What the event is about, by name when the API or the event's own changes give one. */
export function targetLabel(event: AuditEvent, fallback = "someone"): string {
  const changes = asChanges(event.changes);
  const name =
    event.target?.name ??
    text(changes.email) ??
    text(changes.hostname) ??
    text(changes.url) ??
    (event.target?.type === "api_key" || event.target?.type === "team" || event.target?.type === "role"
      ? text(changes.name)
      : null);
  return name ?? fallback;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** "Alice Nguyen" → "Alice Nguyen's"; "Chris" → "Chris's" (the plain form reads fine for names in s). */
export function possessive(name: string): string {
  return `${name}'s`;
}

/** A role key as a person reads it when the API gave no name: "billing_admin" → "Billing admin". */
export function humanize(value: string): string {
  const words = value.replace(/[._]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function listOf(items: string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Names of a list field (`change_names` first, then the raw values), e.g. a team's added members. */
function namesIn(event: AuditEvent, field: string): string[] {
  const raw = asChanges(event.changes)[field];
  const named = event.change_names?.[field];
  if (!Array.isArray(raw)) return [];
  return raw.map((value, index) => {
    const name = Array.isArray(named) ? named[index] : null;
    return typeof name === "string" ? name : String(value);
  });
}

/** A role (or other id/key) field, by the name the API resolved, else made readable. */
function nameIn(event: AuditEvent, field: string): string | null {
  const named = event.change_names?.[field];
  if (typeof named === "string") return named;
  const raw = asChanges(event.changes)[field];
  return typeof raw === "string" ? humanize(raw) : null;
}

function fieldsChanged(event: AuditEvent): string {
  const keys = Object.keys(asChanges(event.changes)).map((key) => humanize(key).toLowerCase());
  return keys.length > 0 ? ` (${listOf(keys)})` : "";
}

type Sentence = (a: string, e: AuditEvent) => string;

const t = (e: AuditEvent, fallback?: string) => targetLabel(e, fallback);

const SENTENCES: Record<string, Sentence> = {
  // Members
  "member.role_changed": (a, e) => {
    const from = nameIn(e, "from");
    const to = nameIn(e, "to");
    return from && to
      ? `${a} changed ${possessive(t(e, "a member"))} role from ${from} to ${to}`
      : `${a} changed ${possessive(t(e, "a member"))} role`;
  },
  "member.removed": (a, e) => `${a} removed ${t(e, "a member")} from the account`,
  "member.suspended": (a, e) => `${a} suspended ${t(e, "a member")}`,
  "member.reactivated": (a, e) => `${a} reactivated ${t(e, "a member")}`,
  "member.logged_out": (a, e) => `${a} signed ${t(e, "a member")} out everywhere`,
  "member.session_revoked": (a, e) => `${a} ended one of ${possessive(t(e, "a member"))} sessions`,
  "member.password_reset_forced": (a, e) => `${a} made ${t(e, "a member")} reset their password`,
  "member.mfa_reset": (a, e) => `${a} reset ${possessive(t(e, "a member"))} two-factor authentication`,
  "member.recovery_codes_issued": (a, e) => `${a} issued new recovery codes for ${t(e, "a member")}`,
  "member.recovery_codes_viewed": (a, e) => `${a} viewed recovery codes of ${t(e, "a member")}`,
  // People's own account
  "user.signed_up": (a) => `${a} signed up`,
  "user.profile_updated": (a, e) => `${a} updated their profile${fieldsChanged(e)}`,
  "user.avatar_uploaded": (a) => `${a} uploaded a new avatar`,
  "user.avatar_removed": (a) => `${a} removed their avatar`,
  "user.preferences_updated": (a) => `${a} changed their preferences`,
  "user.notification_preferences_updated": (a) => `${a} changed their notification settings`,
  "user.notification_unsubscribed": (a) => `${a} unsubscribed from notification emails`,
  "user.deactivated": (a, e) => `${t(e, a)} deactivated their login`,
  "user.reactivated": (a, e) => `${t(e, a)} reactivated their login`,
  "user.deleted": (a) => `${a} deleted their login`,
  "user.password_changed": (a) => `${a} changed their password`,
  "user.password_reset": (a, e) => `${t(e, a)} reset their password`,
  "user.password_reset_by_operator": (_a, e) => `An operator reset ${possessive(t(e, "a member"))} password`,
  "user.email_change_requested": (a) => `${a} asked to change their email address`,
  "user.email_changed": (a) => `${a} changed their email address`,
  "user.email_verified": (a, e) => `${t(e, a)} confirmed their email address`,
  "user.mobile_verification_sent": (a) => `${a} asked for a code to verify their mobile number`,
  "user.mobile_verified": (a) => `${a} verified their mobile number`,
  // Invitations
  "invitation.created": (a, e) => {
    const role = nameIn(e, "role");
    return role ? `${a} invited ${t(e, "someone")} as ${role}` : `${a} invited ${t(e, "someone")}`;
  },
  "invitation.resent": (a, e) => `${a} resent the invitation to ${t(e, "someone")}`,
  "invitation.revoked": (a, e) => `${a} revoked the invitation to ${t(e, "someone")}`,
  "invitation.accepted": (a) => `${a} accepted an invitation and joined`,
  "invitation.accept_refused_ip": (a) => `${a} could not accept an invitation from an address not allowed`,
  // Roles and teams
  "role.created": (a, e) => `${a} created the role ${t(e, "a role")}`,
  "role.updated": (a, e) => `${a} changed the role ${t(e, "a role")}${fieldsChanged(e)}`,
  "role.deleted": (a, e) => `${a} deleted the role ${t(e, "a role")}`,
  "permission.registered": (a) => `${a} registered a permission`,
  "team.created": (a, e) => `${a} created the team ${t(e, "a team")}`,
  "team.updated": (a, e) => `${a} changed the team ${t(e, "a team")}${fieldsChanged(e)}`,
  "team.deleted": (a, e) => `${a} deleted the team ${t(e, "a team")}`,
  "team.members_set": (a, e) => {
    const added = namesIn(e, "added");
    const removed = namesIn(e, "removed");
    const parts = [
      added.length ? `added ${listOf(added)} to` : "",
      removed.length ? `removed ${listOf(removed)} from` : "",
    ].filter(Boolean);
    return parts.length
      ? `${a} ${parts.join(" and ")} the team ${t(e, "a team")}`
      : `${a} changed the members of the team ${t(e, "a team")}`;
  },
  // Security and sign-in
  "auth.login": (a) => `${a} signed in`,
  "auth.logout": (a) => `${a} signed out`,
  "auth.login_failed": (_a, e) => `Someone failed to sign in as ${t(e, "an unknown address")}`,
  "auth.login_refused_ip": (_a, e) =>
    `A sign-in as ${t(e, "a member")} was refused: the IP address is not allowed`,
  "auth.guessing_locked": (_a, e) =>
    `Sign-in as ${t(e, "a member")} was locked after repeated wrong passwords`,
  "auth.mfa_failed": (a, e) => `${e.target?.name ?? a} entered a wrong two-factor code`,
  "auth.password_reset_requested": (_a, e) => `A password reset was requested for ${t(e, "a member")}`,
  "auth.reauthenticated": (a) => `${a} confirmed their password`,
  "mfa.enabled": (a) => `${a} turned on two-factor authentication`,
  "mfa.disabled": (a) => `${a} turned off two-factor authentication`,
  "mfa.totp_enrollment_started": (a) => `${a} started setting up an authenticator app`,
  "mfa.email_enrollment_started": (a) => `${a} started setting up email codes`,
  "mfa.sms_enrollment_started": (a) => `${a} started setting up text-message codes`,
  "mfa.passkey_renamed": (a) => `${a} renamed a passkey`,
  "mfa.recovery_codes_regenerated": (a) => `${a} generated new recovery codes`,
  "session.revoked": (a) => `${a} signed out a session`,
  "session.revoked_others": (a) => `${a} signed out all their other sessions`,
  "account.security_updated": (a, e) => `${a} changed the security settings${fieldsChanged(e)}`,
  "oidc.client_added": (a, e) => `${a} registered the OpenID Connect client ${t(e, "a client")}`,
  "oidc.client_removed": (a, e) => `${a} removed the OpenID Connect client ${t(e, "a client")}`,
  "oidc.client_secret_rotated": (a, e) =>
    `${a} rotated the secret of the OpenID Connect client ${t(e, "a client")}`,
  "oidc.signing_key_rotated": (a) => `${a} rotated the OpenID Connect signing key`,
  "oidc.app_revoked": (a, e) => {
    const name = text(asChanges(e.changes).name);
    return `${a} revoked ${name ? `the connected app ${name}` : "a connected app"} for the account`;
  },
  // API keys and webhooks
  "api_key.created": (a, e) => `${a} created the API key ${t(e, "an API key")}`,
  "api_key.updated": (a, e) => `${a} changed the API key ${t(e, "an API key")}${fieldsChanged(e)}`,
  "api_key.rotated": (a, e) => `${a} rotated the API key ${t(e, "an API key")}`,
  "api_key.revoked": (a, e) => `${a} revoked the API key ${t(e, "an API key")}`,
  "webhook.created": (a, e) => `${a} added the webhook ${t(e, "a webhook")}`,
  "webhook.updated": (a, e) => `${a} changed the webhook ${t(e, "a webhook")}${fieldsChanged(e)}`,
  "webhook.deleted": (a, e) => `${a} deleted the webhook ${t(e, "a webhook")}`,
  "webhook.secret_rotated": (a, e) => `${a} rotated the signing secret of the webhook ${t(e, "a webhook")}`,
  "webhook.delivery_retried": (a, e) => `${a} retried a delivery of the webhook ${t(e, "a webhook")}`,
  "webhook.disabled": (_a, e) => `The webhook ${t(e, "a webhook")} was turned off after repeated failures`,
  // Billing
  "billing.plan_changed": (a, e) => {
    const to = nameIn(e, "to") ?? nameIn(e, "plan");
    return to ? `${a} changed the plan to ${to}` : `${a} changed the plan`;
  },
  "billing.downgrade_scheduled": (a) => `${a} scheduled a downgrade to Free at the end of the period`,
  "billing.downgraded": () => "The account moved to the Free plan",
  "billing.subscription_canceled": (a) => `${a} canceled the subscription`,
  "billing.cancellation_undone": (a) => `${a} kept the subscription (undid the cancellation)`,
  "billing.renewed": () => "The subscription renewed",
  "billing.seats_added": (a) => `${a} added seats`,
  "billing.enterprise_terms_set": (a) => `${a} set enterprise terms`,
  "billing.auto_pay_changed": (a, e) =>
    `${a} turned automatic payment ${asChanges(e.changes).auto_pay === false ? "off" : "on"}`,
  "billing.invoice_paid": () => "An invoice was paid",
  "billing.payment_failed": () => "A payment failed",
  "billing.payment_method_added": (a) => `${a} added a payment method`,
  "billing.payment_method_removed": (a) => `${a} removed a payment method`,
  "billing.payment_method_defaulted": (a) => `${a} changed the default payment method`,
  // Account and data
  "account.created": (a) => `${a} created the account`,
  "account.renamed": (a) => `${a} renamed the account`,
  "account.updated": (a, e) => `${a} updated the organization details${fieldsChanged(e)}`,
  "account.logo_uploaded": (a) => `${a} uploaded a new logo`,
  "account.logo_removed": (a) => `${a} removed the logo`,
  "account.closure_scheduled": (a) => `${a} scheduled the account for closure`,
  "account.closure_cancelled": (a) => `${a} cancelled the account's closure`,
  "account.deleted": () => "The account was deleted",
  "branding.updated": (a) => `${a} changed the branding`,
  "branding.test_email_sent": (a) => `${a} sent a test email`,
  "data_retention.updated": (a) => `${a} changed the data retention settings`,
  "domain.added": (a, e) => `${a} added the domain ${t(e, "a domain")}`,
  "domain.verified": (_a, e) => `The domain ${t(e, "a domain")} was verified`,
  "domain.failed": (_a, e) => `Verifying the domain ${t(e, "a domain")} failed`,
  "domain.removed": (a, e) => `${a} removed the domain ${t(e, "a domain")}`,
  "export.requested": (a) => `${a} requested a data export`,
  "export.completed": () => "A data export finished",
  "export.failed": () => "A data export failed",
  "export.downloaded": (a) => `${a} downloaded a data export`,
  "export_schedule.created": (a) => `${a} scheduled a recurring export`,
  "export_schedule.updated": (a) => `${a} changed a scheduled export`,
  "export_schedule.deleted": (a) => `${a} deleted a scheduled export`,
  "audit.erased": () => "Personal details in old audit events were erased",
};

/** The actions this file has a sentence for (the unit test checks it covers every recorded one). */
export const ACTIONS_WITH_SENTENCES: readonly string[] = Object.keys(SENTENCES);

/** One sentence for the event; an action this version does not know reads "Dana Scully: webhook tested". */
export function auditSentence(event: AuditEvent): string {
  const actor = actorLabel(event);
  const sentence = SENTENCES[event.action];
  if (sentence) return sentence(actor, event);
  return `${actor}: ${humanize(event.action).toLowerCase()}`;
}

/** One row of the readable change table: the field, and before → after where the event has both. */
export type ChangeRow = { field: string; before: string | null; after: string };

/** A value as a person reads it: lists joined, booleans as Yes/No, nothing as —. */
export function displayValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.length === 0 ? "None" : value.map(displayValue).join(", ");
  if (typeof value === "object") {
    return Object.entries(value as Changes)
      .map(([key, inner]) => `${humanize(key)}: ${displayValue(inner)}`)
      .join("; ");
  }
  return String(value);
}

/**
 * The event's changes as rows: `{from, to}` pairs (top level, or nested under a field) become
 * before → after; ids and role keys show the names the API resolved.
 */
export function changeRows(event: AuditEvent): ChangeRow[] {
  const changes = asChanges(event.changes);
  const named = event.change_names ?? {};
  const shown = (value: unknown, names: unknown): string => {
    if (Array.isArray(value) && Array.isArray(names))
      return value.length === 0
        ? "None"
        : value
            .map((item, index) => (typeof names[index] === "string" ? names[index] : displayValue(item)))
            .join(", ");
    return typeof names === "string" ? names : displayValue(value);
  };
  if ("from" in changes && "to" in changes) {
    const rest = Object.entries(changes).filter(([key]) => key !== "from" && key !== "to");
    return [
      {
        field: "Value",
        before: shown(changes.from, named.from),
        after: shown(changes.to, named.to),
      },
      ...rest.map(([key, value]) => ({
        field: humanize(key),
        before: null,
        after: shown(value, named[key]),
      })),
    ];
  }
  return Object.entries(changes).map(([key, value]) => {
    const inner = asChanges(value);
    const innerNames = asChanges(named[key]);
    if ("from" in inner && "to" in inner)
      return {
        field: humanize(key),
        before: shown(inner.from, innerNames.from),
        after: shown(inner.to, innerNames.to),
      };
    return { field: humanize(key), before: null, after: shown(value, named[key]) };
  });
}

/** "3 minutes ago", "yesterday", "last week": relative to `now`, in the browser's language. */
export function relativeTime(iso: string, now: Date = new Date(), locale?: string): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  // Each unit until the next one reads better ("45 minutes", then "1 hour").
  const units: Array<[Intl.RelativeTimeFormatUnit, number, number]> = [
    ["minute", 60, 45 * 60],
    ["hour", 3600, 22 * 3600],
    ["day", 86_400, 6 * 86_400],
    ["week", 604_800, 28 * 86_400],
    ["month", 2_629_800, 330 * 86_400],
    ["year", 31_557_600, Number.POSITIVE_INFINITY],
  ];
  const [unit, size] = units.find(([, , below]) => abs < below) ?? ["year", 31_557_600];
  return format.format(Math.round(seconds / size), unit);
}
