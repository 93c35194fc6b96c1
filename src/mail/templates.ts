import { formatMailDate, type MailReader } from "./dates.js";
import type { MailMessage } from "./mailer.js";
import { type MailBranding, renderMail } from "./render.js";

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The notification settings page, where every notification mail's footer points. */
export function notificationSettingsUrl(publicUrl: string): string {
  return `${publicUrl}/settings/notifications`;
}

/** Appends the footer that links to the notification settings (text and HTML). */
export function withSettingsFooter(message: MailMessage, publicUrl: string): MailMessage {
  const url = notificationSettingsUrl(publicUrl);
  const line = message.headers?.["List-Unsubscribe"]
    ? "You get this mail because of your notification settings. Change them"
    : "This security mail cannot be turned off. Your other notification settings";
  const html = message.html.replace(
    "</body>",
    `<p style="color:#667;font-size:12px">${escapeHtml(line)}: <a href="${escapeHtml(url)}">${escapeHtml(url)}</a></p></body>`,
  );
  return { ...message, text: `${message.text}\n\n${line}: ${url}`, html, settingsFooter: false };
}

const hello = (name: string) => (name ? `Hello ${name},` : "Hello,");

/** The paragraphs of an intro: one per non-empty line. */
const paragraphs = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * Every mail Gatehouse sends, rendered from the files in src/mail/templates/ (HTML + plain text; see
 * render.ts). Mails about an account take its `MailBranding`; dates are written for the `reader`.
 */
