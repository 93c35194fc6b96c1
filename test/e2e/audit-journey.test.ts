import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccountsRepository } from "../../src/accounts/accounts.repository.js";
import { createInvoice } from "../../src/billing/invoices.repository.js";
import { transact } from "../../src/db/database.js";
import { newTotp } from "../../src/mfa/totp.js";
import {
  addMember,
  createApiKey,
  createClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
} from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "dana@audit.example";

/**
 * The audit log read by a person: Dana (Root) sees sentences with names, narrows by person and by
 * category, opens an event's details; her saved default filters open the audit log and the invoices
 * list already narrowed; her recovery codes print without the app around them. Axe-clean, light and dark.
 */
describe("the audit log for people in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let rootId: string;
  let aliceId: string;

  beforeAll(async () => {
    t = await createTestApp(process.env.TEST_DATABASE_URL ? "postgres" : "sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();

    const root = await signUpAndLogin(t, {
      email: EMAIL,
      password: PASSWORD,
      name: "Dana Scully",
      account: "Audit Co",
    });
    rootId = root.userId;
    const api = `/api/v1/accounts/${root.accountId}`;
    await onPaidPlan(t, root.accountId);
    const alice = await addMember(t, root, {
      email: "alice@audit.example",
      roleKey: "developer",
      firstName: "Alice",
    });
    aliceId = alice.userId;
    const roles = (await root.client.get(`${api}/roles`)).body.data as Array<{ id: string; key: string }>;
    const role = (key: string) => roles.find((r) => r.key === key)?.id;
    // The seeded events: a role change by the Root, an invitation, a failed sign-in, an API key.
    const changed = await root.client.patch(`${api}/members/${aliceId}`, { role_id: role("admin") });
    if (changed.statusCode !== 200) throw new Error(changed.payload);
    const invited = await root.client.post(`${api}/invitations`, {
      emails: ["bob@audit.example"],
      role_id: role("monitor"),
    });
    if (invited.statusCode !== 201) throw new Error(invited.payload);
    const failed = await createClient(t.app).post("/api/v1/auth/login", {
      email: "alice@audit.example",
      password: "not-her-password-at-all",
    });
    if (failed.statusCode !== 401) throw new Error(failed.payload);
    await createApiKey({ ...root, password: PASSWORD }, ["members:read"], { name: "Deploy bot" });

    // Two invoices: one paid, one open.
    const db = t.services.db;
    const invoice = () =>
      transact(db, async (trx) => {
        await createAccountsRepository().lock(trx, root.accountId);
        return createInvoice(trx, {
          accountId: root.accountId,
          periodStart: "2026-01-15T10:00:00.000Z",
          periodEnd: "2026-02-15T10:00:00.000Z",
          now: t.services.clock.now().toISOString(),
          lines: [
            {
              kind: "seats",
              description: "Pro × 2 seats",
              quantity: 2,
              unit_amount: 1900,
              amount: 3800,
              period_start: "2026-01-15T10:00:00.000Z",
              period_end: "2026-02-15T10:00:00.000Z",
            },
          ],
        });
      });
    const paid = await invoice();
    await invoice();
    await db
      .updateTable("invoices")
      .set({ status: "paid", paid_at: t.services.clock.now().toISOString() })
      .where("id", "=", paid.id)
      .execute();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const rows = () => page.locator('[data-testid="audit-row"]');
  const sentences = () => page.locator('[data-testid="audit-sentence"]').allTextContents();
  /** The audit list settles: its skeleton gone, rows (or the empty note) shown. */
  const settled = async () => {
    await page.locator('[data-testid="audit-row"], [data-testid="audit-empty"]').first().waitFor();
    await page.waitForLoadState("networkidle");
  };

  async function logIn(on: Page) {
    await on.goto(`${base}/login`);
    await on.fill('input[name="email"]', EMAIL);
    await on.fill('input[name="password"]', PASSWORD);
    await on.click('button[type="submit"]');
    await on.waitForURL(/\/settings\//);
  }

  it("tells each event as a sentence with names, avatars and ids on hover, and relative times", async () => {
    await logIn(page);
    await page.goto(`${base}/settings/audit-log`);
    await settled();
    const said = await sentences();
    expect(said).toEqual(
      expect.arrayContaining([
        "Dana Scully changed Alice Person's role from Developer to Admin",
        "Dana Scully invited bob@audit.example as Monitor",
        "Someone failed to sign in as Alice Person",
        "Dana Scully created the API key Deploy bot",
        "Alice Person accepted an invitation and joined",
      ]),
    );
    expect(said.join("\n")).not.toMatch(/usr_|undefined|\{/);
    const roleRow = rows().filter({ hasText: "changed Alice Person's role" });
    const actor = roleRow.locator('[data-testid="audit-actor"]');
    expect(await actor.getAttribute("title")).toBe(rootId);
    expect(await actor.locator(".avatar").textContent()).toBe("DS");
    expect(await roleRow.locator('[data-testid="audit-target"]').getAttribute("title")).toBe(
      `user ${aliceId}`,
    );
    const time = roleRow.locator("time");
    expect(await time.textContent()).toMatch(/just now|minute/);
    expect(await time.getAttribute("title")).toMatch(/\d{4}/);
    // No regex or prefix field is left.
    expect(await page.locator('input[name="action"]').count()).toBe(0);
    await expectAccessible(page, "audit log (light)");
  });

  it("narrows by person and by category", async () => {
    const all = await rows().count();
    await page.selectOption('select[name="actor_id"]', aliceId);
    // Only Alice's own events, once the narrowed page has loaded.
    const actorIds = () =>
      page
        .locator('[data-testid="audit-actor"]')
        .evaluateAll((nodes) => [...new Set(nodes.map((n) => n.getAttribute("title")))]);
    await expect.poll(actorIds).toEqual([aliceId]);
    expect(await rows().count()).toBeLessThan(all);

    await page.click('[data-testid="audit-clear-filters"]');
    await expect.poll(() => rows().count()).toBe(all);
    await page.selectOption('select[name="category"]', "security");
    await expect
      .poll(
        async () => new Set(await rows().evaluateAll((r) => r.map((n) => n.getAttribute("data-category")))),
      )
      .toEqual(new Set(["security"]));
    expect(await sentences()).toContain("Someone failed to sign in as Alice Person");
    await page.selectOption('select[name="category"]', "api_keys_webhooks");
    await expect.poll(sentences).toEqual(["Dana Scully created the API key Deploy bot"]);
    await page.click('[data-testid="audit-clear-filters"]');
    await expect.poll(() => rows().count()).toBe(all);
  });

  it("shows an event's details as a readable table with the device", async () => {
    const roleRow = rows().filter({ hasText: "changed Alice Person's role" });
    await roleRow.locator('[data-testid="audit-details"]').click();
    const dialog = page.locator('[data-testid="audit-event-dialog"]');
    await dialog.waitFor();
    await expectDialogInViewport(page);
    const change = dialog.locator('[data-testid="audit-change-row"]');
    expect(await change.count()).toBe(1);
    expect(await change.locator("th").textContent()).toBe("Value");
    expect(await change.locator("td").allTextContents()).toEqual(["Developer", "Admin"]);
    expect(await dialog.locator("thead th").allTextContents()).toEqual(["Field", "Before", "After"]);
    expect(await dialog.locator('[data-testid="audit-device"]').textContent()).toBe("Chrome on Linux");
    expect(await dialog.textContent()).toContain("Request ID");
    expect(await dialog.textContent()).not.toMatch(/[{}]/);
    await expectAccessible(page, "audit event details (light)");
    await dialog.getByRole("button", { name: "Close" }).last().click();
    await dialog.waitFor({ state: "detached" });
  });

  it("opens the audit log and the invoices list with the saved default filters", async () => {
    await page.goto(`${base}/settings/preferences`);
    await page.selectOption('select[name="audit_category"]', "invitations");
    await page.selectOption('select[name="audit_range"]', "last_7_days");
    await page.selectOption('select[name="invoices_status"]', "paid");
    await page.click('button[type="submit"]');
    await page.locator('[data-testid="prefs-saved"]').waitFor();

    await page.goto(`${base}/settings/audit-log`);
    await settled();
    expect(await page.inputValue('select[name="category"]')).toBe("invitations");
    expect(await page.inputValue('input[name="from"]')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const categories = await rows().evaluateAll((r) => r.map((n) => n.getAttribute("data-category")));
    expect(categories.length).toBeGreaterThan(0);
    expect(new Set(categories)).toEqual(new Set(["invitations"]));
    expect(await sentences()).toContain("Dana Scully invited bob@audit.example as Monitor");

    await page.goto(`${base}/settings/billing`);
    const filter = page.locator('select[name="invoice_status"]');
    await filter.waitFor();
    expect(await filter.inputValue()).toBe("paid");
    const invoiceRows = page.locator('[data-testid="invoice-row"]');
    await expect.poll(() => invoiceRows.count()).toBe(1);
    expect(await invoiceRows.first().getAttribute("data-status")).toBe("paid");
    await filter.selectOption("all");
    // All of them again, the open one among them (and any the seat change billed).
    await expect
      .poll(() => invoiceRows.evaluateAll((r) => r.map((n) => n.getAttribute("data-status"))))
      .toEqual(expect.arrayContaining(["paid", "open"]));
    await expectAccessible(page, "billing with the invoices filter (light)");
  });

  it("is axe-clean in the dark theme too", async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
    const darkPage = await dark.newPage();
    try {
      await logIn(darkPage);
      await darkPage.goto(`${base}/settings/audit-log`);
      await darkPage.locator('[data-testid="audit-row"]').first().waitFor();
      await darkPage.waitForLoadState("networkidle");
      await expectAccessible(darkPage, "audit log (dark)");
      await darkPage.locator('[data-testid="audit-details"]').first().click();
      await darkPage.locator('[data-testid="audit-event-dialog"]').waitFor();
      await expectAccessible(darkPage, "audit event details (dark)");
      await darkPage.goto(`${base}/settings/billing`);
      await darkPage.locator('select[name="invoice_status"]').waitFor();
      await darkPage.waitForLoadState("networkidle");
      await expectAccessible(darkPage, "billing (dark)");
    } finally {
      await dark.close();
    }
  });

  it("prints recovery codes alone, with whose they are and the date", async () => {
    await page.goto(`${base}/settings/security`);
    await page.click('[data-testid="totp-enable"]');
    await page.waitForSelector('[data-testid="totp-qr"]');
    const secret = ((await page.textContent('[data-testid="totp-secret"]')) ?? "").replace(/\s/g, "");
    await page.fill(
      '[data-testid="totp-dialog"] input[name="code"]',
      newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() }),
    );
    await page.click('[data-testid="totp-verify"]');
    const dialog = page.locator('[data-testid="recovery-dialog"]');
    await dialog.locator('[data-testid="recovery-codes"]').waitFor();
    const heading = dialog.locator('[data-testid="recovery-print-heading"]');
    expect(await heading.isVisible()).toBe(false);

    await page.emulateMedia({ media: "print" });
    expect(await heading.isVisible()).toBe(true);
    expect(await heading.textContent()).toContain(EMAIL);
    expect(await heading.textContent()).toMatch(/printed .*\d{4}/);
    expect(await dialog.locator('[data-testid="recovery-code"]').first().isVisible()).toBe(true);
    expect(await dialog.locator('[data-testid="recovery-code"]').count()).toBe(10);
    // The app's chrome and the dialog's buttons do not print.
    for (const chrome of [
      '[data-testid="user-menu"]',
      'nav[aria-label="Settings sections"]',
      '[data-testid="recovery-print"]',
      '[data-testid="recovery-saved"]',
      ".dialog-header",
    ])
      expect(await page.locator(chrome).first().isVisible(), chrome).toBe(false);
    await page.emulateMedia({ media: "screen" });
    expect(await heading.isVisible()).toBe(false);
    expect(await page.locator('[data-testid="user-menu"]').isVisible()).toBe(true);

    // The Print button asks the browser to print (stubbed: a headless print dialog would wait forever).
    await page.evaluate(() => {
      const w = globalThis as unknown as { print: () => void; printed?: boolean };
      w.print = () => {
        w.printed = true;
      };
    });
    await dialog.locator('[data-testid="recovery-print"]').click();
    expect(await page.evaluate(() => (globalThis as unknown as { printed?: boolean }).printed)).toBe(true);
    await expectAccessible(page, "recovery codes with Print (light)");
    await dialog.locator('[data-testid="recovery-saved"]').click();
  });
});
