import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../../src/mfa/totp.js";
import {
  addMember,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

// On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (as in CI).
describe.each(testDialects())("member detail journey in a real browser on %s", (dialect) => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let root: Awaited<ReturnType<typeof signUpAndLogin>>;
  let maya: Awaited<ReturnType<typeof addMember>>;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    root = await signUpAndLogin(t, { email: "ada@acme.example", name: "Ada Admin", account: "Acme" });
    maya = await addMember(t, root, { email: "maya@acme.example", firstName: "Maya" });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const logIn = async (page: Page, email: string) => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', STRONG_PASSWORD);
    await page.click('button[type="submit"]');
  };

  it("opens a member from the list, revokes a session, changes the role, suspends, reactivates and resets MFA", async () => {
    // Maya signs in from a second browser.
    const mayaContext = await browser.newContext();
    const mayaPage = await mayaContext.newPage();
    await logIn(mayaPage, "maya@acme.example");
    await mayaPage.waitForURL(/\/settings\//);
    const mayaStatus = () => mayaPage.evaluate(() => fetch("/api/v1/me").then((r) => r.status));
    expect(await mayaStatus()).toBe(200);
    // Then she turns on an authenticator app (through the API: the MFA pages have their own journey).
    const start = await maya.client.post("/api/v1/me/mfa/totp", { label: "Pixel" });
    const verified = await maya.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    expect(verified.statusCode, verified.payload).toBe(200);

    const context = await browser.newContext({ colorScheme: "light" });
    const admin = await context.newPage();
    await logIn(admin, "ada@acme.example");
    await admin.waitForURL(/\/settings\//);
    await admin.goto(`${base}/settings/members`);
    await admin.click(
      `[data-testid="member-row"][data-email="maya@acme.example"] [data-testid="member-link"]`,
    );
    await admin.waitForURL(new RegExp(`/settings/members/${maya.userId}$`));
    await admin.waitForSelector('[data-testid="member-profile"]');
    expect(await admin.textContent('[data-testid="member-detail-name"]')).toBe("Maya Person");
    expect(await admin.title()).toMatch(/^Maya Person · Members/);
    expect(await admin.getAttribute('[data-testid="member-detail-mfa"]', "data-enabled")).toBe("true");
    await admin.waitForSelector('[data-testid="member-session"]');
    await expect
      .poll(() => admin.locator('[data-testid="member-mfa-factors"]').textContent())
      .toBe("Authenticator app");
    expect(await admin.textContent('[data-testid="member-mfa-codes"]')).toBe("10 of 10");
    await admin.waitForSelector('[data-testid="member-login"]');
    await admin.waitForSelector('[data-testid="member-event"]');
    await expectAccessible(admin, "member detail (light)");

    // Her browser's session ends after a confirmation; the list updates and that browser is signed out.
    const sessions = admin.locator('[data-testid="member-session"]');
    const before = await sessions.count();
    expect(before).toBe(2);
    const browserSession = sessions.filter({ hasNotText: "Chrome 140 on Linux" });
    expect(await browserSession.count()).toBe(1);
    await browserSession.locator('[data-testid="member-session-revoke"]').click();
    await expectDialogInViewport(admin);
    await expectAccessible(admin, "end session dialog (light)");
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => sessions.count()).toBe(1);
    expect(await mayaStatus()).toBe(401);
    expect((await maya.client.get("/api/v1/me")).statusCode).toBe(200);
    await mayaContext.close();

    // Role change from the profile.
    await admin.click('[data-testid="member-detail-change-role"]');
    const developer = await admin
      .locator('[data-testid="role-select"] option', { hasText: "Developer" })
      .getAttribute("value");
    await admin.selectOption('[data-testid="role-select"]', developer as string);
    await admin.click('[data-testid="confirm"]');
    await expect.poll(() => admin.textContent('[data-testid="member-detail-role"]')).toBe("Developer");

    // Suspend (asks first), then reactivate.
    await admin.click('[data-testid="member-action-suspend"]');
    expect(await admin.locator('[data-testid="confirm-dialog"] h2').textContent()).toBe(
      "Suspend Maya Person?",
    );
    await admin.click('[data-testid="confirm"]');
    await expect
      .poll(() => admin.getAttribute('[data-testid="member-detail-status"]', "data-status"))
      .toBe("suspended");
    await admin.click('[data-testid="member-action-reactivate"]');
    await expect
      .poll(() => admin.getAttribute('[data-testid="member-detail-status"]', "data-status"))
      .toBe("active");

    // Reset her second factor: the card says it is off afterwards.
    await admin.click('[data-testid="member-action-mfa-reset"]');
    await admin.click('[data-testid="confirm"]');
    await expect
      .poll(() => admin.getAttribute('[data-testid="member-mfa-status"]', "data-enabled"))
      .toBe("false");
    expect(await admin.getAttribute('[data-testid="member-detail-mfa"]', "data-enabled")).toBe("false");
    const status = await root.client.get(`/api/v1/accounts/${root.accountId}/members/${maya.userId}/mfa`);
    expect(status.body.enabled).toBe(false);

    // The activity card lists what just happened, and links to the audit log.
    await expect
      .poll(() => admin.locator('[data-testid="member-event"][data-action="member.mfa_reset"]').count())
      .toBe(1);
    expect(await admin.getAttribute('[data-testid="member-activity-audit-link"]', "href")).toBe(
      `/settings/audit-log?actor_id=${maya.userId}`,
    );

    await admin.emulateMedia({ colorScheme: "dark" });
    await expectAccessible(admin, "member detail (dark)");

    // Back to the list.
    await admin.click('[data-testid="member-detail-back"]');
    await admin.waitForSelector('[data-testid="member-row"]');
    // The old address still opens the same page.
    await admin.goto(`${base}/settings/users/${maya.userId}`);
    await admin.waitForURL(new RegExp(`/settings/members/${maya.userId}$`));
    await admin.waitForSelector('[data-testid="member-profile"]');
    await context.close();
  });
});
