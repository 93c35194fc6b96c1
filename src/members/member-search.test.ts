import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  statementsDuring,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { seedMembers } from "../testing/seed.js";
import { CANDIDATE_LIMIT } from "./members.repository.js";

describe.each(testDialects())("member search on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it("has the indexes q uses after migrating: pg_trgm and characters/pairs on PostgreSQL (0029, 0033), FTS5 trigram on SQLite (0032)", async () => {
    if (dialect === "postgres") {
      const { rows } = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes
      where schemaname = current_schema() and indexname = 'memberships_sort_name_trgm_idx'`.execute(
        t.services.db,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.indexdef).toMatch(/USING gin \(sort_name public\.gin_trgm_ops\)/);
      // Terms of one or two characters (0033): the list's condition is the index's expression.
      const plan = await t.services.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const explained = await sql<{ "QUERY PLAN": string }>`
          explain select m.id from memberships m where member_grams(m.sort_name) @> array[${"ab"}::text]`.execute(
          trx,
        );
        return explained.rows.map((r) => r["QUERY PLAN"]).join("\n");
      });
      expect(plan).toMatch(/Bitmap Index Scan on memberships_sort_name_grams_idx/);
    } else {
      const { rows } = await sql<{ name: string; sql: string }>`
      select name, sql from sqlite_master where name in ('member_search', 'member_search_rows')
        or (type = 'trigger' and tbl_name = 'memberships') order by name`.execute(t.services.db);
      expect(rows.map((r) => r.name)).toEqual([
        "member_search",
        "member_search_delete",
        "member_search_insert",
        "member_search_rows",
        "member_search_update",
      ]);
      expect(rows[0]?.sql).toMatch(/fts5\(sort_name, tokenize = 'trigram case_sensitive 1'\)/);
    }
  });

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
    // One and two characters (PostgreSQL looks them up by characters and pairs, not trigrams).
    expect(await search("Ë")).toEqual(["Zoë"]);
    expect(await search("oË")).toEqual(["Zoë"]);
    expect(await search("%ü")).toEqual(["Hundred%Ünïcode"]);
    expect(await search("_c")).toEqual(["snake_case"]);
    expect(await search("\\s")).toEqual(["back\\slash"]);
    expect(await search("xc")).toEqual(["Snakexcase"]);
    if (dialect === "postgres") {
      const statements = await statementsDuring(t, () => search("xc"));
      expect(statements.filter((s) => s.includes("member_grams(m.sort_name) @> array["))).toHaveLength(1);
      const longer = await statementsDuring(t, () => search("xca"));
      expect(longer.filter((s) => s.includes("member_grams"))).toEqual([]);
    }
    expect(await search("k\\s")).toEqual(["back\\slash"]);
    expect(await search("-search@exam")).toHaveLength(6);
    expect(await search("zoe-search")).toEqual(["Zoë"]);
    expect(await search("no such person")).toEqual([]);
  });

  it("finds a member under a new name and a new address, and not after removal", async () => {
    const root = await signUpAndLogin(t, { email: "root-rename@example.com", name: "Root Renamer" });
    await onPaidPlan(t, root.accountId);
    const member = await addMember(t, root, { email: "plain-rename@example.com", firstName: "Plain" });
    const search = async (q: string) =>
      (
        (await root.client.get(`/api/v1/accounts/${root.accountId}/members?q=${encodeURIComponent(q)}`)).body
          .data as Array<{ user_id: string }>
      ).map((m) => m.user_id);
    expect(await search("plain pers")).toEqual([member.userId]);

    const renamed = await member.client.patch("/api/v1/me", { first_name: "Élodie", last_name: "Ärger" });
    expect(renamed.statusCode, renamed.payload).toBe(200);
    // Lower-cased for every alphabet, as at insert (SQLite's lower() folds ASCII only).
    expect(await search("élodie ärger")).toEqual([member.userId]);
    expect(await search("ÉLODIE")).toEqual([member.userId]);
    expect(await search("plain pers")).toEqual([]);
    expect(await search("är")).toEqual([member.userId]);

    const reauth = await member.client.post("/api/v1/auth/reauth", { password: member.password });
    expect(reauth.statusCode, reauth.payload).toBe(200);
    const asked = await member.client.post("/api/v1/me/email", { new_email: "moved-box@example.com" });
    expect(asked.statusCode, asked.payload).toBe(202);
    const link = await t.linkFor("moved-box@example.com", /Confirm your new email/);
    const confirmed = await member.client.post("/api/v1/auth/email-change/confirm", { token: tokenOf(link) });
    expect(confirmed.statusCode, confirmed.payload).toBe(200);
    expect(await search("moved-box@")).toEqual([member.userId]);
    expect(await search("plain-rename@")).toEqual([]);
    // Sorted by the new address too.
    const byEmail = await root.client.get(
      `/api/v1/accounts/${root.accountId}/members?sort=email&q=${encodeURIComponent("@example.com")}`,
    );
    expect((byEmail.body.data as Array<{ email: string }>).map((m) => m.email)).toEqual([
      "moved-box@example.com",
      "root-rename@example.com",
    ]);

    const removed = await root.client.delete(`/api/v1/accounts/${root.accountId}/members/${member.userId}`);
    expect(removed.statusCode, removed.payload).toBe(204);
    expect(await search("élodie")).toEqual([]);
    expect(await search("är")).toEqual([]);
    if (dialect === "sqlite") {
      // The search index holds exactly one row per membership.
      const counts = await sql<{ memberships: number; rows: number; indexed: number }>`
        select (select count(*) from memberships) as memberships, (select count(*) from member_search_rows) as rows,
        (select count(*) from member_search) as indexed`.execute(t.services.db);
      const c = counts.rows[0];
      expect(c && c.rows === c.memberships && c.indexed === c.memberships).toBe(true);
    }
  });
});

describe.each(testDialects())("member list filters on %s", (dialect) => {
  let t: TestApp;
  let root: Awaited<ReturnType<typeof signUpAndLogin>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, { email: "root-filters@example.com", name: "Root Filters" });
    await onPaidPlan(t, root.accountId);
  });
  afterAll(() => t?.close());

  /** Every page of the list, 200 at a time, and whether a statement started from a candidate set. */
  async function listAll(params: Record<string, string>, owner = root) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let driven = false;
    do {
      const query = new URLSearchParams({ limit: "200", ...params, ...(cursor ? { cursor } : {}) });
      let page: Awaited<ReturnType<typeof root.client.get>> | undefined;
      const statements = await statementsDuring(t, async () => {
        page = await owner.client.get(`/api/v1/accounts/${owner.accountId}/members?${query}`);
      });
      if (page?.statusCode !== 200) throw new Error(`list failed: ${page?.payload}`);
      // SQLite starts from the set with `d cross join m`, PostgreSQL looks its page up by `= any(array(…))`.
      driven ||= statements.some((s) => /cross join|= any\(array\(/i.test(s));
      ids.push(...(page.body.data as Array<{ user_id: string }>).map((m) => m.user_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    return { ids, driven };
  }

  /** The members `where` selects, in the list's order (sort_name, then user id). */
  async function expected(where: (userId: string, sortName: string) => boolean) {
    const rows = await t.services.db
      .selectFrom("memberships")
      .select(["user_id", "sort_name"])
      .where("account_id", "=", root.accountId)
      .execute();
    return rows
      .filter((r) => where(r.user_id, r.sort_name))
      .sort((a, b) =>
        a.sort_name === b.sort_name ? (a.user_id < b.user_id ? -1 : 1) : a.sort_name < b.sort_name ? -1 : 1,
      )
      .map((r) => r.user_id);
  }

  /** A team of `members` (written straight to the table: thousands through the API would take minutes). */
  async function createTeam(owner: typeof root, name: string, members: string[]) {
    const created = await owner.client.post(`/api/v1/accounts/${owner.accountId}/teams`, { name });
    expect(created.statusCode, created.payload).toBe(201);
    const now = new Date().toISOString();
    for (let i = 0; i < members.length; i += 500)
      await t.services.db
        .insertInto("team_members")
        .values(
          members.slice(i, i + 500).map((userId) => ({
            account_id: owner.accountId,
            team_id: created.body.id as string,
            user_id: userId,
            created_at: now,
          })),
        )
        .execute();
    return created.body.id as string;
  }

  it(`answers alike from a small candidate set and from the sort index (over ${CANDIDATE_LIMIT} candidates)`, async () => {
    await seedMembers(t.services.db, root.accountId, CANDIDATE_LIMIT + 100, { prefix: "cand" });
    const seeded = (i: number) => `usr_cand${String(i).padStart(17, "0")}`;
    const team = (name: string, members: string[]) => createTeam(root, name, members);
    const bigMembers = Array.from({ length: CANDIDATE_LIMIT + 50 }, (_, i) => seeded(i));
    const smallMembers = [seeded(7), seeded(1234), seeded(2077)];
    const big = await team("Big", bigMembers);
    const small = await team("Small", smallMembers);
    // A small team, no second factors, no deactivated logins start the query on both; a rare term only
    // on SQLite (FTS5; PostgreSQL's trigram index already starts from the term).
    const fromTerm = dialect === "sqlite";

    for (const [params, want, driven] of [
      [{ team_id: big }, (u: string) => bigMembers.includes(u), false],
      [{ team_id: small }, (u: string) => smallMembers.includes(u), true],
      [{ q: "cand.example" }, (_u: string, n: string) => n.includes("cand.example"), false],
      [{ q: "member207" }, (_u: string, n: string) => n.includes("member207"), fromTerm],
      [{ q: "ra" }, (_u: string, n: string) => n.includes("ra"), false],
      [
        { team_id: small, q: "member20" },
        (u: string, n: string) => smallMembers.includes(u) && n.includes("member20"),
        true,
      ],
    ] as const) {
      const got = await listAll(params);
      const ids = await expected(want);
      expect(ids.length, JSON.stringify(params)).toBeGreaterThan(0);
      expect(got.ids, JSON.stringify(params)).toEqual(ids);
      expect(got.driven, JSON.stringify(params)).toBe(driven);
    }
    // No second factor and no deactivated login among them: empty, from the (empty) set.
    for (const params of [{ mfa: "enabled" }, { status: "deactivated" }] as Array<Record<string, string>>) {
      const got = await listAll(params);
      expect(got, JSON.stringify(params)).toEqual({ ids: [], driven: true });
    }
  });

  it("a page from a small team is the account's list restricted to the team, for every filter, sort and page", async () => {
    const other = await signUpAndLogin(t, { email: "root-mixed@example.com", name: "Root Mixed" });
    await onPaidPlan(t, other.accountId);
    await seedMembers(t.services.db, other.accountId, 30, { prefix: "mix" });
    const seeded = (i: number) => `usr_mix${String(i).padStart(17, "0")}`;
    const members = Array.from({ length: 12 }, (_, i) => seeded(i));
    const teamId = await createTeam(other, "Mixed", members);
    // mix0 is suspended (every 20th), every third never logged in; one turns their login off, one has a
    // confirmed second factor.
    const now = new Date().toISOString();
    await t.services.db
      .updateTable("users")
      .set({ deactivated_at: now })
      .where("id", "=", seeded(2))
      .execute();
    await t.services.db
      .insertInto("mfa_factors")
      .values({
        id: "mfa_mixed_totp",
        user_id: seeded(3),
        type: "totp",
        label: "Phone",
        secret_enc: null,
        last_used_step: 0,
        confirmed_at: now,
        last_used_at: null,
        created_at: now,
      })
      .execute();

    const variants: Array<Record<string, string>> = [
      {},
      { status: "active" },
      { status: "suspended" },
      { status: "deactivated" },
      { mfa: "enabled" },
      { mfa: "disabled" },
      { q: "member1" },
      { inactive_days: "400" },
      { order: "desc" },
      { sort: "email", order: "desc" },
      { sort: "last_login_at" },
      { sort: "last_login_at", order: "desc", status: "active" },
      { sort: "joined_at", order: "desc", mfa: "disabled" },
    ];
    for (const params of variants) {
      const all = await listAll(params, other);
      const want = all.ids.filter((id) => members.includes(id));
      expect(want.length, JSON.stringify(params)).toBeGreaterThan(0);
      // Two at a time, so later pages start after a cursor.
      const got = await listAll({ ...params, team_id: teamId, limit: "2" }, other);
      expect(got, JSON.stringify(params)).toEqual({ ids: want, driven: true });
    }
  });
});
