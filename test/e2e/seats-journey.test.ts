import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpVerified, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";

describe("seat limit on the Users page, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    await signUpVerified(t, { email: "owner@seats.example", password: PASSWORD, account: "Seats" });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const usage = () => page.locator('[data-testid="seat-usage"]');
  const result = (email: string) => page.locator(`[data-testid="invite-result"][data-email="${email}"]`);

  it("on Free at 3 seats shows the upgrade prompt instead of the invite button, and explains refused addresses", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "owner@seats.example");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/users`);
    await expect.poll(() => usage().getAttribute("data-used")).toBe("1");
    expect(await usage().textContent()).toMatch(/1 of 3 seats used/);
    expect(await page.locator('[data-testid="seat-limit-prompt"]').count()).toBe(0);

    // Three addresses for two free seats: two go out, the third is explained.
    await page.click('[data-testid="invite-open"]');
    await page.fill('textarea[name="emails"]', "ann@seats.example, ben@seats.example, cy@seats.example");
    await page.click('[data-testid="invite-submit"]');
    await expect.poll(() => result("cy@seats.example").getAttribute("data-code")).toBe("seat_limit_reached");
    expect(await result("ann@seats.example").getAttribute("data-ok")).toBe("true");
    expect(await result("ben@seats.example").getAttribute("data-ok")).toBe("true");
    expect(await result("cy@seats.example").textContent()).toMatch(/Upgrade the plan/);
    expect(await page.locator('[data-testid="invite-seat-limit"] a').getAttribute("href")).toBe(
      "/settings/billing",
    );
    await page.keyboard.press("Escape");

    // At the limit: the usage says so, and the upgrade prompt replaces the invite button.
    await expect.poll(() => usage().getAttribute("data-used")).toBe("3");
    expect(await usage().textContent()).toMatch(/3 of 3 seats used/);
    await page.waitForSelector('[data-testid="seat-limit-prompt"]');
    expect(await page.locator('[data-testid="invite-open"]').count()).toBe(0);
    expect(await page.locator('[data-testid="upgrade-link"]').getAttribute("href")).toBe("/settings/billing");
    expect(await page.locator('[data-testid="seat-limit-prompt"]').textContent()).toMatch(/Free plan/);

    // Revoking an invitation (from its row in the member list, after a confirmation) frees its seat at
    // once: the invite button is back.
    await page
      .locator('[data-testid="member-row"][data-email="ben@seats.example"] [data-testid="member-menu"]')
      .click();
    await page.click('[data-testid="member-action-revoke"]');
    await page.click('[data-testid="confirm-dialog"] [data-testid="confirm"]');
    await expect.poll(() => usage().getAttribute("data-used")).toBe("2");
    await page.waitForSelector('[data-testid="invite-open"]');
    expect(await page.locator('[data-testid="seat-limit-prompt"]').count()).toBe(0);

    // Someone else takes the last seat while the dialog is open: the refusal (402) is explained too.
    await page.click('[data-testid="invite-open"]');
    await page.fill('textarea[name="emails"]', "dee@seats.example");
    const elsewhere = await page.evaluate(async () => {
      const session = (await (await fetch("/api/v1/session")).json()) as {
        csrf_token: string;
        account_id: string;
      };
      const response = await fetch(`/api/v1/accounts/${session.account_id}/invitations`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
        body: JSON.stringify({ emails: ["eve@seats.example"] }),
      });
      return response.status;
    });
    expect(elsewhere).toBe(201);
    await page.click('[data-testid="invite-submit"]');
    await expect.poll(() => result("dee@seats.example").getAttribute("data-code")).toBe("seat_limit_reached");
    expect(await page.textContent('[data-testid="invite-summary"]')).toMatch(/No invitations were sent/);
    await page.keyboard.press("Escape");
    await expect.poll(() => usage().getAttribute("data-used")).toBe("3");
    await page.waitForSelector('[data-testid="seat-limit-prompt"]');
  });
});
