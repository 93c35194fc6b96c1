import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpVerified, type TestApp, tokenOf } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

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
  const confirmDialog = () => admin.locator('[data-testid="confirm-dialog"]');
  const toast = (text: RegExp) => admin.locator('[data-testid="toast"]', { hasText: text });

  it("invites two people, one accepts by mail; the admin changes her role, suspends, reactivates and removes her", async () => {
    await logIn(admin, "admin@acme.example", ADMIN_PASSWORD);
    await admin.waitForURL(/\/settings\/(overview|profile)$/);
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
    // Pending invitations are listed once: as rows of the member list, not again in a table of their own.
    expect(await admin.locator('[data-testid="invitation-row"]').count()).toBe(0);
    expect(await admin.locator('[data-testid="member-row"][data-status="pending"]').count()).toBe(2);
    expect(await admin.textContent('[data-testid="member-counts"]')).toBe(
      "1 active member · 2 invitations pending",
    );
    await admin.selectOption('select[name="status"]', "pending");
    await expect.poll(() => admin.locator('[data-testid="member-row"]').count()).toBe(2);
    await admin.selectOption('select[name="status"]', "");
    await expect.poll(() => admin.locator('[data-testid="member-row"]').count()).toBe(3);

    // Your own row offers nothing the server would refuse: no menu, no checkbox for bulk removal.
    const self = row("admin@acme.example");
    expect(await self.getAttribute("data-self")).toBe("true");
    expect(await self.locator('[data-testid="member-menu"]').count()).toBe(0);
    expect(await self.locator('[data-testid="member-select"]').count()).toBe(0);
    expect(await self.locator('[data-testid="member-mfa"]').getAttribute("data-enabled")).toBe("false");

    // Maya accepts through the mailed link and lands logged in.
    const token = tokenOf(await t.linkFor("maya@acme.example", /invited to join Acme/));
    await maya.goto(`${base}/accept-invitation?token=${token}`);
    await maya.fill('input[name="first_name"]', "Maya");
    await maya.fill('input[name="last_name"]', "Patel");
    await maya.fill('input[name="password"]', MAYA_PASSWORD);
    await maya.fill('input[name="confirm_password"]', MAYA_PASSWORD);
    await maya.click('[data-testid="accept-submit"]');
    await maya.waitForURL(/\/settings\/(overview|profile)$/);
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
    await maya.waitForURL(/\/settings\/(overview|profile)$/);

    // The admin makes her a Developer.
    await admin.reload();
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("active");
    await memberAction("maya@acme.example", "change-role");
    const developer = await admin
      .locator('[data-testid="role-select"] option', { hasText: "Developer" })
      .getAttribute("value");
    await expectDialogInViewport(admin);
    await admin.selectOption('[data-testid="role-select"]', developer as string);
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => row("maya@acme.example").textContent()).toMatch(/Developer/);
    // She has no second factor: her menu has no two-factor actions.
    await row("maya@acme.example").locator('[data-testid="member-menu"]').click();
    await admin.waitForSelector('[data-testid="member-action-suspend"]');
    expect(
      await admin
        .locator('[data-testid^="member-action-"]')
        .evaluateAll((items) => items.map((i) => i.getAttribute("data-testid"))),
    ).toEqual([
      "member-action-change-role",
      "member-action-suspend",
      "member-action-logout",
      "member-action-force-reset",
      "member-action-remove",
    ]);
    await admin.keyboard.press("Escape");

    // Logging out everywhere asks first, with a specific verb; keeping things as they are changes nothing.
    await memberAction("maya@acme.example", "logout");
    await expectDialogInViewport(admin);
    expect(await confirmDialog().locator("h2").textContent()).toBe("Log Maya Patel out everywhere?");
    expect(await admin.textContent('[data-testid="confirm"]')).toBe("Log Maya out");
    await admin.click('[data-testid="dismiss"]');
    expect(await maya.evaluate(() => fetch("/api/v1/me").then((r) => r.status))).toBe(200);

    // Suspended after a confirmation: her session ends and she cannot log in.
    await memberAction("maya@acme.example", "suspend");
    await expectDialogInViewport(admin);
    expect(await confirmDialog().locator("h2").textContent()).toBe("Suspend Maya Patel?");
    expect(await admin.textContent('[data-testid="confirm"]')).toBe("Suspend Maya");
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("suspended");
    // The toast offers the opposite action; resting the pointer on it keeps it while we check on Maya.
    const suspended = toast(/Maya Patel is suspended/);
    await suspended.hover();
    expect(await suspended.locator('[data-testid="toast-action"]').textContent()).toBe("Reactivate");
    expect(await maya.evaluate(() => fetch("/api/v1/me").then((r) => r.status))).toBe(401);
    await logIn(maya, "maya@acme.example", MAYA_PASSWORD);
    await maya.waitForSelector('[data-testid="login-error"]');
    expect(await maya.textContent('[data-testid="login-error"]')).toMatch(/suspend/i);

    // Reactivated from the toast: she can log in again.
    await suspended.locator('[data-testid="toast-action"]').click();
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("active");
    await toast(/Maya Patel is active again/).waitFor();
    await logIn(maya, "maya@acme.example", MAYA_PASSWORD);
    await maya.waitForURL(/\/settings\/(overview|profile)$/);

    // She turns her own login off: she shows as deactivated, counted apart from the active members.
    await maya.goto(`${base}/settings/security`);
    await maya.click('[data-testid="deactivate-open"]');
    await maya.fill('[data-testid="deactivate-dialog"] input[name="password"]', MAYA_PASSWORD);
    await maya.click('[data-testid="deactivate-confirm"]');
    await maya.waitForURL(/\/login/);
    await admin.reload();
    await expect.poll(() => row("maya@acme.example").getAttribute("data-status")).toBe("deactivated");
    expect(await row("maya@acme.example").textContent()).toMatch(/Deactivated/);
    const count = (key: string) => admin.getAttribute(`[data-testid="counts-${key}"]`, "data-count");
    // "Active" is active members only: Ada; Noah's invitation is counted as pending.
    expect([await count("active"), await count("deactivated"), await count("pending")]).toEqual([
      "1",
      "1",
      "1",
    ]);
    expect(await admin.textContent('[data-testid="member-counts"]')).toBe(
      "1 active member · 1 deactivated · 1 invitation pending",
    );
    await admin.selectOption('select[name="status"]', "deactivated");
    await expect.poll(() => admin.locator('[data-testid="member-row"]').count()).toBe(1);
    expect(await row("maya@acme.example").count()).toBe(1);
    await admin.selectOption('select[name="status"]', "");
    await expect.poll(() => row("noah@acme.example").count()).toBe(1);

    // Removed, on a phone: the dialog opened from the row fits the screen, title and all. She is gone
    // from the list, and her session ends.
    await admin.setViewportSize({ width: 390, height: 844 });
    await memberAction("maya@acme.example", "remove");
    await expectDialogInViewport(admin);
    expect(await confirmDialog().locator("h2").textContent()).toBe("Remove Maya Patel?");
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => row("maya@acme.example").count()).toBe(0);
    expect(await maya.evaluate(() => fetch("/api/v1/me").then((r) => r.status))).toBe(401);
    expect(await row("noah@acme.example").getAttribute("data-status")).toBe("pending");
    await admin.setViewportSize({ width: 1280, height: 720 });

    // Noah's pending row re-sends (past the once-a-minute limit) and revokes his invitation.
    t.services.clock.advance(61);
    const mailsBefore = t.mails.length;
    await memberAction("noah@acme.example", "resend");
    await toast(/Sent a new invitation link to noah@acme\.example/).waitFor();
    expect(t.mails.slice(mailsBefore).some((m) => m.to === "noah@acme.example")).toBe(true);
    await memberAction("noah@acme.example", "revoke");
    await expectDialogInViewport(admin);
    expect(await admin.textContent('[data-testid="confirm"]')).toBe("Revoke invitation");
    expect(await admin.textContent('[data-testid="dismiss"]')).toBe("Keep invitation");
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => row("noah@acme.example").count()).toBe(0);
    // Revoking killed his link: the toast offers no undo.
    const revoked = toast(/Revoked the invitation to noah@acme\.example/);
    await revoked.waitFor();
    expect(await revoked.locator('[data-testid="toast-action"]').count()).toBe(0);

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
        "invitation.revoked",
      ]),
    );
  });
});
