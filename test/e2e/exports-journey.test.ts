import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORTS_JOB } from "../../src/exports/export-runner.js";
import { createTestApp, signUpAndLogin, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "root@exports.example";

/**
 * A Root asks for a members export in Settings → Data, watches it go from waiting to ready (the list
 * polls), downloads the CSV through its link, then schedules a weekly export, pauses it and deletes it.
 */
describe("exports in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signUpAndLogin(t, { email: EMAIL, password: PASSWORD, account: "Exports" });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("makes an export, shows its progress and link, and manages a schedule", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);
    await page.goto(`${base}/settings/data`);
    await page.locator('[data-testid="exports-empty"]').waitFor();

    await page.click('[data-testid="export-create"]');
    await expectDialogInViewport(page);
    const dialog = page.locator('[data-testid="export-create-dialog"]');
    await dialog.getByLabel("What to export").selectOption("members");
    await dialog.getByLabel("Format").selectOption("csv");
    await dialog.getByLabel("Status").selectOption("active");
    await page.click('[data-testid="export-create-submit"]');
    await dialog.waitFor({ state: "detached" });

    const row = page.locator('[data-testid="export-row"]');
    await row.waitFor();
    expect(await row.getAttribute("data-status")).toBe("queued");
    expect(await row.getByRole("progressbar").count()).toBe(1);

    await t.services.jobs.runNow([EXPORTS_JOB]);
    // The list reads itself again while an export is waiting or running.
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 20_000 }).toBe("succeeded");
    const link = row.locator('[data-testid="export-download"]');
    const href = (await link.getAttribute("href")) as string;
    expect(href).toContain("/api/v1/export-files/exp_");
    // The link is PUBLIC_URL's (gatehouse.test in tests): read it through this server.
    const served = await t.app.inject({ method: "GET", url: new URL(href).pathname + new URL(href).search });
    expect(served.statusCode).toBe(200);
    expect(served.body.replace(/^\uFEFF/, "").split("\r\n")[0]).toContain("email");

    await page.click('[data-testid="schedule-create"]');
    const schedule = page.locator('[data-testid="schedule-create-dialog"]');
    await schedule.getByLabel("How often").selectOption("weekly");
    await page.click('[data-testid="schedule-create-submit"]');
    expect(await schedule.locator(".field-error").first().textContent()).toContain("at least one person");
    await schedule.locator('input[name="recipients"]').first().check();
    await page.click('[data-testid="schedule-create-submit"]');
    await schedule.waitFor({ state: "detached" });
    const scheduled = page.locator('[data-testid="schedule-row"]');
    await scheduled.waitFor();
    expect(await scheduled.getAttribute("data-paused")).toBe("false");
    await scheduled.locator('[data-testid="schedule-pause"]').click();
    await expect.poll(() => scheduled.getAttribute("data-paused")).toBe("true");
    await scheduled.locator('[data-testid="schedule-delete"]').click();
    await page.locator('[data-testid="schedule-delete-dialog"] [data-testid="confirm"]').click();
    await page.locator('[data-testid="schedules-empty"]').waitFor();
  });
});
