import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDemoAccount, DEMO_ROOT, type DemoAccount } from "../../src/testing/demo.js";
import { createTestApp, type TestApp } from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

/**
 * axe on every page the sidebar offers a Root (read from the sidebar itself, so a new page is checked
 * the day it appears), on the signed-out pages and on the main dialogs, in the light and the dark theme
 * and on a phone; then a keyboard-only journey through the member lifecycle.
 */

const SIGNED_OUT = [
  "/login",
  "/signup",
  "/forgot-password",
  "/reset-password?token=not-a-real-token",
  "/verify-email?token=not-a-real-token",
  "/accept-invitation?token=not-a-real-token",
  "/no-such-page",
];

type Opener = { page: string; name: string; open: (page: Page, demo: DemoAccount) => Promise<void> };

const click = (selector: string) => async (page: Page) => {
  await page.locator(selector).first().click();
};
const memberAction = (action: string) => async (page: Page, demo: DemoAccount) => {
  await page
    .locator(`[data-testid="member-row"][data-user-id="${demo.memberId}"] [data-testid="member-menu"]`)
    .click();
  await page.click(`[data-testid="member-action-${action}"]`);
};

const DIALOGS: Opener[] = [
  { page: "/settings/members", name: "invite", open: click('[data-testid="invite-open"]') },
  { page: "/settings/members", name: "change role", open: memberAction("change-role") },
  { page: "/settings/members", name: "suspend", open: memberAction("suspend") },
  { page: "/settings/teams", name: "create team", open: click('[data-testid="team-create"]') },
  { page: "/settings/teams", name: "delete team", open: click('[data-testid="team-delete"]') },
  { page: "/settings/roles", name: "create role", open: click('[data-testid="role-create"]') },
  { page: "/settings/api-keys", name: "create API key", open: click('[data-testid="api-key-create"]') },
  { page: "/settings/api-keys", name: "revoke API key", open: click('[data-testid="api-key-revoke"]') },
  {
    page: "/settings/api-keys/{apiKeyId}",
    name: "rotate API key",
    open: click('[data-testid="api-key-rotate"]'),
  },
  {
    page: "/settings/api-keys/{apiKeyId}",
    name: "edit API key",
    open: click('[data-testid="api-key-edit"]'),
  },
  { page: "/settings/webhooks", name: "add webhook endpoint", open: click('[data-testid="webhook-create"]') },
  {
    page: "/settings/webhooks/{webhookId}",
    name: "edit webhook endpoint",
    open: click('[data-testid="webhook-edit"]'),
  },
  {
    page: "/settings/webhooks/{webhookId}",
    name: "rotate webhook secret",
    open: click('[data-testid="webhook-rotate"]'),
  },
  {
    page: "/settings/webhooks/{webhookId}",
    name: "delete webhook endpoint",
    open: click('[data-testid="webhook-delete"]'),
  },
  {
    page: "/settings/billing",
    name: "add payment method",
    open: click('[data-testid="payment-method-add"]'),
  },
  { page: "/settings/billing", name: "cancel subscription", open: click('[data-testid="billing-cancel"]') },
  { page: "/settings/profile", name: "change email", open: click('[data-testid="change-email"]') },
  {
    page: "/settings/security",
    name: "sign out other sessions",
    open: click('[data-testid="revoke-others"]'),
  },
];

