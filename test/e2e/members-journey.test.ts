import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpVerified, type TestApp, tokenOf } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const ADMIN_PASSWORD = "violet-Harbor-sunrise-42";
const MAYA_PASSWORD = "Maple-Orbit-Lantern-31";

describe("members journey in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let adminContext: BrowserContext;
  let mayaContext: BrowserContext;
  let admin: Page;
  let maya: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    adminContext = await browser.newContext();
    mayaContext = await browser.newContext();
    admin = await adminContext.newPage();
    maya = await mayaContext.newPage();
    // The admin's account, made through the API (the sign-up page has its own journey test).
    await signUpVerified(t, {
      email: "admin@acme.example",
      password: ADMIN_PASSWORD,
      name: "Ada Admin",
      account: "Acme",
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const logIn = async (page: Page, email: string, password: string) => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
  };
  const row = (email: string) => admin.locator(`[data-testid="member-row"][data-email="${email}"]`);
  const memberAction = async (email: string, action: string) => {
    await row(email).locator('[data-testid="member-menu"]').click();
    await admin.click(`[data-testid="member-action-${action}"]`);
  };

  it("invites two people, one accepts by mail; the admin changes her role, suspends, reactivates and removes her", async () => {
    await logIn(admin, "admin@acme.example", ADMIN_PASSWORD);
    await admin.waitForURL(/\/settings\/profile$/);
    await admin.goto(`${base}/settings/users`);

    // Invite two people as Monitors.
    await admin.click('[data-testid="invite-open"]');
    await admin.fill('textarea[name="emails"]', "maya@acme.example, noah@acme.example");
    const roleSelect = admin.locator('[role="dialog"] select[name="role_id"]');
    const monitor = await roleSelect.locator("option", { hasText: "Monitor" }).getAttribute("value");
    await roleSelect.selectOption(monitor as string);
    await admin.click('[data-testid="invite-submit"]');
    await expect.poll(() => admin.locator('[data-testid="invite-result"][data-ok="true"]').count()).toBe(2);
    await admin.keyboard.press("Escape");
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("pending");
    expect(await row("noah@acme.example").getAttribute("data-status")).toBe("pending");

    // Maya accepts through the mailed link and lands logged in.
    const token = tokenOf(await t.linkFor("maya@acme.example", /invited to join Acme/));
    await maya.goto(`${base}/accept-invitation?token=${token}`);
    await maya.fill('input[name="first_name"]', "Maya");
    await maya.fill('input[name="last_name"]', "Patel");
    await maya.fill('input[name="password"]', MAYA_PASSWORD);
    await maya.fill('input[name="confirm_password"]', MAYA_PASSWORD);
    await maya.click('[data-testid="accept-submit"]');
    await maya.waitForURL(/\/settings\/profile$/);
    const mayaMe = (await maya.evaluate(() => fetch("/api/v1/me").then((r) => r.json()))) as {
      memberships: Array<{ account_name: string; role: { key: string } }>;
    };
    expect(mayaMe.memberships[0]).toMatchObject({ account_name: "Acme", role: { key: "monitor" } });
    // She can log in with her new password too.
    await maya.evaluate(() =>
      fetch("/api/v1/session")
        .then((r) => r.json() as Promise<{ csrf_token: string }>)
        .then((s) =>
          fetch("/api/v1/auth/logout", { method: "POST", headers: { "x-csrf-token": s.csrf_token } }),
        ),
    );
    await logIn(maya, "maya@acme.example", MAYA_PASSWORD);
    await maya.waitForURL(/\/settings\/profile$/);

    // The admin makes her a Developer.
    await admin.reload();
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("active");
    await memberAction("maya@acme.example", "change-role");
    const developer = await admin
      .locator('[data-testid="role-select"] option', { hasText: "Developer" })
      .getAttribute("value");
    await admin.selectOption('[data-testid="role-select"]', developer as string);
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => row("maya@acme.example").textContent()).toMatch(/Developer/);

    // Suspended: her session ends and she cannot log in.
    await memberAction("maya@acme.example", "suspend");
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("suspended");
    expect(await maya.evaluate(() => fetch("/api/v1/me").then((r) => r.status))).toBe(401);
    await logIn(maya, "maya@acme.example", MAYA_PASSWORD);
    await maya.waitForSelector('[data-testid="login-error"]');
    expect(await maya.textContent('[data-testid="login-error"]')).toMatch(/suspend/i);

    // Reactivated: she can log in again.
    await memberAction("maya@acme.example", "reactivate");
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("active");
    await logIn(maya, "maya@acme.example", MAYA_PASSWORD);
    await maya.waitForURL(/\/settings\/profile$/);

    // Removed: gone from the list, and her session ends.
    await memberAction("maya@acme.example", "remove");
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => row("maya@acme.example").count()).toBe(0);
    expect(await maya.evaluate(() => fetch("/api/v1/me").then((r) => r.status))).toBe(401);
    expect(await row("noah@acme.example").getAttribute("data-status")).toBe("pending");

    // Every step is in the audit log page.
    await admin.goto(`${base}/settings/audit`);
    await expect.poll(() => admin.locator('[data-testid="audit-row"]').count()).toBeGreaterThan(5);
    const actions = await admin
      .locator('[data-testid="audit-row"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")));
    expect(actions).toEqual(
      expect.arrayContaining([
        "invitation.created",
        "invitation.accepted",
        "member.role_changed",
        "member.suspended",
        "member.reactivated",
        "member.removed",
      ]),
    );
  });
});
