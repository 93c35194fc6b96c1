import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, createTestApp, signUpAndLogin, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const MEMBER = "texter@example.com";

describe("text-message codes and an admin viewing a member's recovery codes, in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The 6-digit code in the newest text message to the number, from the development outbox. */
  async function textedCode(to: string, after: number): Promise<string> {
    for (let i = 0; i < 100; i++) {
      const rows = await t.services.db
        .selectFrom("sms_outbox")
        .select(["text_body", "created_at"])
        .where("to_number", "=", to)
        .orderBy("created_at", "desc")
        .execute();
      if (rows.length > after) return /\b(\d{6})\b/.exec(rows[0]?.text_body ?? "")?.[1] as string;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no text message to ${to}`);
  }

  async function logIn(page: Page, email: string) {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
  }

  it("enrolls a phone and email codes, logs in with a texted code, and the admin sees the same unused recovery codes", async () => {
    const root = await signUpAndLogin(t, {
      email: "boss@example.com",
      account: "Texters",
      password: PASSWORD,
    });
    await addMember(t, root, { email: MEMBER, roleKey: "developer", password: PASSWORD, firstName: "Tex" });

    const member = await (await browser.newContext()).newPage();
    await logIn(member, MEMBER);
    await member.waitForURL(/\/settings\/(overview|profile)$/);
    await member.goto(`${base}/settings/security`);
    await member.click('[data-testid="sms-enable"]');
    await member.fill('[data-testid="sms-dialog"] input[name="phone"]', "0044 7700 900 321");
    await member.click('[data-testid="sms-send"]');
    await member.waitForSelector('[data-testid="sms-dialog-sent"]');
    expect(await member.textContent('[data-testid="sms-dialog-sent"]')).toContain("•••• 0321");
    await member.fill('[data-testid="sms-dialog"] input[name="code"]', await textedCode("+447700900321", 0));
    await member.click('[data-testid="sms-verify"]');
    await member.waitForSelector('[data-testid="recovery-codes"]');
    const codes = await member.locator('[data-testid="recovery-code"]').allTextContents();
    expect(codes).toHaveLength(10);
    await member.click('[data-testid="recovery-saved"]');
    await member.waitForSelector('[data-testid="mfa-factor"][data-factor-type="sms"]');

    // Email codes as a second method, through the same "type the code back" step.
    t.services.clock.advance(31);
    const mailsBefore = t.mails.length;
    await member.click('[data-testid="email-enable"]');
    await member.waitForSelector('[data-testid="email-dialog-sent"]');
    await member.fill('[data-testid="email-dialog"] input[name="code"]', "000000");
    await member.click('[data-testid="email-verify"]');
    await member.waitForSelector('[data-testid="email-dialog"] .field-error');
    await expect
      .poll(() => t.mails.slice(mailsBefore).some((m) => m.to === MEMBER && /code/i.test(m.subject)))
      .toBe(true);
    const mailed = t.mails.slice(mailsBefore).find((m) => m.to === MEMBER && /code/i.test(m.subject));
    await member.fill(
      '[data-testid="email-dialog"] input[name="code"]',
      /\b(\d{6})\b/.exec(mailed?.text ?? "")?.[1] ?? "",
    );
    await member.click('[data-testid="email-verify"]');
    await member.waitForSelector('[data-testid="mfa-factor"][data-factor-type="email"]');
    await member.click('[data-testid="user-menu"]');
    await member.click('[data-testid="logout"]');
    await member.waitForURL(/\/login$/);

    // The second step offers the text message; the email code went out moments ago, so wait out the 30 s.
    t.services.clock.advance(31);
    await logIn(member, MEMBER);
    await member.waitForSelector('[data-testid="send-sms-code"]');
    await member.click('[data-testid="send-sms-code"]');
    await member.waitForSelector('[data-testid="sms-code-sent"]');
    await member.fill('input[name="code"]', await textedCode("+447700900321", 1));
    await member.click('[data-testid="mfa-submit"]');
    await member.waitForURL(/\/settings\/(overview|profile)$/);

    // The Root opens the member's menu and views their recovery codes: the same ten, and the member is told.
    const admin = await (await browser.newContext()).newPage();
    await logIn(admin, "boss@example.com");
    await admin.waitForURL(/\/settings\/(overview|profile)$/);
    await admin.goto(`${base}/settings/users`);
    const row = admin.locator(`[data-testid="member-row"][data-email="${MEMBER}"]`);
    await row.locator('[data-testid="member-menu"]').click();
    await admin.click('[data-testid="member-action-view-codes"]');
    await admin.click('[data-testid="confirm-dialog"] [data-testid="confirm"]');
    await admin.waitForSelector('[data-testid="recovery-codes"]');
    const shown = await admin.locator('[data-testid="recovery-code"]').allTextContents();
    expect([...shown].sort()).toEqual([...codes].sort());
    await expect
      .poll(() => t.mails.some((m) => m.to === MEMBER && m.subject === "Security codes viewed"))
      .toBe(true);
  });
});
