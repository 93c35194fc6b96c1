import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";

describe.each(testDialects())("teams on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  /** There is no resource API yet: host products' resources are rows the account owns. */
  async function addResource(accountId: string, ownerTeamId: string | null) {
    const now = t.services.clock.now().toISOString();
    await t.services.db
      .insertInto("resources")
      .values({
        id: `res_${randomUUID()}`,
        account_id: accountId,
        name: "Build pipeline",
        owner_team_id: ownerTeamId,
        created_by: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  it("says how many resources each team owns, in the list and for one team, counting this account's only", async () => {
    const root = await signUpAndLogin(t, { email: "root-teams@example.com", account: "Resourceful" });
    const base = `/api/v1/accounts/${root.accountId}/teams`;
    const platform = await root.client.post(base, { name: "Platform" });
    const design = await root.client.post(base, { name: "Design" });
    expect([platform.statusCode, design.statusCode]).toEqual([201, 201]);
    // A new team owns nothing.
    expect(platform.body.resource_count).toBe(0);
    await addResource(root.accountId, platform.body.id);
    await addResource(root.accountId, platform.body.id);
    // Owned by the account itself, not by a team.
    await addResource(root.accountId, null);
    // Another account's row naming this team (never made by the app) does not count here.
    const other = await signUpAndLogin(t, { email: "other-teams@example.com", account: "Other" });
    await addResource(other.accountId, platform.body.id);

    const counts = async () =>
      Object.fromEntries(
        ((await root.client.get(base)).body.data as Array<{ name: string; resource_count: number }>).map(
          (team) => [team.name, team.resource_count],
        ),
      );
    expect(await counts()).toEqual({ Design: 0, Platform: 2 });
    const one = await root.client.get(`${base}/${platform.body.id}`);
    expect(one.body).toMatchObject({ name: "Platform", resource_count: 2 });
    expect((await root.client.get(`${base}/${design.body.id}`)).body.resource_count).toBe(0);

    // Deleting a team moves its resources: the receiving team now owns them.
    const removed = await root.client.request("DELETE", `${base}/${platform.body.id}`, {
      reassign_members_to: null,
      transfer_resources_to: design.body.id,
    });
    expect(removed.statusCode, removed.payload).toBe(204);
    expect(await counts()).toEqual({ Design: 2 });
    const renamed = await root.client.patch(`${base}/${design.body.id}`, { name: "Design & Brand" });
    expect(renamed.body.resource_count).toBe(2);
  });
});
