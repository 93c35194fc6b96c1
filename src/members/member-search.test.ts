import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe.each(testDialects())("member search on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it.runIf(dialect === "postgres")(
    "has the trigram index q uses after migrating (migration 0029)",
    async () => {
      const { rows } = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes
      where schemaname = current_schema() and indexname = 'memberships_sort_name_trgm_idx'`.execute(
        t.services.db,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.indexdef).toMatch(/USING gin \(sort_name public\.gin_trgm_ops\)/);
    },
  );

  it("q is a literal, case-insensitive substring: unicode, %, _ and backslash match only themselves", async () => {
    const root = await signUpAndLogin(t, { email: "root-search@example.com", name: "Root Searcher" });
    await onPaidPlan(t, root.accountId);
    for (const [email, firstName] of [
      ["zoe-search@example.com", "Zoë"],
      ["percent-search@example.com", "Hundred%Ünïcode"],
      ["under-search@example.com", "snake_case"],
      ["slash-search@example.com", "back\\slash"],
      ["plain-search@example.com", "Snakexcase"],
    ] as const) {
      await addMember(t, root, { email, firstName });
    }
    const search = async (q: string) =>
      (
        (await root.client.get(`/api/v1/accounts/${root.accountId}/members?q=${encodeURIComponent(q)}`)).body
          .data as Array<{ first_name: string }>
      ).map((m) => m.first_name);
    expect(await search("zoë")).toEqual(["Zoë"]);
    expect(await search("ZOË")).toEqual(["Zoë"]);
    expect(await search("%")).toEqual(["Hundred%Ünïcode"]);
    expect(await search("d%ün")).toEqual(["Hundred%Ünïcode"]);
    expect(await search("ÜNÏCODE")).toEqual(["Hundred%Ünïcode"]);
    expect(await search("_")).toEqual(["snake_case"]);
    expect(await search("snake_")).toEqual(["snake_case"]);
    expect(await search("\\")).toEqual(["back\\slash"]);
    expect(await search("k\\s")).toEqual(["back\\slash"]);
    expect(await search("-search@exam")).toHaveLength(6);
    expect(await search("zoe-search")).toEqual(["Zoë"]);
    expect(await search("no such person")).toEqual([]);
  });
});
