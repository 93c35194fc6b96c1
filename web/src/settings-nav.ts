// The settings pages: what the sidebar lists, which URL each page has, who may see it, and what old
// URLs and deep links to items mean. Plain data and functions, kept apart from React and `window` so
// that test/web checks them; the page components are joined on in pages/Settings/pages.tsx.
import type { UiPermission } from "./ui-permissions.js";

export const SETTINGS_GROUPS = [
  { key: "personal", label: "Personal" },
  { key: "account", label: "Account" },
  { key: "billing", label: "Billing" },
] as const;

export type SettingsGroupKey = (typeof SETTINGS_GROUPS)[number]["key"];

export type SettingsPageDefinition = {
  key: string;
  group: SettingsGroupKey;
  label: string;
  /** `/settings/<key>`: the page's stable address. */
  path: string;
  /** Shown only when the user's role in the current account grants this; none = every signed-in user. */
  permission?: UiPermission;
  /** Shown only when this holds too: "several-accounts" = the user reads members in 2+ accounts. */
  shownWhen?: "several-accounts";
  /** "narrow" for forms (a readable line length), "wide" for tables (a 7-column table fits at 1280 px). */
  width: "narrow" | "wide";
  /**
   * Deep links to one item: `/settings/<key>/<itemPrefix><id>` (itemPrefix "" or "invoices/"). The page
   * gets the id and shows that item (scrolled to and highlighted, or opened).
   */
  itemPrefix?: string;
};

/** In sidebar order. Add a page here (and its component in pages/Settings/pages.tsx: tsc asks for it). */
// biome-ignore format: one line per page, so that adding one is one line
export const SETTINGS_PAGES = [
  { key: "profile", group: "personal", label: "Profile", path: "/settings/profile", width: "narrow" },
  { key: "security", group: "personal", label: "Security", path: "/settings/security", width: "wide" },
  { key: "preferences", group: "personal", label: "Preferences", path: "/settings/preferences", width: "narrow" },
  { key: "notifications", group: "personal", label: "Notifications", path: "/settings/notifications", width: "narrow" },
  { key: "overview", group: "account", label: "Overview", path: "/settings/overview", permission: "members:read", width: "wide" },
  { key: "members", group: "account", label: "Members", path: "/settings/members", permission: "members:read", width: "wide", itemPrefix: "" },
  { key: "people", group: "account", label: "People", path: "/settings/people", shownWhen: "several-accounts", width: "wide" },
  { key: "teams", group: "account", label: "Teams", path: "/settings/teams", permission: "teams:read", width: "wide", itemPrefix: "" },
  { key: "roles", group: "account", label: "Roles", path: "/settings/roles", permission: "roles:read", width: "wide", itemPrefix: "" },
  { key: "assignments", group: "account", label: "User assignments", path: "/settings/assignments", permission: "members:read", width: "wide" },
  { key: "api-keys", group: "account", label: "API keys", path: "/settings/api-keys", permission: "api_keys:manage", width: "wide", itemPrefix: "" },
  { key: "webhooks", group: "account", label: "Webhooks", path: "/settings/webhooks", permission: "webhooks:manage", width: "wide", itemPrefix: "" },
  { key: "connected-apps", group: "account", label: "Connected apps", path: "/settings/connected-apps", permission: "security:read", width: "wide" },
  { key: "audit-log", group: "account", label: "Audit log", path: "/settings/audit-log", permission: "audit:read", width: "wide" },
  { key: "security-policy", group: "account", label: "Security policy", path: "/settings/security-policy", permission: "security:read", width: "narrow" },
  { key: "organization", group: "account", label: "Organization", path: "/settings/organization", permission: "account:read", width: "narrow" },
  { key: "branding", group: "account", label: "Branding", path: "/settings/branding", permission: "account:read", width: "wide" },
  { key: "domains", group: "account", label: "Domains", path: "/settings/domains", permission: "account:read", width: "wide" },
  { key: "data", group: "account", label: "Data", path: "/settings/data", permission: "data:export", width: "wide" },
  { key: "billing", group: "billing", label: "Billing", path: "/settings/billing", permission: "billing:read", width: "wide", itemPrefix: "invoices/" },
] as const satisfies readonly SettingsPageDefinition[];

