import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpAndLogin, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "root@keys.example";

/**
 * A Root makes an API key in Settings → API keys (confirming it's them first), reads its secret from the
 * one-time view, calls the API with it, sees the calls on the key's page, rotates it and revokes it.
 */
describe("API keys in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let accountId: string;
  let keyId: string;
  let secret: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    const root = await signUpAndLogin(t, { email: EMAIL, password: PASSWORD, account: "Keys" });
    accountId = root.accountId;
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A program calling the API with the key: Bearer, no cookie. */
  const callWith = (key: string, path: string) =>
    fetch(`${base}/api/v1/accounts/${accountId}${path}`, { headers: { authorization: `Bearer ${key}` } });

  const dialog = (testId: string) => page.locator(`[data-testid="${testId}"]`);

  it("creates a key with two scopes after confirming it's the user, and shows its secret once", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);

    await page.click('nav[aria-label="Settings sections"] a:has-text("API keys")');
    await page.waitForURL(/\/settings\/api-keys$/);
    expect(await page.textContent('[data-testid="api-keys-empty"]')).toContain("No API keys yet");

    // Eleven minutes on, the log-in is no longer fresh: creating a key asks who it is first.
    t.services.clock.advance(11 * 60);
    await page.click('[data-testid="api-key-create"]');
    await expectDialogInViewport(page);
    const create = dialog("api-key-create-dialog");
    // Only what the user holds can be chosen: a Root holds every permission.
    await create.locator('input[name="scopes"][value="members:read"]').waitFor();
    expect(await create.locator('input[name="scopes"]:disabled').count()).toBe(0);

    // Nothing chosen: the problems show at their fields, and nothing is sent.
    await page.click('[data-testid="api-key-create-submit"]');
    expect(await create.locator('input[name="name"]').getAttribute("aria-invalid")).toBe("true");
    expect(await create.locator(".permission-groups .field-error").textContent()).toBe(
      "Choose at least one scope.",
    );

    await create.locator('input[name="name"]').fill("CI deploys");
    await create.locator('input[name="scopes"][value="members:read"]').check();
    await create.locator('input[name="scopes"][value="teams:read"]').check();
    await create.locator('select[name="expiry"]').selectOption("30");
    await create.locator('textarea[name="allowed_ips"]').fill("127.0.0.1\n::1");
    await page.click('[data-testid="api-key-create-submit"]');

    await page.waitForSelector('[data-testid="reauth-dialog"]');
    await page.fill('[data-testid="reauth-dialog"] input[name="password"]', PASSWORD);
    await page.click('[data-testid="reauth-submit"]');

    const shown = dialog("api-key-secret-dialog");
    await shown.waitFor();
    await expectDialogInViewport(page);
    expect(await shown.locator('[data-testid="api-key-secret-warning"]').textContent()).toContain(
      "Copy it now — you won't be able to see it again",
    );
    secret = await shown.locator('[data-testid="api-key-secret"]').inputValue();
    expect(secret).toMatch(/^gh_[A-Za-z0-9]{49}$/);
    expect(await shown.locator('[data-testid="api-key-secret"]').getAttribute("readonly")).not.toBeNull();
    await page.click('[data-testid="api-key-copy"]');
    await expect.poll(() => shown.locator('[data-testid="api-key-copy-note"]').textContent()).toBe("Copied");
    // (The test code is typed for Node, which has no clipboard: the page's is reached by name.)
    const clipboard = await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    expect(clipboard).toBe(secret);

    // Closing asks nothing more; the secret is nowhere on the page afterwards.
    await page.click('[data-testid="api-key-secret-done"]');
    await shown.waitFor({ state: "detached" });
    const row = page.locator('[data-testid="api-key-row"][data-name="CI deploys"]');
    await row.waitFor();
    keyId = (await row.getAttribute("data-key-id")) as string;
    expect(await row.locator('[data-testid="api-key-prefix"]').textContent()).toBe(`gh_…${secret.slice(-4)}`);
    expect(await row.locator("summary").textContent()).toBe("2 scopes");
    expect(await row.locator('[data-testid="api-key-last-used"]').textContent()).toBe("Never");
    expect(await page.content()).not.toContain(secret);
  });

  it("works with its scopes and is refused beyond them", async () => {
    const members = await callWith(secret, "/members");
    expect(members.status).toBe(200);
    // roles:read is not among its scopes.
    const roles = await callWith(secret, "/roles");
    expect(roles.status).toBe(403);
    expect(((await roles.json()) as { code: string }).code).toBe("forbidden");

    // The key's page shows the use at once (the process that saw it answers).
    await page.click(`[data-testid="api-key-row"][data-key-id="${keyId}"] [data-testid="api-key-link"]`);
    await page.waitForURL(new RegExp(`/settings/api-keys/${keyId}$`));
    const summary = page.locator('[data-testid="api-key-summary"]');
    await summary.waitFor();
    expect(await summary.locator('[data-testid="api-key-name"]').textContent()).toBe("CI deploys");
    expect(await summary.locator('[data-testid="api-key-scopes"] li').allTextContents()).toEqual([
      "members:read",
      "teams:read",
    ]);
    expect(await summary.locator('[data-testid="api-key-allowed-ips"] li').allTextContents()).toEqual([
      "127.0.0.1",
      "::1",
    ]);
    expect(await summary.textContent()).toContain("from 127.0.0.1");
  });

  // Needs GET …/api-keys/{id}/usage and …/logs (the metering part of issue 12).
  it("shows the calls in the key's usage and request log", async () => {
    // Counts and log entries are written behind, every few seconds in a running server: write them now.
    await t.services.writeBehind.flush();
    await page.goto(`${base}/settings/api-keys/${keyId}`);
    const usage = page.locator('[data-testid="api-key-usage-summary"]');
    // Both cards answer (a missing endpoint shows its error in the card: fail at once, saying so).
    for (const [card, shown] of [
      ["usage", "api-key-usage-summary"],
      ["log", "api-key-log-row"],
    ] as const) {
      await page.locator(`[data-testid="${shown}"], [data-testid="api-key-${card}-error"]`).first().waitFor();
      expect(await page.locator(`[data-testid="api-key-${card}-error"]`).count(), `${card} endpoint`).toBe(0);
    }
    expect(await usage.textContent()).toMatch(
      /^2 requests in the last 30 days: 1 succeeded \(2xx\), 1 refused \(4xx\), 0 /,
    );
    await page.locator('[data-testid="api-key-usage-chart"] .recharts-bar-rectangle').first().waitFor();
    const today = page.locator('[data-testid="api-key-usage-table"] tbody tr').last();
    expect(await today.getAttribute("data-requests")).toBe("2");

    const rows = page.locator('[data-testid="api-key-log-row"]');
    expect(await rows.count()).toBe(2);
    // Newest first: the refused call, then the list of members.
    expect(await rows.nth(0).getAttribute("data-status")).toBe("403");
    expect(await rows.nth(1).getAttribute("data-status")).toBe("200");
    expect(await rows.nth(1).getAttribute("data-method")).toBe("GET");
    expect(await rows.nth(1).getAttribute("data-route")).toContain("/members");
  });

  it("rotates the key (the old secret stops at once) and revokes it (every secret stops)", async () => {
    await page.goto(`${base}/settings/api-keys/${keyId}`);
    await page.click('[data-testid="api-key-rotate"]');
    await expectDialogInViewport(page);
    const rotate = dialog("api-key-rotate-dialog");
    // 24 hours is the default; the user picks "now".
    expect(await rotate.locator('input[name="grace_seconds"][value="86400"]').isChecked()).toBe(true);
    await rotate.locator('input[name="grace_seconds"][value="0"]').check();
    await rotate.locator('[data-testid="confirm"]').click();
    const shown = dialog("api-key-secret-dialog");
    await shown.waitFor();
    await expectDialogInViewport(page);
    const rotated = await shown.locator('[data-testid="api-key-secret"]').inputValue();
    expect(rotated).not.toBe(secret);
    await page.click('[data-testid="api-key-secret-done"]');
    await shown.waitFor({ state: "detached" });
    expect((await callWith(secret, "/members")).status).toBe(401);
    expect((await callWith(rotated, "/members")).status).toBe(200);
    await expect
      .poll(() => page.textContent('[data-testid="api-key-prefix"]'))
      .toBe(`gh_…${rotated.slice(-4)}`);

    await page.click('[data-testid="api-key-revoke"]');
    await expectDialogInViewport(page);
    const revoke = dialog("api-key-revoke-dialog");
    expect(await revoke.locator("h2").textContent()).toBe("Revoke CI deploys?");
    await revoke.locator('[data-testid="confirm"]').click();
    await page.waitForURL(/\/settings\/api-keys$/);
    await page.locator('[data-testid="toast"]', { hasText: "Revoked CI deploys." }).waitFor();
    await page.locator('[data-testid="api-keys-empty"]').waitFor();

    const refused = await callWith(rotated, "/members");
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe("invalid_api_key");

    // Its page now says it is gone.
    await page.goto(`${base}/settings/api-keys/${keyId}`);
    await page.locator('[data-testid="linked-item-missing"]').waitFor();
  });
});
