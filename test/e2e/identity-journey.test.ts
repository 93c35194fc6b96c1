import { existsSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createTestApp, type TestApp, tokenOf } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const NEW_PASSWORD = "Quiet-Meadow-Lantern-77";

describe("identity journey in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    if (!existsSync("web/dist/index.html")) throw new Error("Build the web app first: npm run build:web");
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("signs up, verifies via the mail, logs in, edits the profile, changes the password, revokes a session, logs out", async () => {
    // Sign up, watching the live policy checklist: every rule is listed before anything is typed.
    await page.goto(`${base}/signup`);
    const rule = (code: string) => `[data-testid="policy-rule"][data-rule="${code}"]`;
    const ruleStatuses = () =>
      page.$$eval('[data-testid="policy-rule"]', (items) =>
        items.map((item) => `${item.getAttribute("data-rule")}:${item.getAttribute("data-status")}`),
      );
    await expect
      .poll(ruleStatuses)
      .toEqual([
        "min_length:pending",
        "contains_email:pending",
        "contains_name:pending",
        "common_password:pending",
        "min_strength:pending",
      ]);
    await page.fill('input[name="email"]', "journey@example.com");
    await page.fill('input[name="name"]', "Jo Urney");
    await page.fill('input[name="account_name"]', "Journey Ltd");
    await page.fill('input[name="password"]', "short");
    await expect.poll(() => page.getAttribute(rule("min_length"), "data-ok")).toBe("false");
    // Long enough, but guessable: the strength estimate (its dictionaries load now) says why.
    await page.fill('input[name="password"]', "password123456");
    await expect.poll(() => page.getAttribute(rule("min_strength"), "data-status")).toBe("fail");
    expect(await page.textContent(`${rule("min_strength")} [data-testid="policy-rule-detail"]`)).toBe(
      "This is similar to a commonly used password. Add more words that are less common.",
    );
    await page.fill('input[name="password"]', "urney-Harbor-sunrise-42");
    await expect.poll(() => page.getAttribute(rule("contains_name"), "data-status")).toBe("fail");
    await page.fill('input[name="password"]', PASSWORD);
    await expect
      .poll(ruleStatuses)
      .toEqual([
        "min_length:ok",
        "contains_email:ok",
        "contains_name:ok",
        "common_password:pending",
        "min_strength:ok",
      ]);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="signup-done"]');

    // Verify through the link that arrived over SMTP.
    const token = tokenOf(await t.linkFor("journey@example.com", /Confirm your email/));
    await page.goto(`${base}/verify-email?token=${token}`);
    await page.waitForSelector('[data-testid="verify-ok"]');

    // A wrong password first, then the right one.
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "journey@example.com");
    await page.fill('input[name="password"]', "not-my-password-at-all");
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="login-error"]');
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/profile`);
    expect(await page.getAttribute('[data-testid="email-verified"]', "data-verified")).toBe("true");

    // Profile: a taken username shows next to the field; a good one saves.
    const other = createClient(t.app);
    await other.post("/api/v1/auth/signup", {
      email: "other@example.com",
      password: PASSWORD,
      name: "Oth Er",
      account_name: "O",
    });
    const otherVerify = tokenOf(await t.linkFor("other@example.com", /Confirm/));
    await other.post("/api/v1/auth/verify-email", { token: otherVerify });
    await other.post("/api/v1/auth/login", { email: "other@example.com", password: PASSWORD });
    await other.patch("/api/v1/me", { username: "taken_name" });

    await page.fill('input[name="username"]', "taken_name");
    await page.click('form:has(input[name="username"]) button[type="submit"]');
    const usernameId = await page.getAttribute('input[name="username"]', "id");
    await expect
      .poll(() =>
        page
          .locator(`[id="${usernameId}-error"]`)
          .textContent()
          .catch(() => ""),
      )
      .toMatch(/taken/i);
    expect(await page.getAttribute('input[name="username"]', "aria-describedby")).toContain(
      `${usernameId}-error`,
    );
    await page.fill('input[name="username"]', "jo_urney");
    await page.fill('input[name="first_name"]', "Joanna");
    await page.selectOption('select[name="timezone"]', "Europe/Berlin");
    await page.click('form:has(input[name="username"]) button[type="submit"]');
    await page.waitForSelector('[data-testid="profile-saved"]');
    const me = await page.evaluate(() => fetch("/api/v1/me").then((r) => r.json()));
    expect(me).toMatchObject({ username: "jo_urney", first_name: "Joanna", timezone: "Europe/Berlin" });

    // Another device logs in; it shows in the list and can be revoked from here.
    const phone = createClient(t.app, {
      ip: "203.0.113.20",
      userAgent:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile/15E148 Safari/604.1",
    });
    await phone.post("/api/v1/auth/login", { email: "journey@example.com", password: PASSWORD });

    // Change the password (this ends the other session too), then log the phone in again.
    await page.goto(`${base}/settings/security`);
    await page.fill('input[name="current_password"]', PASSWORD);
    await page.fill('input[name="new_password"]', NEW_PASSWORD);
    await page.fill('input[name="confirm_password"]', NEW_PASSWORD);
    await page.click('form:has(input[name="current_password"]) button[type="submit"]');
    await page.waitForSelector('[data-testid="password-changed"]');
    expect((await phone.get("/api/v1/me")).statusCode).toBe(401);
    expect(
      (await phone.post("/api/v1/auth/login", { email: "journey@example.com", password: NEW_PASSWORD }))
        .statusCode,
    ).toBe(200);

    await page.reload();
    await expect.poll(() => page.locator('[data-testid="session-row"]').count()).toBe(2);
    const phoneRow = page.locator('[data-testid="session-row"][data-current="false"]');
    expect(await phoneRow.textContent()).toMatch(/iOS/);
    await phoneRow.locator('[data-testid="revoke-session"]').click();
    await page.click('[data-testid="revoke-session-confirm"]');
    await expect.poll(() => page.locator('[data-testid="session-row"]').count()).toBe(1);
    expect(await page.getAttribute('[data-testid="session-row"]', "data-current")).toBe("true");
    expect((await phone.get("/api/v1/me")).statusCode).toBe(401);

    // Log out: back to the log-in page, and the cookie no longer works.
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
    const after = await page.evaluate(() => fetch("/api/v1/me").then((r) => r.status));
    expect(after).toBe(401);
    await page.goto(`${base}/settings/profile`);
    await page.waitForURL(/\/login/);
  });

  it("does not offer email codes while the address is unverified, and offers a new verification link", async () => {
    const client = createClient(t.app);
    await client.post("/api/v1/auth/signup", {
      email: "unverified@example.com",
      password: PASSWORD,
      name: "Una Verified",
      account_name: "Unverified Co",
    });
    await t.linkFor("unverified@example.com", /Confirm/);
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "unverified@example.com");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/security`);
    await page.waitForSelector('[data-testid="totp-enable"]');
    expect(await page.locator('[data-testid="email-enable"]').count()).toBe(0);
    expect(await page.textContent('[data-testid="email-codes-unverified"]')).toMatch(
      /Email codes need a verified address/,
    );
    const mails = () => t.mails.filter((m) => m.to === "unverified@example.com" && /Confirm/.test(m.subject));
    const before = mails().length;
    await page.click('[data-testid="email-codes-resend"]');
    await page.waitForSelector('[data-testid="email-codes-resend-status"]');
    await expect.poll(() => mails().length).toBe(before + 1);

    // Verified (through the new link), the offer is back.
    const token = tokenOf(await t.linkFor("unverified@example.com", /Confirm/));
    expect((await createClient(t.app).post("/api/v1/auth/verify-email", { token })).statusCode).toBe(200);
    await page.reload();
    await page.waitForSelector('[data-testid="email-enable"]');
    expect(await page.locator('[data-testid="email-codes-unverified"]').count()).toBe(0);
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
  });

  it("applies the theme at once from General settings and keeps it after saving", async () => {
    const client = createClient(t.app);
    await client.post("/api/v1/auth/login", { email: "journey@example.com", password: NEW_PASSWORD });
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "journey@example.com");
    await page.fill('input[name="password"]', NEW_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/general`);
    await page.selectOption('select[name="theme"]', "dark");
    expect(await page.getAttribute("html", "data-theme")).toBe("dark");
    await page.click('form:has(select[name="theme"]) button[type="submit"]');
    await page.waitForSelector('[data-testid="prefs-saved"]');
    expect((await client.get("/api/v1/me/preferences")).body.theme).toBe("dark");
  });
});
