import { type FieldError, invalidFields } from "../http/errors.js";
import type { Branding, MailOverride } from "./branding.repository.js";
import { checkPrimaryColor } from "./contrast.js";
import { TEMPLATE_VARIABLES, unknownPlaceholders } from "./template-variables.js";

export const BRANDING_LIMITS = {
  loginMessage: 280,
  url: 2000,
  email: 254,
  subject: 150,
  intro: 2000,
} as const;

export type MailOverridePatch = { subject?: string | null; intro?: string | null };
/** A PATCH body (or a preview's unsaved fields): absent = unchanged, null = back to the default. */
export type BrandingPatch = {
  primary_color?: string | null;
  login_message?: string | null;
  support_url?: string | null;
  support_email?: string | null;
  privacy_url?: string | null;
  terms_url?: string | null;
  email_templates?: { invitation?: MailOverridePatch | null; welcome?: MailOverridePatch | null };
};

/**
 * C0 controls but newline, DEL, C1 controls, and the bidirectional overrides and isolates (which make
 * text read differently from what it says). Multi-line fields keep `\n` (`\r\n` becomes `\n` first).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_MULTILINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Length as people count it: code points, so an emoji or an accented letter is one character. */
const characters = (text: string) => [...text].length;

type Check = (value: string, path: string, errors: FieldError[]) => string | null;

/** Text that is shown as text: trimmed; empty is the default (null). */
function plainText(max: number, multiline: boolean): Check {
  return (raw, path, errors) => {
    const value = raw.replace(/\r\n?/g, "\n").trim();
    if ((multiline ? CONTROL_MULTILINE : CONTROL_LINE).test(value)) {
      errors.push({
        path,
        code: "invalid_value",
        message: multiline
          ? "Must not contain control characters (line breaks are fine)"
          : "Must be one line without control characters",
      });
      return null;
    }
    if (characters(value) > max) {
      errors.push({
        path,
        code: "too_long",
        message: `At most ${max} characters (this has ${characters(value)})`,
      });
      return null;
    }
    return value || null;
  };
}

/** An http(s) address without credentials: javascript:, data: and the rest are refused. */
const webUrl: Check = (raw, path, errors) => {
  const value = raw.trim();
  if (!value) return null;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || !url.hostname) {
    errors.push({ path, code: "invalid_url", message: "Must be an http:// or https:// address" });
    return null;
  }
  if (url.username || url.password) {
    errors.push({ path, code: "invalid_url", message: "Must not contain a user name or password" });
    return null;
  }
  if (url.href.length > BRANDING_LIMITS.url) {
    errors.push({ path, code: "too_long", message: `At most ${BRANDING_LIMITS.url} characters` });
    return null;
  }
  return url.href;
};

const email: Check = (raw, path, errors) => {
  const value = raw.trim();
  if (!value) return null;
  if (!EMAIL.test(value) || value.length > BRANDING_LIMITS.email || CONTROL_LINE.test(value)) {
    errors.push({ path, code: "invalid_email", message: "Must be an email address" });
    return null;
  }
  return value;
};

const color: Check = (raw, path, errors) => {
  const verdict = checkPrimaryColor(raw.trim());
  if (verdict.ok) return verdict.color;
  errors.push({ path, code: "insufficient_contrast", message: verdict.reason });
  return null;
};

/** Account-written mail text: only the whitelisted {{variables}} (template-variables.ts). */
function mailText(max: number, multiline: boolean): Check {
  const text = plainText(max, multiline);
  return (raw, path, errors) => {
    const before = errors.length;
    const value = text(raw, path, errors);
    if (errors.length > before || value === null) return null;
    const unknown = unknownPlaceholders(value);
    if (unknown.length) {
      errors.push({
        path,
        code: "unknown_variable",
        message: `Unknown template variable${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}: only ${Object.keys(
          TEMPLATE_VARIABLES,
        )
          .map((v) => `{{${v}}}`)
          .join(", ")} can be used`,
      });
      return null;
    }
    return value;
  };
}

const subject = mailText(BRANDING_LIMITS.subject, false);
const intro = mailText(BRANDING_LIMITS.intro, true);

/**
 * `current` with `patch` applied, every field checked; one answer names every problem
 * (400 `validation_failed`, the contrast refusal naming both ratios).
 */
export function applyBrandingPatch(current: Branding, patch: BrandingPatch): Branding {
  const errors: FieldError[] = [];
  const field = (value: string | null | undefined, previous: string | null, path: string, check: Check) =>
    value === undefined ? previous : value === null ? null : check(value, path, errors);
  const override = (
    value: MailOverridePatch | null | undefined,
    previous: MailOverride,
    path: string,
  ): MailOverride =>
    value === undefined
      ? previous
      : value === null
        ? { subject: null, intro: null }
        : {
            subject: field(value.subject, previous.subject, `${path}.subject`, subject),
            intro: field(value.intro, previous.intro, `${path}.intro`, intro),
          };
  const next: Branding = {
    primaryColor: field(patch.primary_color, current.primaryColor, "primary_color", color),
    loginMessage: field(
      patch.login_message,
      current.loginMessage,
      "login_message",
      plainText(BRANDING_LIMITS.loginMessage, true),
    ),
    supportUrl: field(patch.support_url, current.supportUrl, "support_url", webUrl),
    supportEmail: field(patch.support_email, current.supportEmail, "support_email", email),
    privacyUrl: field(patch.privacy_url, current.privacyUrl, "privacy_url", webUrl),
    termsUrl: field(patch.terms_url, current.termsUrl, "terms_url", webUrl),
    emailTemplates: {
      invitation: override(
        patch.email_templates?.invitation,
        current.emailTemplates.invitation,
        "email_templates.invitation",
      ),
      welcome: override(
        patch.email_templates?.welcome,
        current.emailTemplates.welcome,
        "email_templates.welcome",
      ),
    },
  };
  if (errors.length) throw invalidFields(errors);
  return next;
}
