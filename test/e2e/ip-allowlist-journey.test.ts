import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, STRONG_PASSWORD, signUpVerified, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const SAVE = 'section[aria-labelledby="security-policy-heading"] button[type="submit"]';

describe("the account IP allowlist, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(8000);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows the admin's IP, names bad entries, explains the lock-out and saves once their IP is added", async () => {
    await signUpVerified(t, {
      email: "net@corp.example",
      password: STRONG_PASSWORD,
      name: "Net Admin",
      account: "Corp",
    });

    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "net@corp.example");
    await page.fill('input[name="password"]', STRONG_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => !url.pathname.startsWith("/login"));
    await page.goto(`${base}/settings/security-policy`);
    await page.waitForSelector('textarea[name="ip_allowlist"]');
    expect(await page.textContent('[data-testid="current-ip"]')).toContain("127.0.0.1");

    await page.fill('textarea[name="ip_allowlist"]', "203.0.113.0/24\nnot-an-ip\n2001:db8::/32");
    await page.click(SAVE);
    await page.waitForSelector('[data-testid="ip_allowlist-errors"]');
    expect(await page.textContent('[data-testid="ip_allowlist-errors"]')).toContain('"not-an-ip"');

    await page.fill('textarea[name="ip_allowlist"]', "203.0.113.7/24\n2001:DB8::/32");
    await page.click(SAVE);
    await page.waitForSelector('[data-testid="ip_allowlist-lockout"]');
    expect(await page.textContent('[data-testid="ip_allowlist-lockout"]')).toContain("127.0.0.1");

    await page.click('button:has-text("Add my IP")');
    expect(await page.inputValue('textarea[name="ip_allowlist"]')).toBe(
      "203.0.113.7/24\n2001:DB8::/32\n127.0.0.1",
    );
    await page.click(SAVE);
    await page.waitForSelector('[data-testid="security-saved"]');
    // Stored normalized, and shown that way after a reload.
    await page.reload();
    await page.waitForSelector('textarea[name="ip_allowlist"]');
    expect(await page.inputValue('textarea[name="ip_allowlist"]')).toBe(
      "203.0.113.0/24\n2001:db8::/32\n127.0.0.1",
    );
    expect(await page.textContent('[data-testid="current-ip"]')).toContain("(on the list)");
  });
});
