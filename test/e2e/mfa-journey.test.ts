import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTotp, TOTP_PERIOD } from "../../src/mfa/totp.js";
import { createClient, createTestApp, signUpVerified, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";

describe("two-factor journey in a real browser", () => {
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
      email: "otp@example.com",
      password: PASSWORD,
      name: "Otto Pei",
      account: "OTP",
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const code = (secret: string) => newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() });
  const logInWithPassword = async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "otp@example.com");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('input[name="code"]');
  };
  const logOut = async () => {
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
  };

  it("enrolls TOTP from the shown key, logs in with it, then with a recovery code, and regenerates codes", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "otp@example.com");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);

    await page.goto(`${base}/settings/security`);
    await page.click('[data-testid="totp-enable"]');
    await page.waitForSelector('[data-testid="totp-qr"]');
    const secret = ((await page.textContent('[data-testid="totp-secret"]')) ?? "").replace(/\s/g, "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.fill('[data-testid="totp-dialog"] input[name="code"]', code(secret));
    await page.click('[data-testid="totp-verify"]');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    const codes = await page.locator('[data-testid="recovery-code"]').allTextContents();
    expect(codes).toHaveLength(10);
    await page.click('[data-testid="recovery-saved"]');
    await expect.poll(() => page.getAttribute('[data-testid="mfa-status"]', "data-enabled")).toBe("true");
    await logOut();

    // Log in with the next TOTP code (the enrollment code is spent).
    t.services.clock.advance(TOTP_PERIOD);
    await logInWithPassword();
    await page.fill('input[name="code"]', code(secret));
    await page.click('[data-testid="mfa-submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await logOut();

    // Log in with a recovery code; it then counts one fewer.
    await logInWithPassword();
    await page.click('[data-testid="use-recovery"]');
    await page.fill('input[name="code"]', codes[0] as string);
    await page.click('[data-testid="mfa-submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/security`);
    await expect
      .poll(() => page.getAttribute('[data-testid="recovery-remaining"]', "data-remaining"))
      .toBe("9");

    // Eleven minutes later the session is no longer fresh: once confirmed, regenerating asks for the
    // password before anything changes.
    t.services.clock.advance(11 * 60);
    await page.reload();
    // Regenerating asks first, saying that the old codes stop working.
    await page.click('[data-testid="recovery-regenerate"]');
    await expectDialogInViewport(page);
    expect(await page.textContent('[data-testid="recovery-regenerate-dialog"]')).toContain(
      "Your 9 unused recovery codes stop working at once",
    );
    expect(await page.textContent('[data-testid="recovery-regenerate-confirm"]')).toBe("Regenerate codes");
    await page.click('[data-testid="recovery-regenerate-confirm"]');
    await page.waitForSelector('[data-testid="reauth-dialog"]');
    // The user's own options only: an authenticator code and recovery codes, no emailed code.
    await page.waitForSelector('[data-testid="reauth-use-code"]');
    expect(await page.locator('[data-testid="reauth-use-recovery"]').count()).toBe(1);
    expect(await page.locator('[data-testid="reauth-use-email"]').count()).toBe(0);
    await page.fill('[data-testid="reauth-dialog"] input[name="password"]', PASSWORD);
    await page.click('[data-testid="reauth-submit"]');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    const fresh = await page.locator('[data-testid="recovery-code"]').allTextContents();
    expect(fresh).toHaveLength(10);
    expect(fresh).not.toContain(codes[1]);
    await page.click('[data-testid="recovery-saved"]');
    await expect
      .poll(() => page.getAttribute('[data-testid="recovery-remaining"]', "data-remaining"))
      .toBe("10");

    // An old code no longer works.
    const attempt = await createClient(t.app).post("/api/v1/auth/login", {
      email: "otp@example.com",
      password: PASSWORD,
    });
    const old = await createClient(t.app).post("/api/v1/auth/login/mfa", {
      mfa_token: attempt.body.mfa_token,
      method: "recovery_code",
      code: codes[1],
    });
    expect(old.body.code).toBe("invalid_code");
  });
});
