import type { Selectable } from "kysely";
import type { Executor } from "../db/database.js";
import type { AccountBrandingTable } from "../db/tables.js";
import { type FileUrl, relativeFileUrl, urlOrNull } from "../storage/file-urls.js";

export type MailOverride = { subject: string | null; intro: string | null };

/** An account's branding; every null is "the default". */
export type Branding = {
  primaryColor: string | null;
  loginMessage: string | null;
  supportUrl: string | null;
  supportEmail: string | null;
  privacyUrl: string | null;
  termsUrl: string | null;
  emailTemplates: { invitation: MailOverride; welcome: MailOverride };
};

export const NO_BRANDING: Branding = {
  primaryColor: null,
  loginMessage: null,
  supportUrl: null,
  supportEmail: null,
  privacyUrl: null,
  termsUrl: null,
  emailTemplates: {
    invitation: { subject: null, intro: null },
    welcome: { subject: null, intro: null },
  },
};

type Row = Omit<Selectable<AccountBrandingTable>, "account_id" | "updated_at">;

function toBranding(row: Row): Branding {
  return {
    primaryColor: row.primary_color,
    loginMessage: row.login_message,
    supportUrl: row.support_url,
    supportEmail: row.support_email,
    privacyUrl: row.privacy_url,
    termsUrl: row.terms_url,
    emailTemplates: {
      invitation: { subject: row.invitation_subject, intro: row.invitation_intro },
      welcome: { subject: row.welcome_subject, intro: row.welcome_intro },
    },
  };
}

function toRow(branding: Branding): Row {
  return {
    primary_color: branding.primaryColor,
    login_message: branding.loginMessage,
    support_url: branding.supportUrl,
    support_email: branding.supportEmail,
    privacy_url: branding.privacyUrl,
    terms_url: branding.termsUrl,
    invitation_subject: branding.emailTemplates.invitation.subject,
    invitation_intro: branding.emailTemplates.invitation.intro,
    welcome_subject: branding.emailTemplates.welcome.subject,
    welcome_intro: branding.emailTemplates.welcome.intro,
  };
}

const BRANDING_COLUMNS = [
  "b.primary_color",
  "b.login_message",
  "b.support_url",
  "b.support_email",
  "b.privacy_url",
  "b.terms_url",
  "b.invitation_subject",
  "b.invitation_intro",
  "b.welcome_subject",
  "b.welcome_intro",
] as const;

/** What the public branding endpoint and account mails read: the account and its branding, in one query. */
export type BrandedAccount = {
  accountId: string;
  accountName: string;
  accountSlug: string;
  logoUrl: string | null;
  branding: Branding;
};

export function createBrandingRepository(deps: { fileUrl: FileUrl } = { fileUrl: relativeFileUrl }) {
  async function lookup(
    db: Executor,
    by: { column: "a.id" | "a.slug"; value: string },
  ): Promise<BrandedAccount | undefined> {
    const row = await db
      .selectFrom("accounts as a")
      .leftJoin("account_branding as b", "b.account_id", "a.id")
      .select(["a.id", "a.name", "a.slug", "a.logo_key", ...BRANDING_COLUMNS])
      .where(by.column, "=", by.value)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      accountId: row.id,
      accountName: row.name,
      accountSlug: row.slug,
      logoUrl: urlOrNull(deps.fileUrl, row.logo_key),
      branding: toBranding(row),
    };
  }

  return {
    /** The account's branding (all defaults when it never set any). */
    async find(db: Executor, accountId: string): Promise<Branding> {
      const row = await db
        .selectFrom("account_branding")
        .selectAll()
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return row ? toBranding(row) : NO_BRANDING;
    },

    async save(db: Executor, accountId: string, branding: Branding, now: string): Promise<void> {
      const values = toRow(branding);
      await db
        .insertInto("account_branding")
        .values({ account_id: accountId, ...values, updated_at: now })
        .onConflict((oc) => oc.column("account_id").doUpdateSet({ ...values, updated_at: now }))
        .execute();
    },

    /** The account with this id and its branding, in one query. */
    findAccount: (db: Executor, accountId: string) => lookup(db, { column: "a.id", value: accountId }),
    /** The account with this slug and its branding, in one query (also when there is none). */
    findAccountBySlug: (db: Executor, slug: string) => lookup(db, { column: "a.slug", value: slug }),
  };
}

export type BrandingRepository = ReturnType<typeof createBrandingRepository>;
