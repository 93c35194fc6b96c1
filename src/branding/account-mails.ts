import type { MailMessage } from "../mail/mailer.js";
import { mails } from "../mail/templates.js";
import type { AccountMail } from "./mail-branding.js";
import { substituteVariables, type TemplateValues } from "./template-variables.js";

/** The mails an account can reword (subject and intro): `POST …/branding/preview` and test mails too. */
export const BRANDED_TEMPLATES = ["invitation", "welcome"] as const;
export type BrandedTemplate = (typeof BRANDED_TEMPLATES)[number];

export type AccountMailInput = {
  to: string;
  recipientName: string;
  inviterName: string;
  roleName: string;
};

/** The account's override with its variables substituted (plain text), or null for the default. */
function custom(account: AccountMail, template: BrandedTemplate, values: TemplateValues) {
  const override = account.branding.emailTemplates[template];
  return {
    subject: override.subject === null ? null : substituteVariables(override.subject, values),
    intro: override.intro === null ? null : substituteVariables(override.intro, values),
  };
}

/**
 * The invitation or welcome mail of `account`: its branding, its overrides (variables substituted,
 * escaped by the template). `url` (the invitation's) must start with `account.linkBase`.
 */
export function accountMail(
  account: AccountMail,
  template: BrandedTemplate,
  input: AccountMailInput & { url?: string },
): MailMessage {
  const values: TemplateValues = {
    account_name: account.accountName,
    inviter_name: input.inviterName || "An administrator",
    recipient_name: input.recipientName,
    recipient_email: input.to,
    role_name: input.roleName,
  };
  const options = { branding: account, custom: custom(account, template, values) };
  return template === "invitation"
    ? mails.invitation(
        input.to,
        input.recipientName,
        account.accountName,
        input.inviterName,
        input.url ?? `${account.linkBase}/accept-invitation?token=sample`,
        options,
      )
    : mails.welcome(input.to, input.recipientName, account.accountName, account.loginUrl, options);
}
