import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  signUpVerified,
  type TestApp,
  tokenOf,
} from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";

/** Errors on their fields, banners that go, dead links said at once, phone numbers with a country picker. */
describe("forms and their errors in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext({ locale: "en-US", timezoneId: "America/New_York" })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The message under the input named `name`, through its aria-describedby. */
  async function fieldError(name: string): Promise<string | null> {
    const input = page.locator(`input[name="${name}"]`);
    if ((await input.getAttribute("aria-invalid")) !== "true") return null;
    const ids = ((await input.getAttribute("aria-describedby")) ?? "")
      .split(" ")
      .filter((id) => id.endsWith("-error"));
    return ids[0] ? page.locator(`[id="${ids[0]}"]`).textContent() : null;
  }
  const alerts = () => page.locator('[role="alert"]').allTextContents();

  async function logIn(email: string) {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
  }

  it("shows every sign-up problem on its field in one answer, with one banner at most", async () => {
    await page.goto(`${base}/signup`);
    await page.fill('input[name="email"]', "not-an-address");
    await page.fill('input[name="name"]', "   ");
    await page.fill('input[name="password"]', "password");
    await page.click('button[type="submit"]');
    await expect.poll(() => fieldError("email")).toBe("Enter an email address like name@example.com");
    expect(await fieldError("name")).toBe("Enter a name");
    expect(await fieldError("account_name")).toBe("Enter an account name");
    expect(await fieldError("password")).toBe("This password does not meet every requirement below.");
    // The checklist says which rules the server refused.
    expect(
      await page.getAttribute('[data-testid="policy-rule"][data-rule="common_password"]', "data-status"),
    ).toBe("fail");
    // Every message sits on its field: no banner repeats them, and none says "email: …".
    const banners = await alerts();
    expect(banners.length).toBeLessThanOrEqual(1);
    for (const text of banners) {
      expect(text).not.toMatch(/Enter an (email|account)|Enter a name|^\w+:/);
    }
    // Focus went to the first field to fix, whose message a screen reader reads with it.
    expect(await page.locator(":focus").getAttribute("name")).toBe("email");

    // Fixing a field takes its message away; the others stay until they are fixed too.
    await page.fill('input[name="email"]', "forms@example.com");
    expect(await fieldError("email")).toBeNull();
    expect(await fieldError("name")).toBe("Enter a name");
    await page.fill('input[name="name"]', "Form Filler");
    await page.fill('input[name="account_name"]', "Forms Co");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="signup-done"]');
  });

  it("clears the log-in banner as soon as the password is edited", async () => {
    await page.goto(`${base}/login`);
    await page.click('button[type="submit"]');
    // Empty fields are said on the fields, not as "email: …" in a banner.
    await expect.poll(() => fieldError("email")).toBe("Enter an email address");
    expect(await fieldError("password")).toBe("Enter a password");
    expect(await page.locator('[data-testid="login-error"]').count()).toBe(0);

    await page.fill('input[name="email"]', "forms@example.com");
    await page.fill('input[name="password"]', "not-the-password-at-all");
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="login-error"]');
    expect(await page.textContent('[data-testid="login-error"]')).toBe("Email or password is incorrect.");
    await page.type('input[name="password"]', "!");
    expect(await page.locator('[data-testid="login-error"]').count()).toBe(0);
    expect(await alerts()).toEqual([]);
  });

  it("says a used reset link is dead as the page opens, before a password is typed", async () => {
    await signUpVerified(t, { email: "reset-dead@example.com", password: PASSWORD });
    await createClient(t.app).post("/api/v1/auth/password/forgot", { email: "reset-dead@example.com" });
    const token = tokenOf(await t.linkFor("reset-dead@example.com", /Reset your password/));

    // A live link opens the form, and checking it did not use it up.
    await page.goto(`${base}/reset-password?token=${token}`);
    await page.waitForSelector('input[name="password"]');
    expect(await page.locator('[data-testid="reset-link-dead"]').count()).toBe(0);
    const used = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token,
      password: "Amber-Meadow-Orbit-7291",
    });
    expect(used.statusCode).toBe(200);

    await page.goto(`${base}/reset-password?token=${token}`);
    await page.waitForSelector('[data-testid="reset-link-dead"]');
    expect(await page.textContent('[data-testid="reset-link-dead"]')).toBe(
      "This link was used or has expired — request a new one.",
    );
    expect(await page.locator('input[name="password"]').count()).toBe(0);
    expect(await page.getAttribute('[data-testid="request-new-link"]', "href")).toBe("/forgot-password");
  });

  it("enrolls a phone for text-message codes through the country picker, sending E.164", async () => {
    await signUpVerified(t, { email: "picker@example.com", password: PASSWORD, name: "Pick Er" });
    await logIn("picker@example.com");
    await page.goto(`${base}/settings/security`);
    await page.click('[data-testid="sms-enable"]');
    const dialog = '[data-testid="sms-dialog"]';
    // The field waits for the phone kit (its own chunk); then the browser's language (en-US) and time
    // zone pick the United States to start with.
    await expect.poll(() => page.isEnabled(`${dialog} input[name="phone"]`)).toBe(true);
    expect(await page.inputValue(`${dialog} select[name="phone_country"]`)).toBe("US");
    await page.selectOption(`${dialog} select[name="phone_country"]`, "GB");
    await page.type(`${dialog} input[name="phone"]`, "0770");
    await page.click('[data-testid="sms-send"]');
    await expect
      .poll(() => fieldError("phone"))
      .toBe("That is not a possible phone number in United Kingdom. Check the number and the country.");
    await page.type(`${dialog} input[name="phone"]`, "0900456");
    // Formatted as typed, the message gone with the edit.
    expect(await page.inputValue(`${dialog} input[name="phone"]`)).toBe("07700 900456");
    expect(await fieldError("phone")).toBeNull();
    await page.click('[data-testid="sms-send"]');
    await page.waitForSelector('[data-testid="sms-dialog-sent"]');
    expect(await page.textContent('[data-testid="sms-dialog-sent"]')).toContain("•••• 0456");
    const sent = await t.services.db.selectFrom("sms_outbox").select("to_number").execute();
    expect(sent.map((row) => row.to_number)).toContain("+447700900456");
  });

  it("saves the profile's mobile number in E.164 and shows it back in its country's form", async () => {
    await page.goto(`${base}/settings/profile`);
    await expect.poll(() => page.isEnabled('input[name="mobile"]')).toBe(true);
    await page.selectOption('select[name="mobile_country"]', "FR");
    await page.fill('input[name="mobile"]', "0612345678");
    expect(await page.inputValue('input[name="mobile"]')).toBe("06 12 34 56 78");
    await page.click('form:has(input[name="username"]) button[type="submit"]');
    await page.waitForSelector('[data-testid="profile-saved"]');
    const me = await page.evaluate(() => fetch("/api/v1/me").then((r) => r.json()));
    expect(me).toMatchObject({ mobile: "+33612345678" });
    await page.reload();
    await expect.poll(() => page.inputValue('input[name="mobile"]')).toBe("06 12 34 56 78");
    expect(await page.inputValue('select[name="mobile_country"]')).toBe("FR");
  });
});
