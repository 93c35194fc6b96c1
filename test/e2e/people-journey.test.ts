import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

/** `member` (an existing, logged-in user) joins `owner`'s account with `roleKey` through an invitation. */
async function join(
  t: TestApp,
  owner: { client: Client; accountId: string },
  member: { client: Client; email: string },
  roleKey: string,
) {
  const roles = (await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`)).body.data as Array<{
    id: string;
    key: string;
  }>;
  const invited = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
    emails: [member.email],
    role_id: roles.find((r) => r.key === roleKey)?.id,
  });
  if (invited.statusCode !== 201 || invited.body.data[0].error) throw new Error(invited.payload);
  const token = tokenOf(await t.linkFor(member.email, /invited/));
  const accepted = await member.client.post("/api/v1/invitations/accept", { token });
  if (accepted.statusCode !== 200) throw new Error(accepted.payload);
}

describe.each(testDialects())("people across accounts in a real browser on %s", (dialect) => {
  let t: TestApp;
  let browser: Browser;
  let base: string;
  let alphaId: string;
  let bravoId: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    // Dana is Root of Alpha (paid) and Admin of Bravo (Free: three seats, all taken).
    const dana = await signUpAndLogin(t, {
      email: "dana@people.example",
      name: "Dana Scully",
      account: "Alpha",
    });
    const bob = await signUpAndLogin(t, { email: "bob@people.example", name: "Bob Ross", account: "Bravo" });
    alphaId = dana.accountId;
    bravoId = bob.accountId;
    await onPaidPlan(t, alphaId);
    await join(t, bob, { client: dana.client, email: "dana@people.example" }, "admin");
    const sam = await addMember(t, dana, {
      email: "sam@people.example",
      roleKey: "developer",
      firstName: "Sam",
    });
    await join(t, bob, { client: sam.client, email: "sam@people.example" }, "monitor");
    await addMember(t, dana, { email: "alice@people.example", firstName: "Alice" });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signIn(colorScheme: "light" | "dark"): Promise<Page> {
    const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "dana@people.example");
    await page.fill('input[name="password"]', STRONG_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);
    return page;
  }

  const rows = (page: Page) => page.locator('[data-testid="person-row"]');
  const row = (page: Page, email: string) =>
    page.locator(`[data-testid="person-row"][data-email="${email}"]`);
  const settle = async (page: Page) => {
    await page.waitForLoadState("networkidle");
    await page.locator(".skeleton").first().waitFor({ state: "detached" });
  };

  it("lists everyone once with their accounts, filters by account, and invites to two accounts with per-account results", async () => {
    const page = await signIn("light");
    // Listed in the sidebar: Dana reads members in two accounts.
    await page.click('[data-testid="nav-people"]');
    await page.waitForURL(/\/settings\/people$/);
    await expect.poll(() => rows(page).count()).toBe(4);
    const samAccounts = row(page, "sam@people.example").locator('[data-testid="person-account"]');
    expect(await samAccounts.evaluateAll((items) => items.map((i) => i.textContent?.trim()))).toEqual([
      "Alpha Developer",
      "Bravo Monitor",
    ]);
    await settle(page);
    await expectAccessible(page, "People (light)");

    await page.selectOption('[data-testid="people-account-filter"]', bravoId);
    await expect.poll(() => rows(page).count()).toBe(3);
    expect(await row(page, "alice@people.example").count()).toBe(0);
    // A person's other administered accounts stay in view under the filter.
    expect(await samAccounts.count()).toBe(2);
    await page.fill('[data-testid="people-search"]', "sam");
    await expect.poll(() => rows(page).count()).toBe(1);
    await page.fill('[data-testid="people-search"]', "");
    await page.selectOption('[data-testid="people-account-filter"]', "");
    await expect.poll(() => rows(page).count()).toBe(4);

    await page.click('[data-testid="people-invite-open"]');
    await expectDialogInViewport(page);
    await page.fill(
      '[data-testid="people-invite-dialog"] textarea[name="emails"]',
      "xena@new.example, yuri@new.example",
    );
    const account = (id: string) =>
      page.locator(`[data-testid="people-invite-account"][data-account-id="${id}"]`);
    const pick = async (id: string, roleName: string) => {
      await account(id).locator('[data-testid="people-invite-check"]').check();
      const select = account(id).locator('[data-testid="people-invite-role"]');
      await expect.poll(() => select.isEnabled()).toBe(true);
      const value = await select.locator("option", { hasText: roleName }).getAttribute("value");
      await select.selectOption(value as string);
    };
    await pick(alphaId, "Developer");
    await pick(bravoId, "Monitor");
    await expectAccessible(page, "Invite to several accounts (light)");
    await page.click('[data-testid="people-invite-submit"]');

    const cell = (email: string, id: string) =>
      page.locator(
        `[data-testid="people-invite-result"][data-email="${email}"] [data-testid="people-invite-cell"][data-account-id="${id}"]`,
      );
    await expect.poll(() => page.locator('[data-testid="people-invite-cell"]').count()).toBe(4);
    for (const email of ["xena@new.example", "yuri@new.example"]) {
      expect(await cell(email, alphaId).getAttribute("data-ok")).toBe("true");
      expect(await cell(email, bravoId).getAttribute("data-ok")).toBe("false");
      expect(await cell(email, bravoId).getAttribute("data-code")).toBe("seat_limit_reached");
      expect(await cell(email, bravoId).textContent()).toMatch(/No free seat in Bravo/);
    }
    expect(await page.textContent('[data-testid="people-invite-summary"]')).toMatch(
      /Sent 2 invitations\. 2 were not sent/,
    );
    await expectAccessible(page, "Invite results (light)");

    // One mail per invitation, in Alpha's name; Bravo sent none.
    for (const email of ["xena@new.example", "yuri@new.example"]) {
      expect(await t.linkFor(email, /invited to join Alpha/)).toMatch(/accept-invitation\?token=/);
    }
    expect(t.mails.some((m) => /invited to join Bravo/.test(m.subject) && /new\.example/.test(m.to))).toBe(
      false,
    );
    await page.context().close();
  });

  it("reads well in the dark theme too", async () => {
    const page = await signIn("dark");
    await page.goto(`${base}/settings/people`);
    await expect.poll(() => rows(page).count()).toBe(4);
    await settle(page);
    await expectAccessible(page, "People (dark)");
    await page.click('[data-testid="people-invite-open"]');
    await page.locator(`[data-testid="people-invite-account"][data-account-id="${alphaId}"] input`).check();
    await expect
      .poll(() =>
        page
          .locator(`[data-testid="people-invite-account"][data-account-id="${alphaId}"] select`)
          .isEnabled(),
      )
      .toBe(true);
    await expectAccessible(page, "Invite to several accounts (dark)");
    await page.context().close();
  });
});
