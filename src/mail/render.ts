import { readFileSync } from "node:fs";
import Handlebars from "handlebars";
import type { MailMessage } from "./mailer.js";

/**
 * What a mail about an account shows of it (src/branding/mail-branding.ts loads it): logo, name,
 * button colours, support links, and the base of its action links.
 */
export type MailBranding = {
  accountName: string;
  logoUrl: string | null;
  primaryColor: string | null;
  primaryTextColor: string | null;
  supportUrl: string | null;
  supportEmail: string | null;
  /** PUBLIC_URL, or the account's verified custom domain: every action link starts with it. */
  linkBase: string;
};

/** Gatehouse's own button colours, for mails not about an account (or an account without a colour). */
export const DEFAULT_BUTTON = { background: "#2f5bea", text: "#ffffff" } as const;

/**
 * The templates live beside this file (src/mail/templates/ under tsx, dist/mail/templates/ once built:
 * `npm run build:server` copies them). Read once, compiled on first use.
 */
const TEMPLATES = new URL("./templates/", import.meta.url);

// Its own instance: no helper or partial registered elsewhere can reach these templates. HTML output
// escapes every {{value}}; no template uses triple braces. Plain-text templates are not HTML, so they
// are compiled without escaping (nothing in text/plain is interpreted).
const engine = Handlebars.create();
engine.registerPartial("action", readTemplate("partials/action.html.hbs"));

function readTemplate(name: string): string {
  return readFileSync(new URL(name, TEMPLATES), "utf8");
}

type Compiled = (context: object) => string;
const compiled = new Map<string, Compiled>();

function template(name: string): Compiled {
  let found = compiled.get(name);
  if (!found) {
    const source = readTemplate(name);
    found = name.endsWith(".text.hbs") ? engine.compile(source, { noEscape: true }) : engine.compile(source);
    compiled.set(name, found);
  }
  return found;
}

/** Every template name, for the test that renders them all (and a start-up check). */
export const MAIL_TEMPLATES = [
  "verify-email",
  "signup-attempt",
  "password-reset",
  "invitation",
  "welcome",
  "reactivate",
  "sign-in-code",
  "payment-failed",
  "notification",
  "security-notice",
  "guessing-locked",
  "password-changed",
  "confirm-email-change",
  "email-change-requested",
  "email-change-address-taken",
  "email-changed",
  "new-sign-in",
  "webhook-disabled",
  "domain-failed",
  "export-ready",
  "export-failed",
  "account-closure-scheduled",
  "login-deleted",
] as const;
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

/** Loads and compiles every template now: a missing file fails at start, not at the first mail. */
export function preloadMailTemplates(): void {
  template("layout.html.hbs");
  template("layout.text.hbs");
  for (const name of MAIL_TEMPLATES) {
    template(`${name}.html.hbs`);
    template(`${name}.text.hbs`);
  }
}

/**
 * One mail from its templates: the per-mail HTML and text bodies inside the layouts. `values` are the
 * template's own fields; `branding` (mails about an account) adds its logo, colours and footer.
 */
export function renderMail(
  name: MailTemplate,
  input: {
    to: string;
    subject: string;
    values: Record<string, unknown>;
    branding?: MailBranding | undefined;
    settingsFooter?: boolean;
  },
): MailMessage {
  const { branding } = input;
  const button = {
    background: branding?.primaryColor ?? DEFAULT_BUTTON.background,
    text: (branding?.primaryColor && branding.primaryTextColor) || DEFAULT_BUTTON.text,
  };
  const context = { ...input.values, button, brand: branding ?? null };
  const html = template("layout.html.hbs")({
    ...context,
    subject: input.subject,
    body: new engine.SafeString(template(`${name}.html.hbs`)(context).trim()),
  }).trim();
  const text = template("layout.text.hbs")({
    ...context,
    body: template(`${name}.text.hbs`)(context).trim(),
  }).trimEnd();
  return {
    to: input.to,
    subject: input.subject,
    text,
    html,
    ...(input.settingsFooter ? { settingsFooter: true } : {}),
  };
}
