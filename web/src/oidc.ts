// Sign in with Gatehouse: what the authorize page and Settings → Connected apps share. Plain data and
// functions, kept apart from React so that test/web can check them.

export type RoleRef = { key: string; name: string };

/** GET /oidc/interactions/{uid}: what an application asks for, and who may answer. */
export type OidcInteraction = {
  uid: string;
  client: { client_id: string; name: string; logo_uri: string | null; party: "first" | "third" };
  scopes: string[];
  needs_account: boolean;
  consent_required: boolean;
  signed_in: boolean;
  accounts: Array<{ account_id: string; account_name: string; role: RoleRef }>;
};

/** GET /accounts/{id}/connected-apps: a third-party application the account's members authorized. */
export type ConnectedApp = {
  client_id: string;
  name: string;
  logo_uri: string | null;
  scopes: string[];
  members: number;
  last_authorized_at: string;
};

/** Each scope in plain words, as the consent screen and the connected-apps table say it. */
export const SCOPE_WORDS: Readonly<Record<string, string>> = {
  openid: "Know who you are (your Gatehouse user id)",
  profile: "See your name and profile picture",
  email: "See your email address",
  offline_access: "Stay signed in when you are not using it",
  "gatehouse:account": "See the account you choose, your role and what it lets you do there",
  "gatehouse:accounts": "See every account you belong to and your role in each",
};

/** The words for a scope; one Gatehouse does not know is shown as it is. */
export function scopeWords(scope: string): string {
  return SCOPE_WORDS[scope] ?? `Use “${scope}”`;
}

/** The scopes to list on the consent screen, in the order above, unknown ones last, each once. */
export function consentScopes(scopes: readonly string[]): string[] {
  const known = Object.keys(SCOPE_WORDS);
  const unique = [...new Set(scopes)];
  return [
    ...known.filter((scope) => unique.includes(scope)),
    ...unique.filter((scope) => !known.includes(scope)),
  ];
}

/**
 * What the authorize page does next: sign in first, choose an account, ask for consent, or finish at
 * once (a first-party application, and no account to choose or only one).
 */
export type AuthorizeStep =
  | { kind: "sign-in" }
  | { kind: "no-account" }
  | { kind: "choose-account" }
  | { kind: "consent"; accountId: string | null }
  | { kind: "complete"; accountId: string | null };

export function authorizeStep(interaction: OidcInteraction, chosenAccountId: string | null): AuthorizeStep {
  if (!interaction.signed_in) return { kind: "sign-in" };
  const accounts = interaction.accounts;
  let accountId: string | null = null;
  if (interaction.needs_account) {
    const chosen = accounts.find((a) => a.account_id === chosenAccountId);
    if (chosen) accountId = chosen.account_id;
    else if (accounts.length === 1) accountId = accounts[0]?.account_id ?? null;
    else if (accounts.length === 0) return { kind: "no-account" };
    else return { kind: "choose-account" };
  }
  return interaction.consent_required || interaction.client.party === "third"
    ? { kind: "consent", accountId }
    : { kind: "complete", accountId };
}

/** The login page's address that comes back here afterwards (keeping `?account=` for its branding). */
export function loginPathFor(uid: string, account: string | null): string {
  const query = new URLSearchParams({ next: `/authorize/${encodeURIComponent(uid)}` });
  if (account) query.set("account", account);
  return `/login?${query.toString()}`;
}

/** Only http(s) logos: a stored value is never turned into a script or data URL here. */
export function safeLogo(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}