describe("accessibility in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let demo: DemoAccount;
  let webhookId: string;

  beforeAll(async () => {
    // The demo endpoint points at this machine: private networks are allowed for it.
    t = await createTestApp("sqlite", { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    demo = await createDemoAccount(t);
    // A webhook endpoint, so its page and dialogs have something to show (needs the webhooks API).
    const webhook = await demo.root.client.post(`/api/v1/accounts/${demo.accountId}/webhooks`, {
      url: "http://127.0.0.1:9/gatehouse",
      events: ["member.invited", "member.joined"],
      description: "CRM sync",
    });
    if (webhook.statusCode !== 201)
      throw new Error(`webhook setup: ${webhook.statusCode} ${webhook.payload}`);
    webhookId = webhook.body.id as string;
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(options: { colorScheme: "light" | "dark"; width: number; height: number }) {
    const context = await browser.newContext({
      viewport: { width: options.width, height: options.height },
      colorScheme: options.colorScheme,
    });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', DEMO_ROOT.email);
    await page.fill('input[name="password"]', DEMO_ROOT.password);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);
    return { context, page };
  }

  /** A page is shown once its skeletons have given way to content. */
  async function settle(page: Page) {
    await page.waitForLoadState("networkidle");
    await page.locator(".skeleton").first().waitFor({ state: "detached" });
  }

  for (const colorScheme of ["light", "dark"] as const) {
    it(`has no serious or critical violations on the signed-out pages (${colorScheme})`, async () => {
      const context = await browser.newContext({ colorScheme });
      const page = await context.newPage();
      for (const path of SIGNED_OUT) {
        await page.goto(`${base}${path}`);
        await settle(page);
        await expectAccessible(page, `${path} (${colorScheme})`);
      }
      await context.close();
    });

    it(`has no serious or critical violations on any page the sidebar offers (${colorScheme})`, async () => {
      const { context, page } = await signedIn({ colorScheme, width: 1280, height: 800 });
      await settle(page);
      const paths = await page
        .locator('.shell-sidebar nav[aria-label="Settings sections"] a')
        .evaluateAll((links) =>
          links.map((link) => new URL((link as unknown as { href: string }).href).pathname),
        );
      // Every page the sidebar lists for a Root today, so a page dropped from the list is noticed too.
      expect(paths).toEqual(
        expect.arrayContaining([
          "/settings/profile",
          "/settings/security",
          "/settings/preferences",
          "/settings/notifications",
          "/settings/overview",
          "/settings/members",
          "/settings/teams",
          "/settings/roles",
          "/settings/assignments",
          "/settings/api-keys",
          "/settings/webhooks",
          "/settings/audit-log",
          "/settings/security-policy",
          "/settings/organization",
          "/settings/branding",
          "/settings/domains",
          "/settings/billing",
        ]),
      );
      for (const path of [
        ...paths,
        `/settings/members/${demo.memberId}`,
        `/settings/teams/${demo.teamId}`,
        `/settings/api-keys/${demo.apiKeyId}`,
        `/settings/webhooks/${webhookId}`,
      ]) {
        await page.goto(`${base}${path}`);
        await settle(page);
        await expectAccessible(page, `${path} (${colorScheme})`);
      }
      await context.close();
    }, 300_000);

    it(`has no serious or critical violations in the dialogs and the notification panel (${colorScheme})`, async () => {
      const { context, page } = await signedIn({ colorScheme, width: 1280, height: 800 });
      for (const dialog of DIALOGS) {
        await page.goto(
          `${base}${dialog.page.replace("{apiKeyId}", demo.apiKeyId).replace("{webhookId}", webhookId)}`,
        );
        await settle(page);
        await dialog.open(page, demo);
        await expectDialogInViewport(page);
        await expectAccessible(page, `${dialog.name} dialog on ${dialog.page} (${colorScheme})`);
        await page.keyboard.press("Escape");
        await page.locator("dialog[open]").waitFor({ state: "detached" });
      }
      // The notification bell's panel (a popover, not a modal): open, checked, closed with Escape.
      await page.goto(`${base}/settings/profile`);
      await settle(page);
      await page.click('[data-testid="notification-bell"]');
      await page.locator('[data-testid="notification-panel"]').waitFor();
      await expectAccessible(page, `the notification panel (${colorScheme})`);
      await page.keyboard.press("Escape");
      await page.locator('[data-testid="notification-panel"]').waitFor({ state: "detached" });
      await context.close();
    }, 300_000);
  }

  it("has no serious or critical violations on a phone, with the navigation drawer open", async () => {
    const { context, page } = await signedIn({ colorScheme: "light", width: 390, height: 844 });
    for (const path of ["/settings/members", "/settings/billing", "/settings/notifications"]) {
      await page.goto(`${base}${path}`);
      await settle(page);
      await expectAccessible(page, `${path} on a phone`);
    }
    await page.click('[data-testid="nav-open"]');
    await page.locator('[data-testid="nav-drawer"]').waitFor();
    await expectAccessible(page, "the navigation drawer");
    await context.close();
  });

  const focused = (target: Locator) =>
    target.evaluate((element) => element === element.ownerDocument.activeElement).catch(() => false);

  /** Presses ArrowDown until `target` has the focus (menus move focus with the arrow keys). */
  async function arrowTo(page: Page, target: Locator, limit = 15) {
    await target.waitFor();
    for (let i = 0; i < limit; i++) {
      if (await focused(target)) return;
      await page.keyboard.press("ArrowDown");
    }
    throw new Error(`could not reach ${target} with the arrow keys`);
  }

  /** Presses Tab until `target` has the focus (at most `limit` times): it is reachable by keyboard. */
  async function tabTo(page: Page, target: Locator, limit = 160) {
    for (let i = 0; i < limit; i++) {
      if (await focused(target)) return;
      await page.keyboard.press("Tab");
    }
    throw new Error(`could not reach ${target} with Tab`);
  }

  it("invites, changes a role, suspends and reactivates a member with the keyboard alone", async () => {
    const { context, page } = await signedIn({ colorScheme: "light", width: 1280, height: 800 });
    await page.goto(`${base}/settings/members`);
    await settle(page);

    // Invite: open the dialog, type the address, choose a role with the arrow keys; on a paid plan
    // the first press of the button shows the cost, the second sends.
    await tabTo(page, page.locator('[data-testid="invite-open"]'));
    await page.keyboard.press("Enter");
    const invite = page.locator("dialog[open]");
    await tabTo(page, invite.locator('textarea[name="emails"]'));
    await page.keyboard.type("keyboard.only@northwind.example");
    await tabTo(page, invite.locator('select[name="role_id"]'));
    await page.keyboard.press("ArrowDown");
    const submit = invite.locator('[data-testid="invite-submit"]');
    await tabTo(page, submit);
    await page.keyboard.press("Enter");
    await invite.locator('[data-testid="invite-quote"]').waitFor();
    await tabTo(page, submit);
    await page.keyboard.press("Enter");
    await invite.locator('[data-testid="invite-result"]').waitFor();
    await page.keyboard.press("Escape");
    await expect
      .poll(() =>
        page.locator('[data-testid="member-row"][data-email="keyboard.only@northwind.example"]').count(),
      )
      .toBe(1);

    // Change an existing member's role from their row's menu (a menu moves focus with the arrow keys).
    const row = page.locator(`[data-testid="member-row"][data-user-id="${demo.memberId}"]`);
    const role = row.locator('td[data-label="Role"]');
    const roleBefore = await role.textContent();
    const openMenuItem = async (testId: string) => {
      await tabTo(page, row.locator('[data-testid="member-menu"]'));
      await page.keyboard.press("Enter");
      await arrowTo(page, page.locator(`[data-testid="${testId}"]`));
      await page.keyboard.press("Enter");
      return page.locator("dialog[open]");
    };
    const roleDialog = await openMenuItem("member-action-change-role");
    await tabTo(page, roleDialog.locator('select[name="role_id"]'));
    await page.keyboard.press("ArrowDown");
    await tabTo(page, roleDialog.locator('[data-testid="confirm"]'));
    await page.keyboard.press("Enter");
    await roleDialog.waitFor({ state: "detached" });
    await expect.poll(() => role.textContent()).not.toBe(roleBefore);

    // Suspend after confirming, then reactivate from the toast's action.
    const confirm = await openMenuItem("member-action-suspend");
    await tabTo(page, confirm.locator('[data-testid="confirm"]'));
    await page.keyboard.press("Enter");
    await expect.poll(() => row.getAttribute("data-status")).toBe("suspended");
    await tabTo(page, page.locator('[data-testid="toast-action"]', { hasText: "Reactivate" }), 300);
    await page.keyboard.press("Enter");
    await expect.poll(() => row.getAttribute("data-status")).toBe("active");
    await context.close();
  });
});