export type SettingsPageKey = (typeof SETTINGS_PAGES)[number]["key"];
export type SettingsPage = SettingsPageDefinition & { key: SettingsPageKey };

/** Addresses of pages that were renamed: mails, bookmarks and old links keep working. */
export const RENAMED_SETTINGS_PAGES: Readonly<Record<string, SettingsPageKey>> = {
  general: "preferences",
  users: "members",
  account: "organization",
  audit: "audit-log",
};

/** The only page reachable while a password change or a second factor is due. */
export const SECURITY_ONLY_PAGE: SettingsPageKey = "security";

// Ids are prefixed random strings ("usr_…", "team_…", "inv_…"); anything else is not an item.
const ITEM_ID = /^[A-Za-z0-9_-]{1,100}$/;

export type SettingsRoute =
  | { kind: "page"; page: SettingsPage; itemId: string | null }
  | { kind: "redirect"; to: string }
  | { kind: "not-found" };

/**
 * What a `/settings/…` path shows. `suffix` (search and hash) rides along on a redirect, so
 * `/settings/users?status=pending` lands on `/settings/members?status=pending`.
 */
export function resolveSettingsPath(pathname: string, suffix = ""): SettingsRoute {
  const trimmed = pathname.replace(/\/+$/, "");
  if (!trimmed.startsWith("/settings/")) return { kind: "not-found" };
  const [first = "", ...rest] = trimmed.slice("/settings/".length).split("/");
  const renamed = RENAMED_SETTINGS_PAGES[first];
  if (renamed) {
    const target = settingsPage(renamed);
    return { kind: "redirect", to: [target.path, ...rest].join("/") + suffix };
  }
  const page = SETTINGS_PAGES.find((candidate) => candidate.key === first);
  if (!page) return { kind: "not-found" };
  if (rest.length === 0) return { kind: "page", page, itemId: null };
  if (!("itemPrefix" in page)) return { kind: "not-found" };
  const tail = rest.join("/");
  if (!tail.startsWith(page.itemPrefix)) return { kind: "not-found" };
  const id = decodeSegment(tail.slice(page.itemPrefix.length));
  return id && ITEM_ID.test(id) ? { kind: "page", page, itemId: id } : { kind: "not-found" };
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function settingsPage(key: SettingsPageKey): SettingsPage {
  return SETTINGS_PAGES.find((page) => page.key === key) as SettingsPage;
}

/** The address of one item's deep link: `settingsItemPath("teams", "team_1")` → `/settings/teams/team_1`. */
export function settingsItemPath(key: SettingsPageKey, id: string): string {
  const page: SettingsPageDefinition = settingsPage(key);
  if (page.itemPrefix === undefined) throw new Error(`settings page ${key} has no item links`);
  return `${page.path}/${page.itemPrefix}${encodeURIComponent(id)}`;
}

export type SettingsNavGroup = {
  key: SettingsGroupKey;
  label: string;
  pages: SettingsPage[];
};

/**
 * The sidebar: the pages this user may open, by group, empty groups left out. While a password change
 * or a second factor is due only Security is listed (the server refuses the rest until then).
 */
export function settingsNav(access: {
  can: (permission: UiPermission) => boolean;
  securityOnly: boolean;
  /** The user reads members in two or more accounts (GET /me/managed-accounts); unknown = no. */
  severalAccounts?: boolean;
}): SettingsNavGroup[] {
  const visible = SETTINGS_PAGES.filter((page: SettingsPageDefinition) =>
    access.securityOnly
      ? page.key === SECURITY_ONLY_PAGE
      : (page.permission === undefined || access.can(page.permission)) &&
        (page.shownWhen !== "several-accounts" || access.severalAccounts === true),
  );
  return SETTINGS_GROUPS.map((group) => ({
    key: group.key,
    label: group.label,
    pages: visible.filter((page) => page.group === group.key),
  })).filter((group) => group.pages.length > 0);
}
