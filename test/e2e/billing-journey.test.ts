import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpVerified,
  type TestApp,
} from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const PRO_MONTHLY_CENTS = 1900;

describe("billing journey in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await signUpVerified(t, { email: "root@acme.example", password: PASSWORD, account: "Acme" });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const inviteMonitors = async (emails: string) => {
    await page.click('[data-testid="invite-open"]');
    await page.fill('textarea[name="emails"]', emails);
    const roleSelect = page.locator('[role="dialog"] select[name="role_id"]');
    const monitor = await roleSelect.locator("option", { hasText: "Monitor" }).getAttribute("value");
    await roleSelect.selectOption(monitor as string);
    await page.click('[data-testid="invite-submit"]');
  };
  const inviteResult = (email: string) =>
    page.locator(`[data-testid="invite-result"][data-email="${email}"]`);

  it("on Free the 4th seat is refused with the upgrade prompt; after adding a test card and upgrading to Pro the invite shows its cost, is charged when accepted, and its proration invoice downloads as a PDF", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "root@acme.example");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);

    // Free allows 3 seats: the Root plus two invitations fit, a third address in the same invite does not.
    await page.goto(`${base}/settings/users`);
    await inviteMonitors("ana@acme.example, ben@acme.example, cy@acme.example");
    await expect.poll(() => page.locator('[data-testid="invite-result"]').count()).toBe(3);
    expect(await inviteResult("ana@acme.example").getAttribute("data-ok")).toBe("true");
    expect(await inviteResult("ben@acme.example").getAttribute("data-ok")).toBe("true");
    expect(await inviteResult("cy@acme.example").getAttribute("data-ok")).toBe("false");
    expect(await inviteResult("cy@acme.example").getAttribute("data-code")).toBe("seat_limit_reached");
    expect(await inviteResult("cy@acme.example").textContent()).toMatch(/upgrade/i);
    await page.keyboard.press("Escape");

    // At 3 seats on Free the Users page offers the upgrade instead of the invite button.
    await page.reload();
    await page.waitForSelector('[data-testid="seat-limit-prompt"]');
    expect(await page.locator('[data-testid="invite-open"]').count()).toBe(0);
    await page.click('[data-testid="seat-limit-prompt"] [data-testid="upgrade-link"]');
    await page.waitForURL(/\/settings\/billing$/);

    const usage = page.locator('[data-testid="seat-usage"]');
    await expect.poll(() => usage.getAttribute("data-used")).toBe("3");
    expect(await usage.getAttribute("data-limit")).toBe("3");
    expect(await page.getAttribute('[data-testid="billing-plan"]', "data-plan")).toBe("free");

    // A test card from the offline provider: picked from its tokens, no card number typed.
    await page.click('[data-testid="payment-method-add"]');
    await expectDialogInViewport(page);
    expect(await page.textContent('[data-testid="offline-provider-note"]')).toMatch(/offline test provider/i);
    await page.check('[data-testid="payment-token-tok_visa"]');
    await page.click('[data-testid="payment-method-add-confirm"]');
    const card = page.locator('[data-testid="payment-method-row"]');
    await expect.poll(() => card.count()).toBe(1);
    expect(await card.getAttribute("data-type")).toBe("card");
    expect(await card.getAttribute("data-default")).toBe("true");
    expect(await card.textContent()).toMatch(/4242/);

    // Upgrade to Pro, monthly: the preview shows 1 seat × $19 before anything changes (the Root; the two
    // pending invitations hold seats but are billed when accepted).
    await page.check('[data-testid="billing-interval-month"]');
    await page.click('[data-testid="plan-card"][data-plan="pro"] [data-testid="plan-choose"]');
    const preview = page.locator('[data-testid="plan-preview"]');
    await preview.waitFor();
    await expectDialogInViewport(page);
    expect(await preview.getAttribute("data-effective")).toBe("now");
    expect(await preview.getAttribute("data-total")).toBe(String(PRO_MONTHLY_CENTS));
    const seatsLine = page.locator('[data-testid="plan-preview-line"][data-kind="seats"]');
    expect(await seatsLine.getAttribute("data-amount")).toBe(String(PRO_MONTHLY_CENTS));
    expect(await page.textContent('[data-testid="plan-preview-total"]')).toContain("$19.00");
    expect(await page.getAttribute('[data-testid="billing-plan"]', "data-plan")).toBe("free");
    await page.click('[data-testid="plan-change-confirm"]');
    await expect.poll(() => page.getAttribute('[data-testid="billing-plan"]', "data-plan")).toBe("pro");
    expect(await page.getAttribute('[data-testid="billing-interval"]', "data-interval")).toBe("month");
    expect(await page.getAttribute('[data-testid="seat-usage"]', "data-limit")).toBe("");

    // On Pro the dialog first shows what accepting the 4th invitation would cost, then sends it.
    // (The clock stands still from here, so the quote and the charge are for the same moment.)
    t.services.clock.freeze(new Date());
    await page.goto(`${base}/settings/users`);
    await inviteMonitors("cy@acme.example");
    const quoted = page.locator('[data-testid="invite-quote-item"][data-email="cy@acme.example"]');
    await quoted.waitFor();
    const quote = Number(await quoted.getAttribute("data-amount"));
    expect(quote).toBeGreaterThan(0);
    expect(quote).toBeLessThanOrEqual(PRO_MONTHLY_CENTS);
    expect(await quoted.textContent()).toMatch(/when accepted/);
    expect(await page.getAttribute('[data-testid="invite-quote"]', "data-total")).toBe(String(quote));
    expect(t.mails.some((m) => m.to === "cy@acme.example")).toBe(false);
    expect(await page.getAttribute('[data-testid="invite-submit"]', "data-step")).toBe("send");
    await page.click('[data-testid="invite-submit"]');
    await expect.poll(() => inviteResult("cy@acme.example").getAttribute("data-ok")).toBe("true");
    await page.keyboard.press("Escape");

    // Sending charged nothing; cy's acceptance does, pro rata, at once.
    await page.goto(`${base}/settings/billing`);
    await expect.poll(() => page.getAttribute('[data-testid="seat-usage"]', "data-used")).toBe("4");
    const rows = page.locator('[data-testid="invoice-row"]');
    await expect.poll(() => rows.count()).toBe(1);
    const link = await t.linkFor("cy@acme.example", /invited/);
    const accepted = await createClient(t.app).post("/api/v1/invitations/accept", {
      token: new URL(link).searchParams.get("token"),
      password: STRONG_PASSWORD,
      first_name: "Cy",
      last_name: "Monitor",
    });
    expect(accepted.statusCode, accepted.payload).toBe(200);
    await page.reload();
    await expect.poll(() => rows.count()).toBe(2);
    for (const toggle of await page.locator('[data-testid="invoice-toggle"]').all()) await toggle.click();
    const proration = page.locator('[data-testid="invoice-line"][data-kind="proration"]');
    await expect.poll(() => proration.count()).toBe(1);
    expect(Number(await proration.getAttribute("data-amount"))).toBe(quote);
    // Every line shown multiplies out: quantity × unit = amount.
    for (const line of await page.locator('[data-testid="invoice-line"]').all()) {
      const [quantity, unit, amount] = await Promise.all(
        ["data-quantity", "data-unit-amount", "data-amount"].map((name) => line.getAttribute(name)),
      );
      expect(Number(quantity) * Number(unit)).toBe(Number(amount));
    }
    const invoiceId = await page
      .locator('[data-testid="invoice-lines"]', { has: proration })
      .getAttribute("data-invoice-id");
    expect(invoiceId).toBeTruthy();

    // Its PDF downloads, and is a PDF.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click(`[data-testid="invoice-row"][data-invoice-id="${invoiceId}"] [data-testid="invoice-pdf"]`),
    ]);
    const file = await readFile((await download.path()) as string);
    expect(file.subarray(0, 4).toString("latin1")).toBe("%PDF");

    // Cancelling asks with "Cancel subscription" beside "Keep subscription", never a bare "Cancel";
    // the toast that follows can take it back, since asking for the same plan again undoes it.
    await page.click('[data-testid="billing-cancel"]');
    await expectDialogInViewport(page);
    const cancelDialog = page.locator('[data-testid="billing-cancel-dialog"]');
    expect(await cancelDialog.locator("h2").textContent()).toBe("Cancel your Pro subscription?");
    expect(await cancelDialog.locator("button").allTextContents()).toEqual([
      "×",
      "Cancel subscription",
      "Keep subscription",
    ]);
    await page.click('[data-testid="billing-cancel-confirm"]');
    await page.waitForSelector('[data-testid="billing-ends-notice"]');
    const cancelled = page.locator('[data-testid="toast"]', { hasText: /subscription ends on/ });
    await cancelled.locator('[data-testid="toast-action"]', { hasText: "Keep subscription" }).click();
    await page.locator('[data-testid="toast"]', { hasText: /subscription continues/ }).waitFor();
    await expect.poll(() => page.locator('[data-testid="billing-ends-notice"]').count()).toBe(0);
    expect(await page.getAttribute('[data-testid="billing-plan"]', "data-plan")).toBe("pro");
    expect(await page.locator('[data-testid="invoice-row"]').count()).toBe(2);

    // Its deep link (what a mail about it would give) opens that invoice alone, marked.
    await page.goto(`${base}/settings/billing/invoices/${invoiceId}`);
    await page
      .locator(`[data-testid="invoice-row"][data-invoice-id="${invoiceId}"][data-highlighted="true"]`)
      .waitFor();
    await page.locator(`[data-testid="invoice-lines"][data-invoice-id="${invoiceId}"]`).waitFor();
    expect(await page.locator('[data-testid="invoice-lines"]').count()).toBe(1);
    expect(await page.locator('[data-highlighted="true"]').count()).toBe(1);
  });
});
