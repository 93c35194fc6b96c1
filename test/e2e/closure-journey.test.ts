import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpVerified, type TestApp, tokenOf } from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";

describe("account closure journey in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await signUpVerified(t, {
      email: "closer@example.com",
      password: PASSWORD,
      name: "Clo Ser",
      account: "Shutters",
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("closes the account with its typed name, shows the banner, and cancels with the mailed link's button", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "closer@example.com");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);

    await page.goto(`${base}/settings/data`);
    await page.click('[data-testid="closure-open"]');
    await page.fill('[data-testid="closure-dialog"] input[name="confirm_name"]', "shutters");
    await page.click('[data-testid="closure-confirm"]');
    await page.waitForSelector('[data-testid="closure-dialog"] [aria-invalid="true"]');
    await page.fill('[data-testid="closure-dialog"] input[name="confirm_name"]', "Shutters");
    await page.click('[data-testid="closure-confirm"]');
    await page.waitForSelector('[data-testid="closure-scheduled"]');
    await page.waitForSelector('[data-testid="closure-banner"]');
    await expectAccessible(page, "Data page with a scheduled closure");

    const link = await t.linkFor("closer@example.com", /will be deleted/);
    const cancelPage = await (await browser.newContext()).newPage();
    await cancelPage.goto(`${base}/cancel-account-closure?token=${tokenOf(link)}`);
    // Opening the link changes nothing: only the button cancels.
    await cancelPage.waitForSelector('[data-testid="closure-cancel-submit"]');
    expect(await t.services.db.selectFrom("account_closures").select("account_id").execute()).toHaveLength(1);
    await expectAccessible(cancelPage, "cancel-closure page");
    await cancelPage.click('[data-testid="closure-cancel-submit"]');
    await cancelPage.waitForSelector('[data-testid="closure-cancelled"]');
    expect(await t.services.db.selectFrom("account_closures").select("account_id").execute()).toEqual([]);
    await cancelPage.close();

    await page.goto(`${base}/settings/security`);
    await page.waitForSelector('[data-testid="delete-login-open"]');
    expect(await page.locator('[data-testid="closure-banner"]').count()).toBe(0);
    await expectAccessible(page, "Security page with Delete my login");
  });
});
