import { describe, expect, it } from "vitest";
import {
  RENAMED_SETTINGS_PAGES,
  resolveSettingsPath,
  SETTINGS_PAGES,
  settingsItemPath,
  settingsNav,
} from "../../web/src/settings-nav.js";
import { UI_PERMISSIONS, type UiPermission } from "../../web/src/ui-permissions.js";

// The built-in roles' grants that decide what the sidebar lists (src/roles/permissions.ts: Monitor
// reads the account, members, teams and roles; Root has everything).
const MONITOR = new Set<UiPermission>(["account:read", "members:read", "teams:read", "roles:read"]);
const ROOT = new Set<UiPermission>(UI_PERMISSIONS);

const sidebar = (granted: ReadonlySet<UiPermission>, securityOnly = false) =>
  settingsNav({ can: (permission) => granted.has(permission), securityOnly }).map((group) => [
    group.label,
    group.pages.map((page) => page.label),
  ]);

describe("the settings sidebar", () => {
  it("lists every page, grouped Personal, Account and Billing, for Root", () => {
    expect(sidebar(ROOT)).toEqual([
      ["Personal", ["Profile", "Security", "Preferences", "Notifications"]],
      [
        "Account",
        [
          "Overview",
          "Members",
          "Teams",
          "Roles",
          "User assignments",
          "API keys",
          "Webhooks",
          "Connected apps",
          "Audit log",
          "Security policy",
          "Organization",
          "Branding",
          "Domains",
          "Data",
        ],
      ],
      ["Billing", ["Billing"]],
    ]);
  });

  it("lists only what a Monitor may open, and leaves out the empty Billing group", () => {
    expect(sidebar(MONITOR)).toEqual([
      ["Personal", ["Profile", "Security", "Preferences", "Notifications"]],
      [
        "Account",
        ["Overview", "Members", "Teams", "Roles", "User assignments", "Organization", "Branding", "Domains"],
      ],
    ]);
  });

  it("lists API keys and Webhooks for a Developer (api_keys:manage, webhooks:manage), not for a Monitor", () => {
    const developer = new Set<UiPermission>([...MONITOR, "api_keys:manage", "webhooks:manage"]);
    expect(sidebar(developer)).toEqual([
      ["Personal", ["Profile", "Security", "Preferences", "Notifications"]],
      [
        "Account",
        [
          "Overview",
          "Members",
          "Teams",
          "Roles",
          "User assignments",
          "API keys",
          "Webhooks",
          "Organization",
          "Branding",
          "Domains",
        ],
      ],
    ]);
  });

  it("lists the personal pages alone while permissions are unknown or none are granted", () => {
    expect(sidebar(new Set())).toEqual([
      ["Personal", ["Profile", "Security", "Preferences", "Notifications"]],
    ]);
  });

  it("lists Security alone while a password change or a second factor is due, whatever the role", () => {
    expect(sidebar(ROOT, true)).toEqual([["Personal", ["Security"]]]);
  });

  it.each([
    ["security:read", "Security policy"],
    ["account:read", "Organization"],
    ["account:read", "Branding"],
    ["account:read", "Domains"],
    ["audit:read", "Audit log"],
    ["billing:read", "Billing"],
    ["api_keys:manage", "API keys"],
    ["webhooks:manage", "Webhooks"],
    ["security:read", "Connected apps"],
  ] as const)("shows the page that needs %s only with it", (permission, label) => {
    const labels = (granted: Set<UiPermission>) => sidebar(granted).flatMap(([, pages]) => pages);
    expect(labels(new Set([permission]))).toContain(label);
    expect(labels(new Set(UI_PERMISSIONS.filter((p) => p !== permission)))).not.toContain(label);
  });

  it("lists People (after Members) only for someone who reads members in two accounts or more", () => {
    const labels = (severalAccounts: boolean | undefined, granted: ReadonlySet<UiPermission> = ROOT) =>
      settingsNav({
        can: (permission) => granted.has(permission),
        securityOnly: false,
        severalAccounts,
      }).flatMap((group) => group.pages.map((page) => page.label));
    expect(labels(undefined)).not.toContain("People");
    expect(labels(false)).not.toContain("People");
    expect(labels(true).slice(5, 7)).toEqual(["Members", "People"]);
    // It is about the other accounts too: a role without members:read here does not hide it.
    expect(labels(true, new Set())).toContain("People");
    expect(
      settingsNav({ can: () => true, securityOnly: true, severalAccounts: true }).flatMap((g) => g.pages),
    ).toHaveLength(1);
  });

  it("gives every page a distinct /settings/<key> address", () => {
    const paths = SETTINGS_PAGES.map((page) => page.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const page of SETTINGS_PAGES) expect(page.path).toBe(`/settings/${page.key}`);
  });
});

