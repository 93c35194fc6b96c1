import type { Executor } from "../db/database.js";
import type { MailBranding } from "../mail/render.js";
import type { Branding, BrandingRepository } from "./branding.repository.js";
import { checkPrimaryColor } from "./contrast.js";

/**
 * Where an account's mail links point: a custom domain's base (`https://login.acme.example`) when the
 * domains capability says the account has a verified one, else undefined (PUBLIC_URL).
 */
export type LinkBaseFor = (db: Executor, accountId: string) => Promise<string | undefined>;

export type AccountMail = MailBranding & {
  /** The account's saved branding, for the mail overrides. */
  branding: Branding;
  /** The account's own log-in page. */
  loginUrl: string;
};

/** The button colours a saved colour gives (null: Gatehouse's own). */
export function colorsOf(primaryColor: string | null) {
  const verdict = primaryColor ? checkPrimaryColor(primaryColor) : undefined;
  return verdict?.ok
    ? { primaryColor: verdict.color, primaryTextColor: verdict.textColor }
    : { primaryColor: null, primaryTextColor: null };
}

export function toMailBranding(
  account: { accountName: string; accountSlug: string; logoUrl: string | null; branding: Branding },
  linkBase: string,
): AccountMail {
  return {
    accountName: account.accountName,
    logoUrl: account.logoUrl,
    ...colorsOf(account.branding.primaryColor),
    supportUrl: account.branding.supportUrl,
    supportEmail: account.branding.supportEmail,
    linkBase,
    branding: account.branding,
    loginUrl: `${linkBase}/login?account=${encodeURIComponent(account.accountSlug)}`,
  };
}

/**
 * Everything a mail about an account needs, in one place: `load(db, accountId)` → its name, logo,
 * colours, support links and the base of its action links (build every action link from `linkBase`).
 * Run it with the transaction that queues the mail.
 */
export function createMailBranding(deps: {
  publicUrl: string;
  repository: BrandingRepository;
  linkBaseFor?: LinkBaseFor | undefined;
}) {
  return {
    async load(db: Executor, accountId: string): Promise<AccountMail | undefined> {
      const account = await deps.repository.findAccount(db, accountId);
      if (!account) return undefined;
      const linkBase = (await deps.linkBaseFor?.(db, accountId)) ?? deps.publicUrl;
      return toMailBranding(account, linkBase.replace(/\/+$/, ""));
    },
    publicUrl: deps.publicUrl,
  };
}

export type MailBrandingLoader = ReturnType<typeof createMailBranding>;
