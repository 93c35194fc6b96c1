import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createTestApp, signUpVerified, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";

describe("email change journey in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await browser.newPage();
    await signUpVerified(t, {
      email: "mover@example.com",
      password: PASSWORD,
      name: "Mo Ver",
      account: "Movers",
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The newest emailed code to `to` that arrived after `after` mails. */
  const emailedCode = async (to: string, after: number) => {
    let code: string | undefined;
    await expect
      .poll(() => {
        code = t.mails
          .slice(after)
          .reverse()
          .find((m) => m.to === to && /Your Gatehouse code/.test(m.subject))
          ?.subject.slice(-6);
        return code;
      })
      .toMatch(/^\d{6}$/);
    return code as string;
  };

  it("changes the email from the Profile tab after re-authenticating with an emailed code, then logs in with it", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "mover@example.com");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);

    // Email codes as the only second factor, set up over the API (a second session of the same user).
    const api = createClient(t.app);
    await api.post("/api/v1/auth/login", { email: "mover@example.com", password: PASSWORD });
    let before = t.mails.length;
    const started = await api.post("/api/v1/me/mfa/email");
    const verified = await api.post(`/api/v1/me/mfa/email/${started.body.factor_id}/verify`, {
      code: await emailedCode("mover@example.com", before),
    });
    expect(verified.statusCode).toBe(200);

    // Eleven minutes later the log-in is no longer fresh: the change asks who it is first.
    t.services.clock.advance(11 * 60);
    // (A Root lands on the overview; the email is changed on the Profile page.)
    await page.goto(`${base}/settings/profile`);
    await page.click('[data-testid="change-email"]');
    await page.fill('[data-testid="change-email-dialog"] input[name="new_email"]', "moved@example.com");
    await page.click('[data-testid="change-email-submit"]');
    await page.waitForSelector('[data-testid="reauth-dialog"]');
    // Exactly the user's options: password, email code, recovery code; no authenticator app.
    await page.waitForSelector('[data-testid="reauth-use-email"]');
    expect(await page.locator('[data-testid="reauth-use-recovery"]').count()).toBe(1);
    expect(await page.locator('[data-testid="reauth-use-code"]').count()).toBe(0);
    await page.click('[data-testid="reauth-use-email"]');
    before = t.mails.length;
    await page.click('[data-testid="reauth-send-code"]');
    await page.waitForSelector('[data-testid="reauth-code-sent"]');
    await page.fill(
      '[data-testid="reauth-dialog"] input[name="code"]',
      await emailedCode("mover@example.com", before),
    );
    await page.click('[data-testid="reauth-submit"]');
    await page.waitForSelector('[data-testid="change-email-sent"]');
    expect(await page.locator('[data-testid="reauth-dialog"]').count()).toBe(0);
    expect(await page.textContent('[data-testid="change-email-sent"]')).toContain("moved@example.com");
    await expect
      .poll(() =>
        t.mails.some((m) => m.to === "mover@example.com" && /Someone asked to change/.test(m.subject)),
      )
      .toBe(true);

    // The link from the real SMTP sink, opened in the same browser.
    const link = await t.linkFor("moved@example.com", /Confirm your new email/);
    await page.goto(link.replace("http://gatehouse.test", base));
    await page.waitForSelector('[data-testid="email-change-ok"]');
    expect(await page.textContent('[data-testid="email-change-ok"]')).toContain("moved@example.com");
    // The API session ended; this browser's stayed.
    expect((await api.get("/api/v1/me")).statusCode).toBe(401);
    await page.goto(`${base}/settings/profile`);
    await page.waitForSelector('[data-testid="change-email"]');
    expect(await page.textContent(".details")).toContain("moved@example.com");

    // Log out and back in with the new address (and the emailed second factor, now sent there).
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
    t.services.clock.advance(31);
    await page.fill('input[name="email"]', "moved@example.com");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="send-email-code"]');
    before = t.mails.length;
    await page.click('[data-testid="send-email-code"]');
    await page.fill('input[name="code"]', await emailedCode("moved@example.com", before));
    await page.click('[data-testid="mfa-submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/profile`);
    expect(await page.getAttribute('[data-testid="email-verified"]', "data-verified")).toBe("true");
  });
});