describe("settings addresses", () => {
  it.each(SETTINGS_PAGES.map((page) => [page.path, page.key]))("%s opens the %s page", (path, key) => {
    expect(resolveSettingsPath(path)).toMatchObject({ kind: "page", page: { key }, itemId: null });
    expect(resolveSettingsPath(`${path}/`)).toMatchObject({ kind: "page", page: { key } });
  });

  it.each([
    ["/settings/general", "/settings/preferences"],
    ["/settings/users", "/settings/members"],
    ["/settings/account", "/settings/organization"],
    ["/settings/audit", "/settings/audit-log"],
    ["/settings/users/usr_123", "/settings/members/usr_123"],
  ])("the old address %s goes to %s", (old, to) => {
    expect(resolveSettingsPath(old)).toEqual({ kind: "redirect", to });
  });

  it("keeps the query and fragment across a redirect", () => {
    expect(resolveSettingsPath("/settings/users", "?status=pending#invitations")).toEqual({
      kind: "redirect",
      to: "/settings/members?status=pending#invitations",
    });
  });

  it("keeps the addresses mails link to: Security and Billing are still where they were", () => {
    for (const path of ["/settings/security", "/settings/billing", "/settings/profile"]) {
      expect(resolveSettingsPath(path).kind).toBe("page");
    }
    // Every renamed page points at a page that exists.
    for (const key of Object.values(RENAMED_SETTINGS_PAGES)) {
      expect(SETTINGS_PAGES.some((page) => page.key === key)).toBe(true);
    }
  });

  it.each([
    ["/settings/members/usr_8f3k2", "members", "usr_8f3k2"],
    ["/settings/teams/team_42", "teams", "team_42"],
    ["/settings/roles/role_custom-1", "roles", "role_custom-1"],
    ["/settings/billing/invoices/inv_2025_01", "billing", "inv_2025_01"],
  ])("the deep link %s opens %s at item %s", (path, key, itemId) => {
    expect(resolveSettingsPath(path)).toMatchObject({ kind: "page", page: { key }, itemId });
  });

  it("builds the deep links it reads", () => {
    expect(settingsItemPath("members", "usr_1")).toBe("/settings/members/usr_1");
    expect(settingsItemPath("api-keys", "key_1")).toBe("/settings/api-keys/key_1");
    expect(settingsItemPath("webhooks", "wh_1")).toBe("/settings/webhooks/wh_1");
    expect(settingsItemPath("billing", "inv_1")).toBe("/settings/billing/invoices/inv_1");
    expect(resolveSettingsPath(settingsItemPath("teams", "team_9"))).toMatchObject({
      page: { key: "teams" },
      itemId: "team_9",
    });
    expect(() => settingsItemPath("profile", "x")).toThrow();
  });

  it.each([
    "/settings/nowhere",
    "/settings/profile/usr_1", // the profile has no items
    "/settings/billing/inv_1", // invoices live under /invoices/
    "/settings/billing/invoices/",
    "/settings/members/usr_1/extra",
    "/settings/members/a%20b",
    "/settings/members/%E0%A4%A",
    `/settings/teams/${"t".repeat(101)}`,
    "/profile",
  ])("%s is not a settings page", (path) => {
    expect(resolveSettingsPath(path)).toEqual({ kind: "not-found" });
  });
});
