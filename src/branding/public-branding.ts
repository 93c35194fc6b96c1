import type { Invalidator } from "../auth/session-cache.js";
import type { Db } from "../db/database.js";
import { ANONYMOUS_WRITE_LIMITS } from "../http/anonymous-writes.js";
import { AppError } from "../http/errors.js";
import { createGuardedCache } from "../lib/guarded-cache.js";
import { ipSubject, type RateLimiter } from "../lib/rate-limit.js";
import type { BrandedAccount, BrandingRepository } from "./branding.repository.js";
import { colorsOf } from "./mail-branding.js";

/** The account whose verified custom domain `host` is (the domains capability answers), if any. */
export type AccountForHost = (host: string) => Promise<string | undefined>;
/** Whether the log-in page on `host` offers passkeys (they are bound to PUBLIC_URL's host). */
export type PasskeysOnHost = (host: string) => boolean;

export const PUBLIC_BRANDING_CACHE = { ttlMs: 30_000, maxEntries: 10_000 } as const;

/** `GET /api/v1/branding`. Every key always present; nulls are the default page's. */
export type PublicBranding = {
  branded: boolean;
  account_name: string | null;
  logo_url: string | null;
  primary_color: string | null;
  primary_text_color: string | null;
  login_message: string | null;
  support_url: string | null;
  support_email: string | null;
  privacy_url: string | null;
  terms_url: string | null;
  passkeys: boolean;
};

function unbranded(passkeys: boolean): PublicBranding {
  return {
    branded: false,
    account_name: null,
    logo_url: null,
    primary_color: null,
    primary_text_color: null,
    login_message: null,
    support_url: null,
    support_email: null,
    privacy_url: null,
    terms_url: null,
    passkeys,
  };
}

/** Whether the log-in page shows anything of the account (mail overrides do not count). */
function showsBranding(account: BrandedAccount): boolean {
  const b = account.branding;
  return [
    account.logoUrl,
    b.primaryColor,
    b.loginMessage,
    b.supportUrl,
    b.supportEmail,
    b.privacyUrl,
    b.termsUrl,
  ].some((v) => v !== null);
}

export function publicBrandingOf(account: BrandedAccount | undefined, passkeys: boolean): PublicBranding {
  if (!account || !showsBranding(account)) return unbranded(passkeys);
  const b = account.branding;
  return {
    branded: true,
    account_name: account.accountName,
    logo_url: account.logoUrl,
    ...(({ primaryColor, primaryTextColor }) => ({
      primary_color: primaryColor,
      primary_text_color: primaryTextColor,
    }))(colorsOf(b.primaryColor)),
    login_message: b.loginMessage,
    support_url: b.supportUrl,
    support_email: b.supportEmail,
    privacy_url: b.privacyUrl,
    terms_url: b.termsUrl,
    passkeys,
  };
}

/**
 * The public branding of the log-in page, as JSON text. An unknown slug and an account without
 * branding take the same path (one query, the same bytes, cached alike): nothing tells them apart.
 * Answers are cached in this process for a short while and dropped when the account's branding (or the
 * account) changes in any process; cache misses count against the client address's lookup budget.
 */
export function createPublicBranding(deps: {
  db: Db;
  repository: BrandingRepository;
  invalidator: Invalidator;
  limiter: RateLimiter;
  accountForHost?: AccountForHost | undefined;
  passkeysOnHost?: PasskeysOnHost | undefined;
  options?: { ttlMs: number; maxEntries: number };
}) {
  const { ttlMs, maxEntries } = deps.options ?? PUBLIC_BRANDING_CACHE;
  const byHost = deps.accountForHost !== undefined || deps.passkeysOnHost !== undefined;
  // Keys are `<host>\n<slug>`. An entry belongs to its account and to its host (any port): a custom
  // domain verified, failed or removed moves that host's answers to another account.
  const hostGroup = (key: string) => `host ${key.slice(0, key.indexOf("\n")).replace(/:\d+$/, "")}`;
  const answers = createGuardedCache<{ json: string; accountId: string | null }>(deps.invalidator, {
    ttlMs,
    maxEntries,
    groupsOf: (key, answer) => (answer.accountId ? [answer.accountId, hostGroup(key)] : [hostGroup(key)]),
  });
  // Only messages about branding, an account or a domain count (not sessions, keys, notifications).
  deps.invalidator.onInvalidate((message) => {
    if (message === "*") answers.clear();
    else if (message.startsWith("brand:")) answers.forgetGroup(message.slice(6));
    else if (message.startsWith("acct:")) answers.forgetGroup(message.slice(5));
    else if (message.startsWith("domain:")) answers.forgetGroup(`host ${message.slice(7)}`);
  });

  async function resolve(host: string, slug: string | undefined): Promise<BrandedAccount | undefined> {
    const accountId = host && deps.accountForHost ? await deps.accountForHost(host) : undefined;
    if (accountId) return deps.repository.findAccount(deps.db, accountId);
    // No slug at all is a look-up too, of nothing: the same single query as any other miss.
    return deps.repository.findAccountBySlug(deps.db, slug ?? "");
  }

  return {
    async lookup(input: { host: string; slug: string | undefined; ip: string | null }): Promise<string> {
      const host = input.host.toLowerCase();
      const key = `${byHost ? host : ""}\n${input.slug ?? ""}`;
      const answer = await answers.get(key, async () => {
        const rule = ANONYMOUS_WRITE_LIMITS.branding_lookup;
        const decision = await deps.limiter.hit(`anon:branding_lookup:${ipSubject(input.ip)}`, rule);
        if (!decision.allowed)
          throw new AppError(
            "rate_limited",
            `Too many requests from your network. Try again in ${decision.retryAfterSeconds} seconds.`,
            { headers: { "retry-after": String(decision.retryAfterSeconds) } },
          );
        const account = await resolve(host, input.slug);
        const passkeys = deps.passkeysOnHost ? deps.passkeysOnHost(host) : true;
        return {
          json: JSON.stringify(publicBrandingOf(account, passkeys)),
          accountId: account?.accountId ?? null,
        };
      });
      return answer.json;
    },
  };
}

export type PublicBrandingLookup = ReturnType<typeof createPublicBranding>;
