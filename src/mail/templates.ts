import type { MailMessage } from "./mailer.js";

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Content = {
  to: string;
  subject: string;
  greeting: string;
  lines: string[];
  action?: { label: string; url: string };
};

/** Plain text + HTML with at most one action link, as API.md requires. */
function render({ to, subject, greeting, lines, action }: Content): MailMessage {
  const text = [
    greeting,
    "",
    ...lines,
    ...(action ? ["", `${action.label}: ${action.url}`] : []),
    "",
    "— Gatehouse",
  ].join("\n");
  const paragraphs = lines.map((l) => `<p>${escapeHtml(l)}</p>`).join("");
  const button = action
    ? `<p><a href="${escapeHtml(action.url)}" style="display:inline-block;padding:10px 16px;background:#2f5bea;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p>`
    : "";
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1b1f24"><p>${escapeHtml(greeting)}</p>${paragraphs}${button}<p style="color:#667">— Gatehouse</p></body></html>`;
  return { to, subject, text, html };
}

const hello = (name: string) => (name ? `Hello ${name},` : "Hello,");

export const mails = {
  verifyEmail: (to: string, name: string, url: string) =>
    render({
      to,
      subject: "Confirm your email address",
      greeting: hello(name),
      lines: ["Please confirm your email address for Gatehouse. The link is valid for 24 hours."],
      action: { label: "Confirm email", url },
    }),
  signupAttempt: (to: string, name: string, url: string) =>
    render({
      to,
      subject: "Someone tried to sign up with your email",
      greeting: hello(name),
      lines: [
        "Someone tried to create a Gatehouse account with this address, which already has one.",
        "If that was you, log in instead. If you forgot your password, reset it from the log-in page.",
      ],
      action: { label: "Log in", url },
    }),
  passwordReset: (to: string, name: string, url: string) =>
    render({
      to,
      subject: "Reset your password",
      greeting: hello(name),
      lines: [
        "Someone asked to reset your Gatehouse password. The link is valid for 30 minutes and works once.",
        "If you did not ask for this, you can ignore this mail; your password stays as it is.",
      ],
      action: { label: "Choose a new password", url },
    }),
  invitation: (to: string, name: string, accountName: string, inviterName: string, url: string) =>
    render({
      to,
      subject: `You're invited to join ${accountName}`,
      greeting: hello(name),
      lines: [
        `${inviterName || "An administrator"} invited you to join ${accountName} on Gatehouse.`,
        "The invitation is valid for 7 days.",
      ],
      action: { label: "Accept invitation", url },
    }),
  reactivate: (to: string, name: string, url: string) =>
    render({
      to,
      subject: "Reactivate your Gatehouse login",
      greeting: hello(name),
      lines: [
        "You deactivated your Gatehouse login, and someone (hopefully you) just logged in with your password.",
        "To turn your login back on, confirm with the link below. It is valid for 24 hours.",
      ],
      action: { label: "Reactivate my login", url },
    }),
  signInCode: (to: string, name: string, code: string) =>
    render({
      to,
      subject: `Your Gatehouse code: ${code}`,
      greeting: hello(name),
      lines: [
        `Your sign-in code is ${code}. It is valid for 10 minutes and works once.`,
        "If you did not try to sign in, change your password.",
      ],
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
  ) =>
    render({
      to,
      subject: `Payment failed for invoice ${input.invoiceNumber}`,
      greeting: hello(name),
      lines: [
        `We could not collect ${input.amount} for invoice ${input.invoiceNumber} of ${input.accountName}: ${input.error}`,
        input.nextAttempt
          ? `We will try again on ${input.nextAttempt}.`
          : "We will not try again automatically.",
        "To fix it, add or choose another payment method in Settings → Billing, then pay the invoice there.",
      ],
      action: { label: "Open billing", url: input.url },
    }),
  securityNotice: (to: string, name: string, subject: string, line: string) =>
    render({
      to,
      subject,
      greeting: hello(name),
      lines: [line, "If this was not you, reset your password now and contact your administrator."],
    }),
  passwordChanged: (to: string, name: string, when: string, ip: string | null) =>
    render({
      to,
      subject: "Your password was changed",
      greeting: hello(name),
      lines: [
        `The password of your Gatehouse account was changed at ${when}${ip ? ` from ${ip}` : ""}.`,
        "If this was not you, reset your password now and contact your administrator.",
      ],
    }),
  confirmEmailChange: (to: string, name: string, url: string) =>
    render({
      to,
      subject: "Confirm your new email address",
      greeting: hello(name),
      lines: [
        "Someone (hopefully you) asked to make this address the login email of a Gatehouse account.",
        "Confirm with the link below; it is valid for 24 hours and works once. Until then nothing changes.",
        "If you did not ask for this, ignore this mail.",
      ],
      action: { label: "Confirm new email", url },
    }),
  emailChangeRequested: (to: string, name: string, newEmail: string, when: string, ip: string | null) =>
    render({
      to,
      subject: "Someone asked to change your email address",
      greeting: hello(name),
      lines: [
        `At ${when}${ip ? ` from ${ip}` : ""} someone asked to change the login email of your Gatehouse account to ${newEmail}.`,
        "Nothing changes until that address is confirmed.",
        "If it wasn't you, someone may be using your login: reset your password now, end your other sessions under Settings → Security, and contact your administrator.",
      ],
    }),
  emailChangeAddressTaken: (to: string, name: string) =>
    render({
      to,
      subject: "Someone tried to use your email address",
      greeting: hello(name),
      lines: [
        "Someone asked to make this address the login email of another Gatehouse login. It already belongs to your login, so nothing changed.",
        "If you meant to merge two logins, that is not possible; log in with this address instead. Otherwise you can ignore this mail.",
      ],
    }),
  emailChanged: (to: string, name: string, newEmail: string, when: string) =>
    render({
      to,
      subject: "Your email address was changed",
      greeting: hello(name),
      lines: [
        `The login email of your Gatehouse account was changed to ${newEmail} at ${when}. This address no longer works for logging in.`,
        "If this was not you, contact your administrator right away.",
      ],
    }),
  newSignIn: (
    to: string,
    name: string,
    sighting: { when: string; ip: string | null; browser: string; os: string },
  ) =>
    render({
      to,
      subject: "New sign-in to your account",
      greeting: hello(name),
      lines: [
        "Your Gatehouse login was just used from a device or browser it has not been used from before.",
        `When: ${sighting.when}`,
        `IP address: ${sighting.ip ?? "unknown"}`,
        `Device: ${sighting.browser} on ${sighting.os}`,
        "If this was you, there is nothing to do.",
        "If it wasn't you, reset your password now (\"Forgot password?\" on the log-in page), end the sessions you don't recognise under Settings → Security, and contact your administrator.",
      ],
    }),
};
