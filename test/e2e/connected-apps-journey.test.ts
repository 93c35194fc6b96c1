import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, createTestApp, signUpAndLogin, type TestApp } from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "root@apps.example";

/**
 * Two members of an account signed in to a third-party application with Gatehouse (rows as the
 * provider writes them). A Root opens Settings → Connected apps, sees it, revokes it for the account:
 * the row goes, and so do the grants and refresh tokens; a Monitor does not get the page at all.
 */
describe("Connected apps in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  let accountId: string;

  async function seed(userIds: string[]) {
    const now = new Date().toISOString();
    await t.services.db
      .insertInto("oidc_clients")
      .values({
        client_id: "crm-app",
        name: "Acme CRM",
        secret_sealed: null,
        party: "third",
        redirect_uris: '["https://crm.example/cb"]',
        post_logout_redirect_uris: "[]",
        grant_types: '["authorization_code","refresh_token"]',
        scopes: '["openid","email","offline_access"]',
        backchannel_logout_uri: null,
        logo_uri: null,
        source: "cli",
        created_at: now,
        updated_at: now,
      })
      .execute();
    for (const [i, userId] of userIds.entries()) {
      const grantId = `grant-${i}`;
      await t.services.db
        .insertInto("oidc_authorizations")
        .values({
          grant_id: grantId,
          client_id: "crm-app",
          user_id: userId,
          account_id: accountId,
          session_id: null,
          sid: null,
          scopes: "openid email offline_access",
          created_at: now,
          updated_at: now,
        })
        .execute();
      await t.services.db
        .insertInto("oidc_payloads")
        .values({
          kind: "RefreshToken",
          id: `rt-${i}`,
          payload: "{}",
          grant_id: grantId,
          uid: null,
          user_code: null,
          expires_at: null,
          consumed_at: null,
        })
        .execute();
    }
  }

  async function logIn(email: string) {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);
  }

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    const root = await signUpAndLogin(t, { email: EMAIL, password: PASSWORD, account: "Apps" });
    accountId = root.accountId;
    const monitor = await addMember(t, root, { email: "monitor@apps.example", password: PASSWORD });
    await seed([root.userId, monitor.userId]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("lists the app for a Root, who revokes it after confirming: the row and its tokens go", async () => {
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await logIn(EMAIL);
    await page.click('nav[aria-label="Settings sections"] a:has-text("Connected apps")');
    await page.waitForURL(/\/settings\/connected-apps$/);

    const row = page.locator('[data-testid="connected-app-row"][data-client-id="crm-app"]');
    await row.waitFor();
    expect(await row.textContent()).toContain("Acme CRM");
    expect(await row.locator('[data-testid="connected-app-members"]').textContent()).toBe("2");
    await row.locator("summary").click();
    expect(await row.locator('[data-testid="connected-app-scopes"]').textContent()).toContain(
      "See your email address",
    );
    await expectAccessible(page, "Settings → Connected apps");

    await row.locator('[data-testid="connected-app-revoke"]').click();
    await expectDialogInViewport(page);
    const dialog = page.locator('[data-testid="connected-app-revoke-dialog"]');
    expect(await dialog.textContent()).toContain("Revoke Acme CRM?");
    // A destructive question starts on the button that keeps things as they are.
    const dismiss = dialog.locator('[data-testid="dismiss"]');
    expect(await dismiss.evaluate((element) => element === element.ownerDocument.activeElement)).toBe(true);
    await expectAccessible(page, "Revoke a connected app");
    await dialog.locator('[data-testid="confirm"]').click();

    await page.locator('[data-testid="connected-apps-empty"]').waitFor();
    expect(await page.locator('[data-testid="connected-app-row"]').count()).toBe(0);
    const left = await t.services.db.selectFrom("oidc_authorizations").select("grant_id").execute();
    expect(left).toEqual([]);
    const tokens = await t.services.db.selectFrom("oidc_payloads").select("id").execute();
    expect(tokens).toEqual([]);
    const revoked = await t.services.db
      .selectFrom("audit_events")
      .select(["target_id"])
      .where("action", "=", "oidc.app_revoked")
      .execute();
    expect(revoked).toEqual([{ target_id: "crm-app" }]);
  });

  it("does not show the page to a Monitor (no security:read)", async () => {
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await logIn("monitor@apps.example");
    const nav = page.locator('nav[aria-label="Settings sections"]');
    await nav.locator('a:has-text("Members")').waitFor();
    expect(await nav.locator('a:has-text("Connected apps")').count()).toBe(0);
  });
});
