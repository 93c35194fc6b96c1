import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, createTestApp, signUpAndLogin, type TestApp } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";

describe("team deletion in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  const teamIds: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp("sqlite");
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    // The teams, made through the API; resources have no API yet, so they are rows the account owns.
    const root = await signUpAndLogin(t, {
      email: "root@teams.example",
      password: PASSWORD,
      account: "Teams",
    });
    const member = await addMember(t, root, { email: "dev@teams.example", firstName: "Dev" });
    for (const name of ["Empty", "Platform", "Design"]) {
      const team = await root.client.post(`/api/v1/accounts/${root.accountId}/teams`, { name });
      teamIds[name] = team.body.id;
    }
    await root.client.put(`/api/v1/accounts/${root.accountId}/teams/${teamIds.Design}/members`, {
      user_ids: [member.userId],
    });
    const now = t.services.clock.now().toISOString();
    for (const name of ["Build pipeline", "Staging cluster"]) {
      await t.services.db
        .insertInto("resources")
        .values({
          id: `res_${randomUUID()}`,
          account_id: root.accountId,
          name,
          owner_team_id: teamIds.Platform as string,
          created_by: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const row = (name: string) => page.locator(`[data-testid="team-row"][data-name="${name}"]`);
  const dialog = () => page.locator('[data-testid="team-delete-dialog"]');

  it("asks where resources go only when the team owns some, and where members go only when it has some", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', "root@teams.example");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    await page.goto(`${base}/settings/teams`);
    await row("Empty").waitFor();

    // No members, no resources: nothing to ask but the question itself.
    await row("Empty").locator('[data-testid="team-delete"]').click();
    await expectDialogInViewport(page);
    expect(await dialog().locator("select").count()).toBe(0);
    expect(await dialog().locator('[data-testid="team-delete-summary"]').textContent()).toBe(
      "The team has no members. It owns no resources.",
    );
    await page.click('[data-testid="confirm"]');
    await expect.poll(() => row("Empty").count()).toBe(0);
    await page.locator('[data-testid="toast"]', { hasText: "Deleted Empty." }).waitFor();

    // Two resources and no members: only the resources' new owner is asked for, and required.
    await row("Platform").locator('[data-testid="team-delete"]').click();
    await expectDialogInViewport(page);
    expect(await dialog().locator('[data-testid="team-delete-summary"]').textContent()).toBe(
      "The team has no members. It owns 2 resources.",
    );
    expect(await dialog().locator('select[name="reassign_members_to"]').count()).toBe(0);
    await page.click('[data-testid="confirm"]');
    await expect
      .poll(() => dialog().locator(".field-error").textContent())
      .toBe("Choose who owns the team's resources.");
    await dialog()
      .locator('select[name="transfer_resources_to"]')
      .selectOption(teamIds.Design as string);
    await page.click('[data-testid="confirm"]');
    await expect.poll(() => row("Platform").count()).toBe(0);
    const owners = await t.services.db.selectFrom("resources").select("owner_team_id").execute();
    expect(owners.map((r) => r.owner_team_id)).toEqual([teamIds.Design, teamIds.Design]);

    // Members and (now) resources: both are asked.
    await row("Design").locator('[data-testid="team-delete"]').click();
    expect(await dialog().locator('[data-testid="team-delete-summary"]').textContent()).toMatch(
      /^The team has 1 member\. .* It owns 2 resources\.$/,
    );
    expect(await dialog().locator('select[name="reassign_members_to"]').count()).toBe(1);
    expect(await dialog().locator('select[name="transfer_resources_to"]').count()).toBe(1);
    await page.click('[data-testid="dismiss"]');
    expect(await row("Design").count()).toBe(1);
  });
});