export const mails = {
  verifyEmail: (to: string, name: string, url: string) =>
    renderMail("verify-email", {
      to,
      subject: "Confirm your email address",
      values: { greeting: hello(name), url },
    }),
  signupAttempt: (to: string, name: string, url: string) =>
    renderMail("signup-attempt", {
      to,
      subject: "Someone tried to sign up with your email",
      values: { greeting: hello(name), url },
    }),
  passwordReset: (to: string, name: string, url: string) =>
    renderMail("password-reset", {
      to,
      subject: "Reset your password",
      values: { greeting: hello(name), url },
    }),
  /**
   * `custom`: the account's subject and intro overrides, variables already substituted (plain text;
   * escaped by the template like every value).
   */
  invitation: (
    to: string,
    name: string,
    accountName: string,
    inviterName: string,
    url: string,
    options: { branding?: MailBranding; custom?: { subject: string | null; intro: string | null } } = {},
  ) =>
    renderMail("invitation", {
      to,
      subject: options.custom?.subject || `You're invited to join ${accountName}`,
      branding: options.branding,
      values: {
        greeting: hello(name),
        url,
        intro: paragraphs(
          options.custom?.intro ||
            `${inviterName || "An administrator"} invited you to join ${accountName} on Gatehouse.`,
        ),
      },
    }),
  /** To a new member once they accepted an invitation: where to sign in. */
  welcome: (
    to: string,
    name: string,
    accountName: string,
    url: string,
    options: { branding?: MailBranding; custom?: { subject: string | null; intro: string | null } } = {},
  ) =>
    renderMail("welcome", {
      to,
      subject: options.custom?.subject || `Welcome to ${accountName}`,
      branding: options.branding,
      values: {
        greeting: hello(name),
        url,
        intro: paragraphs(options.custom?.intro || `You are now a member of ${accountName} on Gatehouse.`),
      },
    }),
  reactivate: (to: string, name: string, url: string) =>
    renderMail("reactivate", {
      to,
      subject: "Reactivate your Gatehouse login",
      values: { greeting: hello(name), url },
    }),
  signInCode: (to: string, name: string, code: string) =>
    renderMail("sign-in-code", {
      to,
      subject: `Your Gatehouse code: ${code}`,
      values: { greeting: hello(name), code },
    }),
  paymentFailed: (
    to: string,
    name: string,
    input: {
      accountName: string;
      invoiceNumber: string;
      amount: string;
      error: string;
      nextAttempt: string | null;
      url: string;
    },
    options: { branding?: MailBranding; reader?: MailReader } = {},
  ) =>
    renderMail("payment-failed", {
      to,
      subject: `Payment failed for invoice ${input.invoiceNumber}`,
      settingsFooter: true,
      branding: options.branding,
      values: {
        greeting: hello(name),
        ...input,
        nextAttempt: input.nextAttempt ? formatMailDate(input.nextAttempt, options.reader) : null,
      },
    }),
  /** A notification of an event (src/notifications): its title, text and where to look. */
  notification: (
    to: string,
    name: string,
    input: { subject: string; lines: string[]; url: string },
    options: { branding?: MailBranding } = {},
  ) =>
    renderMail("notification", {
      to,
      subject: input.subject,
      settingsFooter: true,
      branding: options.branding,
      values: { greeting: hello(name), lines: input.lines, url: input.url },
    }),
  /** `branding`: the notice is about something done in that account (an administrator's action). */
  securityNotice: (
    to: string,
    name: string,
    subject: string,
    line: string,
    options: { branding?: MailBranding } = {},
  ) =>
    renderMail("security-notice", {
      to,
      subject,
      settingsFooter: true,
      branding: options.branding,
      values: { greeting: hello(name), line },
    }),
  /** Once per lock of the user's second-factor lane (see login-throttle.ts). */
  guessingLocked: (to: string, name: string, minutes: number) =>
    renderMail("guessing-locked", {
      to,
      subject: `Too many wrong codes: your sign-in is locked for ${minutes} minute${minutes === 1 ? "" : "s"}`,
      settingsFooter: true,
      values: { greeting: hello(name), minutes, oneMinute: minutes === 1 },
    }),
  passwordChanged: (to: string, name: string, at: Date, ip: string | null, reader?: MailReader) =>
    renderMail("password-changed", {
      to,
      subject: "Your password was changed",
      settingsFooter: true,
      values: { greeting: hello(name), when: formatMailDate(at, reader), ip },
    }),
  confirmEmailChange: (to: string, name: string, url: string) =>
    renderMail("confirm-email-change", {
      to,
      subject: "Confirm your new email address",
      values: { greeting: hello(name), url },
    }),
  emailChangeRequested: (
    to: string,
    name: string,
    newEmail: string,
    at: Date,
    ip: string | null,
    reader?: MailReader,
  ) =>
    renderMail("email-change-requested", {
      to,
      subject: "Someone asked to change your email address",
      settingsFooter: true,
      values: { greeting: hello(name), newEmail, when: formatMailDate(at, reader), ip },
    }),
  emailChangeAddressTaken: (to: string, name: string) =>
    renderMail("email-change-address-taken", {
      to,
      subject: "Someone tried to use your email address",
      values: { greeting: hello(name) },
    }),
  emailChanged: (to: string, name: string, newEmail: string, at: Date, reader?: MailReader) =>
    renderMail("email-changed", {
      to,
      subject: "Your email address was changed",
      settingsFooter: true,
      values: { greeting: hello(name), newEmail, when: formatMailDate(at, reader) },
    }),
  newSignIn: (
    to: string,
    name: string,
    sighting: { at: Date; ip: string | null; browser: string; os: string },
    reader?: MailReader,
  ) =>
    renderMail("new-sign-in", {
      to,
      subject: "New sign-in to your account",
      settingsFooter: true,
      values: { greeting: hello(name), ...sighting, when: formatMailDate(sighting.at, reader) },
    }),
  webhookDisabled: (
    to: string,
    name: string,
    input: { accountName: string; endpointUrl: string; failingSince: string; url: string },
    options: { branding?: MailBranding; reader?: MailReader } = {},
  ) =>
    renderMail("webhook-disabled", {
      to,
      subject: `Webhook endpoint disabled for ${input.accountName}`,
      branding: options.branding,
      values: {
        greeting: hello(name),
        ...input,
        failingSince: formatMailDate(input.failingSince, options.reader),
      },
    }),
  domainFailed: (
    to: string,
    name: string,
    input: { accountName: string; hostname: string; reason: string; url: string },
    options: { branding?: MailBranding } = {},
  ) =>
    renderMail("domain-failed", {
      to,
      subject: `Custom domain ${input.hostname} stopped working for ${input.accountName}`,
      branding: options.branding,
      values: { greeting: hello(name), ...input },
    }),
  /** A finished export: its one link is the signed download (valid 24 h). */
  exportReady: (
    to: string,
    name: string,
    input: {
      accountName: string;
      typeLabel: string;
      formatLabel: string;
      rows: number;
      url: string;
      linkExpires: string;
      fileExpires: string;
      scheduled: boolean;
    },
    options: { branding?: MailBranding; reader?: MailReader } = {},
  ) =>
    renderMail("export-ready", {
      to,
      subject: `${input.scheduled ? "Scheduled export" : "Your export"} of ${input.accountName} is ready`,
      branding: options.branding,
      values: {
        greeting: hello(name),
        intro: input.scheduled
          ? `The scheduled ${input.typeLabel} export of ${input.accountName} is ready.`
          : `The ${input.typeLabel} export of ${input.accountName} you asked for is ready.`,
        formatLabel: input.formatLabel,
        rows: input.rows.toLocaleString("en"),
        url: input.url,
        linkExpires: formatMailDate(input.linkExpires, options.reader),
        fileExpires: formatMailDate(input.fileExpires, options.reader),
      },
    }),
  exportFailed: (
    to: string,
    name: string,
    input: { accountName: string; typeLabel: string; error: string; url: string },
    options: { branding?: MailBranding } = {},
  ) =>
    renderMail("export-failed", {
      to,
      subject: `Your export of ${input.accountName} failed`,
      branding: options.branding,
      values: { greeting: hello(name), ...input },
    }),
  /** To every Root and Admin when the account is scheduled for closure; `url` cancels it (once). */
  accountClosureScheduled: (
    to: string,
    name: string,
    input: { accountName: string; requesterName: string; deleteAt: string; url: string },
    options: { branding?: MailBranding; reader?: MailReader } = {},
  ) =>
    renderMail("account-closure-scheduled", {
      to,
      subject: `${input.accountName} will be deleted on ${formatMailDate(input.deleteAt, options.reader)}`,
      branding: options.branding,
      values: {
        greeting: hello(name),
        ...input,
        deleteAt: formatMailDate(input.deleteAt, options.reader),
      },
    }),
  /** The confirmation after a person deleted their own login (DELETE /me). */
  loginDeleted: (to: string, name: string, at: Date, reader?: MailReader) =>
    renderMail("login-deleted", {
      to,
      subject: "Your Gatehouse login was deleted",
      values: { greeting: hello(name), email: to, when: formatMailDate(at, reader) },
    }),
};
