import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

describe.each(testDialects())("user assignments journey in a real browser on %s", (dialect) => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // An account with a Root owner, a second Root, an Admin (who acts), two Monitors and a team that
    // gives the Developer role — seeded through the API.
    const owner = await signUpAndLogin(t, { email: "rita@acme.example", name: "Rita Root", account: "Acme" });
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    const ownerRef = { client: owner.client, accountId: owner.accountId };
    await addMember(t, ownerRef, { email: "ada@acme.example", roleKey: "admin", firstName: "Ada" });
    await addMember(t, ownerRef, { email: "rob@acme.example", roleKey: "root", firstName: "Rob" });
    await addMember(t, ownerRef, {
      email: "mona@acme.example",
      roleKey: "monitor",
      firstName: "Mona",
    });
    const teo = await addMember(t, ownerRef, {
      email: "teo@acme.example",
      roleKey: "monitor",
      firstName: "Teo",
    });
    const api = `/api/v1/accounts/${owner.accountId}`;
    const roles = (await owner.client.get(`${api}/roles`)).body.data as Array<{ id: string; key: string }>;
    const developer = roles.find((r) => r.key === "developer")?.id;
    const platform = await owner.client.post(`${api}/teams`, { name: "Platform", role_id: developer });
    if (platform.statusCode !== 201) throw new Error(platform.payload);
    await owner.client.put(`${api}/teams/${platform.body.id}/members`, { user_ids: [teo.userId] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const row = (email: string) => page.locator(`[data-testid="assignment-row"][data-email="${email}"]`);

  it("shows where a permission comes from, and changes two members' role with one refused and explained", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "ada@acme.example");
    await page.fill('input[name="password"]', STRONG_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);

    // The sidebar offers the page in the Account group.
    await page.click('nav[aria-label="Settings sections"] a:has-text("User assignments")');
    await page.waitForURL(/\/settings\/assignments$/);
    await expect.poll(() => page.locator('[data-testid="assignment-row"]').count()).toBe(5);
    expect(await page.locator('[data-testid="assignments-team-column"]').allTextContents()).toEqual([
      "Platformgives Developer",
    ]);
    expect(await row("teo@acme.example").locator("td .badge").first().textContent()).toBe("Member");
    expect(await row("mona@acme.example").getByRole("link").getAttribute("href")).toMatch(
      /^\/settings\/members\/usr_/,
    );
    await expectAccessible(page, "User assignments (light)");

    // Who may write resources, and through what.
    await page.selectOption('select[name="permission"]', "resources:write");
    await page.waitForSelector('[data-testid="assignments-permission-column"]');
    const source = (email: string) => row(email).locator('[data-testid="assignment-source"]');
    await expect
      .poll(() => source("teo@acme.example").textContent())
      .toBe("Yes via team Platform (Developer)");
    expect(await source("ada@acme.example").textContent()).toBe("Yes Admin role");
    expect(await source("rita@acme.example").textContent()).toBe("Yes Root role");
    expect(await source("mona@acme.example").getAttribute("data-held")).toBe("false");
    await page.check('input[name="only_holders"]');
    await expect.poll(() => page.locator('[data-testid="assignment-row"]').count()).toBe(4);
    expect(await row("mona@acme.example").count()).toBe(0);
    await page.uncheck('input[name="only_holders"]');
    await expect.poll(() => page.locator('[data-testid="assignment-row"]').count()).toBe(5);

    // The Admin's own row has no checkbox: the server refuses changing your own role.
    expect(await row("ada@acme.example").locator('[data-testid="assignment-select"]').count()).toBe(0);

    // Two members to Developer: Mona changes; Rob is a Root, which an Admin cannot change.
    await row("mona@acme.example").locator('[data-testid="assignment-select"]').check();
    await row("rob@acme.example").getByRole("checkbox").focus();
    await page.keyboard.press("Space");
    expect(await row("rob@acme.example").getByRole("checkbox").isChecked()).toBe(true);
    await page.click('[data-testid="bulk-role-open"]');
    const dialog = page.locator('[data-testid="bulk-role-dialog"]');
    await dialog.waitFor();
    await expectDialogInViewport(page);
    expect(await dialog.locator("h2").textContent()).toBe("Change the role of 2 members");
    await expectAccessible(page, "Change role dialog");
    const developer = await dialog.locator("option", { hasText: "Developer" }).getAttribute("value");
    await dialog.locator('select[name="role_id"]').selectOption(developer as string);
    await page.click('[data-testid="bulk-role-submit"]');

    const outcome = page.locator('[data-testid="bulk-role-outcome"]');
    await outcome.waitFor();
    expect(await outcome.locator("p").first().textContent()).toBe(
      "1 member is now Developer; 1 was not changed.",
    );
    const refused = outcome.locator('[data-testid="bulk-role-result"][data-ok="false"]');
    expect(await refused.getAttribute("data-code")).toBe("root_only");
    expect(await refused.textContent()).toContain("Only a Root user can change");
    expect(await refused.textContent()).toContain("Rob");
    // The table shows the change; the refused one stays ticked to try again.
    await expect
      .poll(() => row("mona@acme.example").locator('[data-testid="assignment-role"]').textContent())
      .toBe("Developer");
    expect(await row("rob@acme.example").locator('[data-testid="assignment-role"]').textContent()).toBe(
      "Root",
    );
    expect(await source("mona@acme.example").textContent()).toBe("Yes Developer role");
    expect(await row("rob@acme.example").getByRole("checkbox").isChecked()).toBe(true);
    await expectAccessible(page, "User assignments with results (light)");
  });

  it("is axe-clean in the dark theme, with a permission shown and the dialog open", async () => {
    const dark = await (
      await browser.newContext({ colorScheme: "dark", viewport: { width: 1280, height: 900 } })
    ).newPage();
    await dark.goto(`${base}/login`);
    await dark.fill('input[name="email"]', "ada@acme.example");
    await dark.fill('input[name="password"]', STRONG_PASSWORD);
    await dark.click('button[type="submit"]');
    await dark.waitForURL(/\/settings\//);
    await dark.goto(`${base}/settings/assignments`);
    await expect.poll(() => dark.locator('[data-testid="assignment-row"]').count()).toBe(5);
    await dark.selectOption('select[name="permission"]', "resources:write");
    await dark.waitForSelector('[data-testid="assignment-source"][data-held="true"]');
    await expectAccessible(dark, "User assignments (dark)");
    await dark.locator('[data-testid="assignment-select"]').first().check();
    await dark.click('[data-testid="bulk-role-open"]');
    await dark.locator('[data-testid="bulk-role-dialog"]').waitFor();
    await expectAccessible(dark, "Change role dialog (dark)");
    await dark.keyboard.press("Escape");
    await dark.context().close();
  });
});
