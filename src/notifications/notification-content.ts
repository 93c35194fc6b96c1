import type { EventType } from "../events/catalog.js";
import type { StoredEvent } from "../events/events.repository.js";

/** What a person reads about an event: in the app, as a mail's subject and text, as a text message. */
export type NotificationContent = { title: string; body: string; link: string };

type Data = Record<string, unknown>;

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const nameOf = (data: Data): string =>
  [str(data.first_name), str(data.last_name)].filter(Boolean).join(" ") || str(data.email) || "A member";
const roleName = (role: unknown): string => str((role as Data | null)?.name) || "no role";
const money = (cents: unknown, currency: unknown) =>
  `${(Number(cents) / 100).toFixed(2)} ${str(currency) || "USD"}`;

const CONTENT: Record<EventType, (data: Data, account: string) => NotificationContent> = {
  "member.invited": (d, account) => ({
    title: `${str(d.email)} was invited to ${account}`,
    body: `${str((d.invited_by as Data | null)?.name) || "Someone"} invited ${str(d.email)} as ${roleName(d.role)}.`,
    link: "/settings/members",
  }),
  "member.joined": (d, account) => ({
    title: `${nameOf(d)} joined ${account}`,
    body: `${nameOf(d)} (${str(d.email)}) accepted the invitation and is now a member as ${roleName(d.role)}.`,
    link: `/settings/members/${str(d.user_id)}`,
  }),
  "member.role_changed": (d, account) => ({
    title: `${nameOf(d)}'s role changed in ${account}`,
    body: `${nameOf(d)} is now ${roleName(d.role)} (was ${roleName(d.previous_role)}).`,
    link: `/settings/members/${str(d.user_id)}`,
  }),
  "member.suspended": (d, account) => ({
    title: `${nameOf(d)} was suspended in ${account}`,
    body: `${nameOf(d)} cannot use ${account} until they are reactivated.`,
    link: `/settings/members/${str(d.user_id)}`,
  }),
  "member.reactivated": (d, account) => ({
    title: `${nameOf(d)} was reactivated in ${account}`,
    body: `${nameOf(d)} can use ${account} again.`,
    link: `/settings/members/${str(d.user_id)}`,
  }),
  "member.removed": (d, account) => ({
    title: `${nameOf(d)} was removed from ${account}`,
    body: `${nameOf(d)} (${str(d.email)}) is no longer a member of ${account}.`,
    link: "/settings/members",
  }),
  "invitation.revoked": (d, account) => ({
    title: `The invitation of ${str(d.email)} was revoked`,
    body: `${str(d.email)} can no longer join ${account} with that invitation.`,
    link: "/settings/members",
  }),
  "team.created": teamOrRole,
  "team.updated": teamOrRole,
  "team.deleted": teamOrRole,
  "role.created": teamOrRole,
  "role.updated": teamOrRole,
  "role.deleted": teamOrRole,
  "subscription.changed": (d, account) => ({
    title: `${account}'s subscription changed`,
    body: `${account} is on ${str(d.plan_name) || str(d.plan)} (${str(d.change).replace(/_/g, " ")}).`,
    link: "/settings/billing",
  }),
  "invoice.created": (d, account) => ({
    title: `New invoice ${str(d.number)} for ${account}`,
    body: `Invoice ${str(d.number)} of ${money(d.total, d.currency)} was issued.`,
    link: "/settings/billing",
  }),
  "invoice.paid": (d, account) => ({
    title: `Invoice ${str(d.number)} was paid`,
    body: `${account} paid invoice ${str(d.number)} (${money(d.total, d.currency)}).`,
    link: "/settings/billing",
  }),
  "payment.failed": (d, account) => ({
    title: `Payment failed for invoice ${str(d.number)}`,
    body: `We could not collect ${money(d.total, d.currency)} for invoice ${str(d.number)} of ${account}: ${str(d.last_payment_error)}`,
    link: "/settings/billing",
  }),
  "api_key.created": (d, account) => ({
    title: `API key created in ${account}: ${str(d.name)}`,
    body: `A new API key (${str(d.prefix)}) can now act in ${account} with: ${(d.scopes as string[] | undefined)?.join(", ") || "no scopes"}.`,
    link: "/settings/api-keys",
  }),
  "api_key.revoked": (d, account) => ({
    title: `API key revoked in ${account}: ${str(d.name)}`,
    body: `The API key ${str(d.prefix)} no longer works.`,
    link: "/settings/api-keys",
  }),
  "security.mfa_enabled": () => ({
    title: "Two-factor authentication is on",
    body: "A second factor was added to your Gatehouse login: signing in now asks for it.",
    link: "/settings/security",
  }),
  "security.mfa_disabled": (d) => ({
    title: "Two-factor authentication is off",
    body:
      d.disabled_by === "admin"
        ? "An administrator reset your second factors: signing in asks only for your password until you add one again."
        : "Your last second factor was removed: signing in asks only for your password.",
    link: "/settings/security",
  }),
  "security.policy_changed": (d, account) => ({
    title: `${account}'s security settings changed`,
    body: `Changed: ${(d.changed as string[] | undefined)?.join(", ") || "settings"}.`,
    link: "/settings/security-policy",
  }),
  "account.updated": (d, account) => ({
    title: `${account}'s profile changed`,
    body: `Changed: ${(d.changed as string[] | undefined)?.join(", ") || "profile"}.`,
    link: "/settings/organization",
  }),
  "domain.verified": (d, account) => ({
    title: `${str(d.hostname)} now serves ${account}`,
    body: `The custom domain ${str(d.hostname)} was verified.`,
    link: "/settings/domains",
  }),
  "domain.failed": (d, account) => ({
    title: `${str(d.hostname)} stopped serving ${account}`,
    body: str(d.failure_reason),
    link: "/settings/domains",
  }),
  "branding.updated": (d, account) => ({
    title: `${account}'s branding changed`,
    body: `Changed: ${(d.changed as string[] | undefined)?.join(", ") || "branding"}.`,
    link: "/settings/branding",
  }),
};

function teamOrRole(d: Data): NotificationContent {
  return { title: str(d.name), body: "", link: "/settings" };
}

export function contentOf(event: StoredEvent, accountName: string): NotificationContent {
  return CONTENT[event.type](event.data, accountName);
}
