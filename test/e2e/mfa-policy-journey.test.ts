import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../../src/mfa/totp.js";
import {
  addMember,
  createTestApp,
  STRONG_PASSWORD,
  signUpVerified,
  type TestApp,
} from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

describe("an account enforcing MFA for Admins, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("makes an Admin enroll at their next log-in before doing anything else", async () => {
    const client = await signUpVerified(t, {
      email: "boss@corp.example",
      password: STRONG_PASSWORD,
      name: "Bo Ss",
      account: "Corp",
    });
    const login = await client.post("/api/v1/auth/login", {
      email: "boss@corp.example",
      password: STRONG_PASSWORD,
    });
    const owner = { client, accountId: login.body.account_id as string };
    const admin = await addMember(t, owner, { email: "admin@corp.example", roleKey: "admin" });
    const roles = (await client.get(`/api/v1/accounts/${owner.accountId}/roles`)).body.data as Array<{
      key: string;
      id: string;
    }>;
    const adminRole = roles.find((r) => r.key === "admin")?.id;
    // The Root enforces MFA for Admins with no grace period.
    const policy = await client.patch(`/api/v1/accounts/${owner.accountId}/security`, {
      mfa: { required_role_ids: [adminRole], grace_days: 0 },
    });
    expect(policy.statusCode).toBe(200);

    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "admin@corp.example");
    await page.fill('input[name="password"]', admin.password);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/security$/);
    expect(await page.getAttribute('[data-testid="mfa-due-banner"]', "data-overdue")).toBe("true");
    // Nothing else works until they enroll.
    expect(
      await page.evaluate(
        (id) => fetch(`/api/v1/accounts/${id}/members`).then((r) => r.status),
        owner.accountId,
      ),
    ).toBe(403);
    await page.goto(`${base}/settings/users`);
    await page.waitForURL(/\/settings\/security$/);

    await page.click('[data-testid="totp-enable"]');
    await page.waitForSelector('[data-testid="totp-qr"]');
    const secret = ((await page.textContent('[data-testid="totp-secret"]')) ?? "").replace(/\s/g, "");
    await page.fill(
      '[data-testid="totp-dialog"] input[name="code"]',
      newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() }),
    );
    await page.click('[data-testid="totp-verify"]');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    await page.click('[data-testid="recovery-saved"]');
    await expect.poll(() => page.locator('[data-testid="mfa-due-banner"]').count()).toBe(0);
    await page.goto(`${base}/settings/users`);
    await page.waitForSelector('[data-testid="member-row"]');
    expect(
      await page.evaluate(
        (id) => fetch(`/api/v1/accounts/${id}/members`).then((r) => r.status),
        owner.accountId,
      ),
    ).toBe(200);
  });
});
