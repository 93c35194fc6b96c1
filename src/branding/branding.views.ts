import type { Branding } from "./branding.repository.js";
import { colorsOf } from "./mail-branding.js";

/** `GET/PATCH /accounts/{id}/branding`. */
export function brandingView(branding: Branding, logoUrl: string | null) {
  const { primaryColor, primaryTextColor } = colorsOf(branding.primaryColor);
  return {
    primary_color: primaryColor,
    primary_text_color: primaryTextColor,
    logo_url: logoUrl,
    login_message: branding.loginMessage,
    support_url: branding.supportUrl,
    support_email: branding.supportEmail,
    privacy_url: branding.privacyUrl,
    terms_url: branding.termsUrl,
    email_templates: {
      invitation: { ...branding.emailTemplates.invitation },
      welcome: { ...branding.emailTemplates.welcome },
    },
  };
}

export type BrandingView = ReturnType<typeof brandingView>;

/** The fields of a view that differ, as API paths (`email_templates.invitation.subject`). */
export function changedFields(before: BrandingView, after: BrandingView): string[] {
  const changed: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
      for (const key of Object.keys(b))
        walk((a as never)[key], (b as never)[key], path ? `${path}.${key}` : key);
    } else if (a !== b) changed.push(path);
  };
  walk(before, after, "");
  return changed;
}
