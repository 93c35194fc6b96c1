import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createTestApp,
  signUpAndLogin,
  type TestApp,
} from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const ROOT_EMAIL = "root@shell.example";
const MONITOR_EMAIL = "monitor@shell.example";

describe("the web app's shell in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let root: { client: Client; accountId: string; password: string; userId: string };
  let monitor: { userId: string; password: string };
  let teamId: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    root = await signUpAndLogin(t, { email: ROOT_EMAIL, name: "Rita Root", account: "Shell Co" });
    monitor = await addMember(t, root, { email: MONITOR_EMAIL, roleKey: "monitor", firstName: "Mo" });
    const team = await root.client.post(`/api/v1/accounts/${root.accountId}/teams`, { name: "Platform" });
    teamId = team.body.id;
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(email: string, password: string, viewport = { width: 1280, height: 800 }) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await logIn(page, email, password);
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    return { context, page };
  }
  async function logIn(page: Page, email: string, password: string) {
    if (!page.url().includes("/login")) await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
  }
  const sidebar = (page: Page) => page.locator('.shell-sidebar nav[aria-label="Settings sections"]');
  const sidebarLabels = async (page: Page) => {
    await page.waitForSelector('[data-testid="nav-pending"]', { state: "detached" });
    return sidebar(page)
      .locator(".nav-group")
      .evaluateAll((groups) =>
        groups.map((group) => [
          group.querySelector(".nav-group-label")?.textContent,
          [...group.querySelectorAll("a")].map((link) => link.textContent),
        ]),
      );
  };

  it("shows the log-in page with no error in the console: the session is asked quietly", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
    });
    page.on("requestfailed", (request) => {
      // Leaving a page cancels what it was still loading (the icon): that is no failure.
      if (request.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`failed: ${request.url()}`);
    });

    await page.goto(`${base}/login`);
    await page.waitForSelector('input[name="email"]');
    // A settings address, signed out: to the log-in page, still quietly.
    await page.goto(`${base}/settings/members`);
    await page.waitForURL(/\/login\?next=%2Fsettings%2Fmembers$/);
    await page.waitForSelector('input[name="email"]');
    expect(problems).toEqual([]);
    await context.close();
  });

  it("lists every page for Root and only the permitted ones for a Monitor", async () => {
    const asRoot = await signedIn(ROOT_EMAIL, root.password);
    expect(await sidebarLabels(asRoot.page)).toEqual([
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
    await asRoot.context.close();

    const asMonitor = await signedIn(MONITOR_EMAIL, monitor.password);
    expect(await sidebarLabels(asMonitor.page)).toEqual([
      ["Personal", ["Profile", "Security", "Preferences", "Notifications"]],
      [
        "Account",
        ["Overview", "Members", "Teams", "Roles", "User assignments", "Organization", "Branding", "Domains"],
      ],
    ]);
    // A page the sidebar leaves out says why, when its address is typed in.
    await asMonitor.page.goto(`${base}/settings/billing`);
    await asMonitor.page.waitForSelector('[data-testid="no-access"]');
    await asMonitor.context.close();
  });

  it("moves between pages from the sidebar and the avatar menu; the page fits a wide table at 1280 px", async () => {
    const { context, page } = await signedIn(ROOT_EMAIL, root.password);
    await sidebar(page).getByRole("link", { name: "Teams" }).click();
    await page.waitForURL(/\/settings\/teams$/);
    expect(await page.textContent("h1")).toBe("Teams");
    expect(await sidebar(page).locator('[aria-current="page"]').textContent()).toBe("Teams");
    expect(await page.title()).toBe("Teams · Gatehouse");

    await sidebar(page).getByRole("link", { name: "Members" }).click();
    await page.waitForURL(/\/settings\/members$/);
    await page.waitForSelector('[data-testid="member-row"]');
    const column = await page.locator(".shell-content").evaluate((element) => element.clientWidth);
    expect(column).toBeGreaterThanOrEqual(960);

    await page.click('[data-testid="user-menu"]');
    expect(await page.textContent(".menu-heading")).toContain(ROOT_EMAIL);
    await page.getByRole("menuitem", { name: "Preferences" }).click();
    await page.waitForURL(/\/settings\/preferences$/);
    await page.waitForSelector('select[name="theme"]');

    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
    await context.close();
  });

  it("sends the old addresses to the renamed pages", async () => {
    const { context, page } = await signedIn(ROOT_EMAIL, root.password);
    for (const [old, now, heading] of [
      ["/settings/users?status=active", "/settings/members?status=active", "Members"],
      ["/settings/general", "/settings/preferences", "Preferences"],
      ["/settings/account", "/settings/organization", "Organization"],
      ["/settings/audit", "/settings/audit-log", "Audit log"],
    ] as const) {
      await page.goto(`${base}${old}`);
      await page.waitForURL(`${base}${now}`);
      expect(await page.textContent("h1")).toBe(heading);
    }
    await page.goto(`${base}/settings/nowhere`);
    await page.getByRole("heading", { name: /not found/i }).waitFor();
    await context.close();
  });

  it("lands a deep link on its item: a member, a team, a role, and through the log-in page", async () => {
    const { context, page } = await signedIn(ROOT_EMAIL, root.password);
    await page.goto(`${base}/settings/members/${monitor.userId}`);
    // A member's address opens their own page.
    await page.getByTestId("member-profile").getByText(MONITOR_EMAIL).first().waitFor();

    await page.goto(`${base}/settings/teams/${teamId}`);
    await page
      .locator(`[data-testid="team-row"][data-team-id="${teamId}"][data-highlighted="true"]`)
      .waitFor();
    expect(await page.locator('[data-highlighted="true"]').count()).toBe(1);

    const roles = await root.client.get(`/api/v1/accounts/${root.accountId}/roles`);
    const monitorRole = (roles.body.data as Array<{ id: string; key: string }>).find(
      (r) => r.key === "monitor",
    );
    await page.goto(`${base}/settings/roles/${monitorRole?.id}`);
    await page.locator(`[data-testid="role-row"][data-key="monitor"][data-highlighted="true"]`).waitFor();

    await page.goto(`${base}/settings/teams/team_gone`);
    await page.waitForSelector('[data-testid="linked-item-missing"]');

    // Signed out, as from a mail: log in, then the team.
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
    await page.goto(`${base}/settings/teams/${teamId}`);
    await page.waitForURL(/\/login\?next=/);
    await logIn(page, ROOT_EMAIL, root.password);
    await page.waitForURL(`${base}/settings/teams/${teamId}`);
    await page
      .locator(`[data-testid="team-row"][data-team-id="${teamId}"][data-highlighted="true"]`)
      .waitFor();
    await context.close();
  });

  it("on a phone, puts the sidebar in a drawer that opens and closes from the keyboard", async () => {
    const { context, page } = await signedIn(ROOT_EMAIL, root.password, { width: 390, height: 844 });
    const drawer = page.locator('[data-testid="nav-drawer"]');
    const toggle = page.locator('[data-testid="nav-open"]');
    expect(await page.locator(".shell-sidebar").isVisible()).toBe(false);
    expect(await drawer.isVisible()).toBe(false);

    await toggle.focus();
    await page.keyboard.press("Enter");
    await drawer.waitFor({ state: "visible" });
    // Strings: this file is compiled without the DOM's types.
    const focusInDrawer = () =>
      page.evaluate(`Boolean(document.activeElement?.closest('[data-testid="nav-drawer"]'))`);
    const focused = () =>
      page.evaluate("document.activeElement?.textContent || document.activeElement?.dataset.testid");
    expect(await focusInDrawer()).toBe(true);
    // The current page's link: a Root lands on the overview.
    expect(await focused()).toBe("Overview");
    // Focus stays inside however far one tabs.
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press("Tab");
      expect(await focusInDrawer()).toBe(true);
    }
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "hidden" });
    expect(await page.evaluate("document.activeElement?.dataset.testid")).toBe("nav-open");

    // Following a link closes it.
    await page.keyboard.press("Enter");
    await drawer.waitFor({ state: "visible" });
    await drawer.getByRole("link", { name: "Roles" }).press("Enter");
    await page.waitForURL(/\/settings\/roles$/);
    await drawer.waitFor({ state: "hidden" });
    expect(await page.textContent("h1")).toBe("Roles");
    await context.close();
  });
});
