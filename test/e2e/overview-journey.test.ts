import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/lib/ids.js";
import {
  addMember,
  createClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";

const DAY_MS = 86_400_000;
const ROOT_EMAIL = "olivia@journey.example";

// On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.
describe.each(testDialects())("account overview journey in a real browser on %s", (dialect) => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let rootId: string;

  const signIn = (email: string, password = STRONG_PASSWORD) =>
    createClient(t.app).post("/api/v1/auth/login", { email, password });

  beforeAll(async () => {
    t = await createTestApp(dialect);
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();

    const root = await signUpAndLogin(t, { email: ROOT_EMAIL, name: "Olivia Root", account: "Journey Co" });
    rootId = root.userId;
    await onPaidPlan(t, root.accountId, { plan: "team", seatLimit: 10 });
    // Ivy joined and last signed in 40 days ago.
    t.services.clock.set(new Date(Date.now() - 40 * DAY_MS));
    await addMember(t, root, { email: "ivy@journey.example", roleKey: "monitor", firstName: "Ivy" });
    expect((await signIn("ivy@journey.example")).statusCode).toBe(200);
    t.services.clock.reset();

    const mona = await addMember(t, root, {
      email: "mona@journey.example",
      roleKey: "monitor",
      firstName: "Mona",
    });
    await addMember(t, root, { email: "dev@journey.example", roleKey: "developer", firstName: "Dev" });
    const sam = await addMember(t, root, {
      email: "sam@journey.example",
      roleKey: "monitor",
      firstName: "Sam",
    });
    expect(
      (await root.client.post(`/api/v1/accounts/${root.accountId}/members/${sam.userId}/suspend`)).statusCode,
    ).toBe(200);
    const roles = await root.client.get(`/api/v1/accounts/${root.accountId}/roles`);
    const monitor = (roles.body.data as Array<{ id: string; key: string }>).find((r) => r.key === "monitor");
    const invited = await root.client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: ["pending@journey.example"],
      role_id: monitor?.id,
    });
    expect(invited.statusCode).toBe(201);

    expect((await signIn("dev@journey.example", "not-the-password-1")).statusCode).toBe(401);
    expect((await signIn("dev@journey.example", "not-the-password-2")).statusCode).toBe(401);
    expect((await signIn("dev@journey.example")).statusCode).toBe(200);
    expect((await signIn("mona@journey.example")).statusCode).toBe(200);

    const at = new Date().toISOString();
    await t.services.db
      .insertInto("mfa_factors")
      .values({
        id: newId("factor"),
        user_id: mona.userId,
        type: "email",
        label: "Email",
        secret_enc: null,
        last_used_step: 0,
        confirmed_at: at,
        last_used_at: null,
        created_at: at,
      })
      .execute();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** Every card is in once the overview's answer is. */
  async function settled(page: Page) {
    await page.locator('[data-testid="overview-metric"]').waitFor();
    await page.waitForLoadState("networkidle");
    await page.locator(".skeleton").first().waitFor({ state: "detached" });
  }

  it("lands a Root on the overview with the account's numbers, and follows the default range and metric", async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', ROOT_EMAIL);
    await page.fill('input[name="password"]', STRONG_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/overview$/);
    await settled(page);
    expect(await page.textContent("h1")).toBe("Overview");
    expect(
      await page.locator('nav[aria-label="Settings sections"] a[aria-current="page"]').first().textContent(),
    ).toContain("Overview");

    // Members and seats: Olivia, Ivy, Mona and Dev active; Sam suspended; one open invitation.
    const seats = page.locator('[data-testid="overview-seats"]');
    expect(await seats.textContent()).toBe("6 of 10 seats used");
    const count = (key: string) => page.getAttribute(`[data-testid="overview-count-${key}"]`, "data-count");
    expect(await count("active")).toBe("4");
    expect(await count("suspended")).toBe("1");
    expect(await count("pending")).toBe("1");

    // Only Mona has a second factor; Olivia (Root) must have one and does not.
    expect(await page.getAttribute('[data-testid="overview-mfa-percent"]', "data-percent")).toBe("25");
    const missing = page.locator('[data-testid="overview-mfa-missing"] a');
    expect(await missing.allTextContents()).toEqual(["Olivia Root"]);
    expect(await missing.first().getAttribute("href")).toBe(`/settings/members/${rootId}`);

    // Sign-ins in the last 30 days (the preference's default): 4 (this one too), and Dev's 2 failures.
    const signIns = page.locator('[data-testid="overview-sign-ins-summary"]');
    expect(await signIns.getAttribute("data-succeeded")).toBe("4");
    expect(await signIns.getAttribute("data-failed")).toBe("2");
    expect(await signIns.textContent()).toBe("4 sign-ins and 2 failed in the last 30 days.");
    await page.locator('[data-testid="overview-sign-ins-chart"] svg').first().waitFor();
    expect(await page.inputValue('select[name="overview_range"]')).toBe("last_30_days");
    expect(await page.inputValue('select[name="overview_metric"]')).toBe("active_users");
    expect(await page.textContent('[data-testid="overview-metric-heading"]')).toBe("Active users");
    expect(await page.getAttribute('[data-testid="overview-metric-summary"]', "data-total")).toBe("3");

    // The table fallback says what the chart shows.
    await page.click('[data-testid="overview-sign-ins"] summary');
    const rows = page.locator('[data-testid="overview-sign-ins-table"] tbody tr');
    expect(await rows.count()).toBe(30);
    expect(await rows.last().locator('[data-column="succeeded"]').textContent()).toBe("4");
    expect(await rows.last().locator('[data-column="failed"]').textContent()).toBe("2");

    // Ivy has not signed in for 40 days.
    expect(await page.getAttribute('[data-testid="overview-inactive"]', "data-count")).toBe("1");
    expect(
      await page
        .locator('[data-testid="overview-inactive-member"]')
        .evaluateAll((items) => items.map((item) => item.getAttribute("data-email"))),
    ).toEqual(["ivy@journey.example"]);

    // Admin activity and the next bill (Root holds audit:read and billing:read).
    const actions = await page
      .locator('[data-testid="overview-activity-event"]')
      .evaluateAll((items) => items.map((item) => item.getAttribute("data-action")));
    expect(actions).toContain("member.suspended");
    // …each told as the audit log tells it, with the people's names.
    expect(
      await page.textContent('[data-testid="overview-activity-event"][data-action="member.suspended"]'),
    ).toMatch(/^Olivia Root suspended Sam\b/);
    expect(await page.textContent('[data-testid="overview-plan"]')).toContain("Team");
    expect(await page.textContent('[data-testid="overview-next-bill"]')).toMatch(/^\$\d/);
    await expectAccessible(page, "overview (light)");

    // Choosing another metric here changes the chart at once.
    await page.selectOption('select[name="overview_metric"]', "logins");
    await expect.poll(() => page.textContent('[data-testid="overview-metric-heading"]')).toBe("Logins");

    // The user's preferences: the last 90 days, logins.
    await page.click('nav[aria-label="Settings sections"] a:has-text("Preferences")');
    await page.waitForURL(/\/settings\/preferences$/);
    await page.selectOption('select[name="default_date_range"]', "last_90_days");
    await page.selectOption('select[name="default_chart_metric"]', "logins");
    const saved = page.waitForResponse(
      (response) =>
        response.url().endsWith("/api/v1/me/preferences") && response.request().method() === "PUT",
    );
    await page.click('form:has(select[name="default_date_range"]) button[type="submit"]');
    expect((await saved).status()).toBe(200);

    await page.click('nav[aria-label="Settings sections"] a:has-text("Overview")');
    await page.waitForURL(/\/settings\/overview$/);
    await settled(page);
    await expect.poll(() => page.inputValue('select[name="overview_range"]')).toBe("last_90_days");
    expect(await page.inputValue('select[name="overview_metric"]')).toBe("logins");
    await expect
      .poll(() => page.getAttribute('[data-testid="overview-metric"]', "data-range"))
      .toBe("last_90_days");
    expect(await page.textContent('[data-testid="overview-metric-heading"]')).toBe("Logins");
    // Ivy's sign-in 40 days ago is in the last 90 days.
    expect(await page.getAttribute('[data-testid="overview-metric-summary"]', "data-total")).toBe("5");
    expect(await page.textContent('[data-testid="overview-sign-ins-summary"]')).toBe(
      "5 sign-ins and 2 failed in the last 90 days.",
    );
    await page.click('[data-testid="overview-metric"] summary');
    const metricRows = page.locator('[data-testid="overview-metric-table"] tbody tr');
    expect(await metricRows.count()).toBe(90);
    expect(await page.textContent('[data-testid="overview-metric-table"] thead')).toContain("Logins");

    // The same page, dark.
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await settled(page);
    expect(await page.inputValue('select[name="overview_range"]')).toBe("last_90_days");
    await page.locator('[data-testid="overview-metric-chart"] svg').first().waitFor();
    await expectAccessible(page, "overview (dark)");
    await context.close();
  });

  it("lands a member without members:read on their profile, and a Developer on the overview without the bill", async () => {
    const root = createClient(t.app);
    await root.post("/api/v1/auth/login", { email: ROOT_EMAIL, password: STRONG_PASSWORD });
    const me = await root.get("/api/v1/me");
    const accountId = me.body.memberships[0].account_id as string;
    await addMember(t, { client: root, accountId }, { email: "bill@journey.example", roleKey: "billing" });

    const context = await browser.newContext();
    const page = await context.newPage();
    const logIn = async (email: string) => {
      await page.goto(`${base}/login`);
      await page.fill('input[name="email"]', email);
      await page.fill('input[name="password"]', STRONG_PASSWORD);
      await page.click('button[type="submit"]');
    };
    await logIn("bill@journey.example");
    await page.waitForURL(/\/settings\/profile$/);
    expect(await page.locator('nav[aria-label="Settings sections"] a:has-text("Overview")').count()).toBe(0);
    await context.clearCookies();

    // Dev (a Developer: members:read, neither billing:read nor audit:read).
    await logIn("dev@journey.example");
    await page.waitForURL(/\/settings\/overview$/);
    await settled(page);
    expect(await page.locator('[data-testid="overview-billing"]').count()).toBe(0);
    expect(await page.locator('[data-testid="overview-activity"]').count()).toBe(0);
    expect(await page.getAttribute('[data-testid="overview-count-active"]', "data-count")).toBe("5");
    await context.close();
  });
});
