import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createClient,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

type Person = {
  user_id: string;
  name: string;
  email: string;
  accounts: Array<{ account_id: string; account_name: string; role: { key: string }; status: string }>;
};

const roleIds = async (client: Client, accountId: string) =>
  Object.fromEntries(
    (
      (await client.get(`/api/v1/accounts/${accountId}/roles`)).body.data as Array<{
        key: string;
        id: string;
      }>
    ).map((r) => [r.key, r.id]),
  );

/** `member` (an existing user, logged in) joins `owner`'s account with `roleKey` through an invitation. */
async function join(
  t: TestApp,
  owner: { client: Client; accountId: string },
  member: { client: Client; email: string },
  roleKey: string,
) {
  const roles = await roleIds(owner.client, owner.accountId);
  const invited = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
    emails: [member.email],
    role_id: roles[roleKey],
  });
  if (invited.statusCode !== 201 || invited.body.data[0].error) throw new Error(invited.payload);
  const token = tokenOf(await t.linkFor(member.email, /invited/));
  const accepted = await member.client.post("/api/v1/invitations/accept", { token });
  if (accepted.statusCode !== 200) throw new Error(accepted.payload);
}

describe.each(testDialects())("people across accounts on %s", (dialect) => {
  let t: TestApp;
  // Dana is Root of Alpha and Admin of Bravo; Carol's Charlie is not Dana's.
  let dana: Awaited<ReturnType<typeof signUpAndLogin>> & { email: string };
  let bob: Awaited<ReturnType<typeof signUpAndLogin>>;
  let carol: Awaited<ReturnType<typeof signUpAndLogin>>;
  let sam: { client: Client; userId: string; email: string };
  let alphaOnly: { userId: string };
  let bravoOnly: { userId: string };
  let charlieOnly: { userId: string };

  const list = async (client: Client, query = "") => {
    const response = await client.get(`/api/v1/me/managed-members${query}`);
    expect(response.statusCode, response.payload).toBe(200);
    return response.body as { data: Person[]; next_cursor: string | null };
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    dana = {
      ...(await signUpAndLogin(t, { email: "dana@people.test", name: "Dana Scully", account: "Alpha" })),
      email: "dana@people.test",
    };
    bob = await signUpAndLogin(t, { email: "bob@people.test", name: "Bob Ross", account: "Bravo" });
    carol = await signUpAndLogin(t, {
      email: "carol@people.test",
      name: "Carol Danvers",
      account: "Charlie",
    });
    for (const account of [dana.accountId, bob.accountId, carol.accountId]) await onPaidPlan(t, account);
    await join(t, bob, { client: dana.client, email: dana.email }, "admin");
    const samMember = await addMember(t, dana, {
      email: "sam@people.test",
      roleKey: "developer",
      firstName: "Sam",
    });
    sam = { ...samMember, email: "sam@people.test" };
    await join(t, bob, sam, "monitor");
    await join(t, carol, sam, "monitor");
    alphaOnly = await addMember(t, dana, { email: "alpha.only@people.test", firstName: "Alice" });
    bravoOnly = await addMember(t, bob, { email: "bravo.only@people.test", firstName: "Bianca" });
    charlieOnly = await addMember(t, carol, { email: "charlie.only@people.test", firstName: "Chris" });
  });
  afterAll(() => t?.close());

  it("lists each person once across the accounts the caller administers, with only those accounts", async () => {
    const page = await list(dana.client);
    const ids = page.data.map((p) => p.user_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(
      [dana.userId, bob.userId, sam.userId, alphaOnly.userId, bravoOnly.userId].sort(),
    );
    const samRow = page.data.find((p) => p.user_id === sam.userId) as Person;
    expect(samRow).toMatchObject({ email: "sam@people.test", name: "Sam Person" });
    // Sam is also in Charlie, which Dana does not administer: it is never shown.
    expect(samRow.accounts.map((a) => [a.account_name, a.role.key, a.status])).toEqual([
      ["Alpha", "developer", "active"],
      ["Bravo", "monitor", "active"],
    ]);
    const danaRow = page.data.find((p) => p.user_id === dana.userId) as Person;
    expect(danaRow.accounts.map((a) => [a.account_name, a.role.key])).toEqual([
      ["Alpha", "root"],
      ["Bravo", "admin"],
    ]);
    const text = JSON.stringify(page);
    expect(text).not.toContain(carol.accountId);
    expect(text).not.toContain("Charlie");
    expect(text).not.toContain(charlieOnly.userId);
    expect(text).not.toContain(carol.userId);
    // By name: "bianca…", "bob…", "dana…", …
    expect(page.data.map((p) => p.email)).toEqual([
      "alpha.only@people.test",
      "bravo.only@people.test",
      "bob@people.test",
      "dana@people.test",
      "sam@people.test",
    ]);
  });

  it("answers the other side the same way: Carol sees Sam with Charlie only", async () => {
    const page = await list(carol.client);
    expect(page.data.map((p) => p.user_id).sort()).toEqual(
      [carol.userId, sam.userId, charlieOnly.userId].sort(),
    );
    const samRow = page.data.find((p) => p.user_id === sam.userId) as Person;
    expect(samRow.accounts.map((a) => a.account_name)).toEqual(["Charlie"]);
    expect(JSON.stringify(page)).not.toMatch(new RegExp(`${dana.accountId}|${bob.accountId}|Alpha|Bravo`));
  });

  it("filters by one account (keeping each person's other administered accounts) and refuses others' accounts with 404", async () => {
    const bravo = await list(dana.client, `?account_id=${bob.accountId}`);
    expect(bravo.data.map((p) => p.user_id).sort()).toEqual(
      [bob.userId, dana.userId, sam.userId, bravoOnly.userId].sort(),
    );
    const samRow = bravo.data.find((p) => p.user_id === sam.userId) as Person;
    expect(samRow.accounts.map((a) => a.account_name)).toEqual(["Alpha", "Bravo"]);

    for (const other of [carol.accountId, "acct_doesnotexist000000000000", "x".repeat(64)]) {
      const refused = await dana.client.get(`/api/v1/me/managed-members?account_id=${other}`);
      expect(refused.statusCode).toBe(404);
      expect(refused.body.code).toBe("not_found");
    }
    // The 404 for Charlie (which exists) and for an invented id are the same answer.
    const real = await dana.client.get(`/api/v1/me/managed-members?account_id=${carol.accountId}`);
    const fake = await dana.client.get("/api/v1/me/managed-members?account_id=acct_doesnotexist000000000000");
    expect(real.body.detail).toBe(fake.body.detail);
  });

  it("searches names and emails, and filters by status", async () => {
    expect((await list(dana.client, "?q=BIANCA")).data.map((p) => p.user_id)).toEqual([bravoOnly.userId]);
    expect((await list(dana.client, "?q=sam%40people")).data.map((p) => p.user_id)).toEqual([sam.userId]);
    expect((await list(dana.client, "?q=%25")).data).toEqual([]);
    // Chris is in Charlie only: a search never reaches him.
    expect((await list(dana.client, "?q=chris")).data).toEqual([]);

    const suspended = await dana.client.post(
      `/api/v1/accounts/${dana.accountId}/members/${alphaOnly.userId}/suspend`,
    );
    expect(suspended.statusCode, suspended.payload).toBe(200);
    try {
      const onlySuspended = await list(dana.client, "?status=suspended");
      expect(onlySuspended.data.map((p) => p.user_id)).toEqual([alphaOnly.userId]);
      expect(onlySuspended.data[0]?.accounts[0]).toMatchObject({
        account_name: "Alpha",
        status: "suspended",
      });
      const active = await list(dana.client, "?status=active");
      expect(active.data.map((p) => p.user_id)).not.toContain(alphaOnly.userId);
      expect(active.data.map((p) => p.user_id)).toContain(sam.userId);
      expect((await list(dana.client, `?status=suspended&account_id=${bob.accountId}`)).data).toEqual([]);
    } finally {
      await dana.client.post(`/api/v1/accounts/${dana.accountId}/members/${alphaOnly.userId}/reactivate`);
    }
    const bad = await dana.client.get("/api/v1/me/managed-members?status=pending");
    expect(bad.statusCode).toBe(400);
  });

  it("pages by keyset: every person exactly once across pages, in the same order as one page", async () => {
    const all = (await list(dana.client, "?limit=200")).data.map((p) => p.user_id);
    const walked: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { data: Person[]; next_cursor: string | null } = await list(
        dana.client,
        `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      walked.push(...page.data.map((p) => p.user_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(walked).toEqual(all);
    // A cursor is bound to no account: with a filter it still never leaves the caller's accounts.
    const first = await list(dana.client, `?limit=1&account_id=${bob.accountId}`);
    const second = await list(
      dana.client,
      `?limit=10&account_id=${bob.accountId}&cursor=${encodeURIComponent(first.next_cursor as string)}`,
    );
    expect([...first.data, ...second.data].map((p) => p.user_id).sort()).toEqual(
      [bob.userId, dana.userId, sam.userId, bravoOnly.userId].sort(),
    );
    for (const bad of ["nonsense", Buffer.from("{}").toString("base64url"), "x".repeat(513)]) {
      const refused = await dana.client.get(`/api/v1/me/managed-members?cursor=${bad}`);
      expect(refused.statusCode).toBe(400);
    }
    for (const limit of ["0", "201", "abc"]) {
      expect((await dana.client.get(`/api/v1/me/managed-members?limit=${limit}`)).statusCode).toBe(400);
    }
  });

  it("lists the administered accounts with the caller's role and whether they may invite", async () => {
    const response = await dana.client.get("/api/v1/me/managed-accounts");
    expect(response.statusCode).toBe(200);
    expect(response.body.data).toEqual([
      {
        account_id: dana.accountId,
        account_name: "Alpha",
        role: expect.objectContaining({ key: "root" }),
        can_invite: true,
      },
      {
        account_id: bob.accountId,
        account_name: "Bravo",
        role: expect.objectContaining({ key: "admin" }),
        can_invite: true,
      },
    ]);
    const samAccounts = (await sam.client.get("/api/v1/me/managed-accounts")).body.data as Array<{
      account_name: string;
      can_invite: boolean;
    }>;
    expect(samAccounts.map((a) => [a.account_name, a.can_invite])).toEqual([
      ["Alpha", false],
      ["Bravo", false],
      ["Charlie", false],
    ]);
  });

  it.each([
    ["admin", true],
    ["developer", true],
    ["monitor", true],
    ["billing", false],
  ])("authorization: a %s of Bravo only (members:read %s)", async (roleKey, reads) => {
    const member = await addMember(t, bob, { email: `${roleKey}.matrix@people.test`, roleKey });
    const filtered = await member.client.get(`/api/v1/me/managed-members?account_id=${bob.accountId}`);
    const everything = await list(member.client);
    const accounts = (await member.client.get("/api/v1/me/managed-accounts")).body.data as unknown[];
    if (reads) {
      expect(filtered.statusCode).toBe(200);
      expect(accounts).toHaveLength(1);
      const samRow = everything.data.find((p) => p.user_id === sam.userId) as Person;
      // Sam is in Alpha and Charlie too: a Bravo member only sees Bravo.
      expect(samRow.accounts.map((a) => a.account_name)).toEqual(["Bravo"]);
      expect(everything.data.map((p) => p.user_id)).not.toContain(alphaOnly.userId);
    } else {
      expect(filtered.statusCode).toBe(403);
      expect(filtered.body.code).toBe("forbidden");
      expect(everything.data).toEqual([]);
      expect(accounts).toEqual([]);
    }
    // Someone outside Alpha gets Alpha's 404, whatever their role elsewhere.
    expect(
      (await member.client.get(`/api/v1/me/managed-members?account_id=${dana.accountId}`)).statusCode,
    ).toBe(404);
  });

  it("is for people only: no session is 401, an API key is 403 session_required", async () => {
    expect((await createClient(t.app).get("/api/v1/me/managed-members")).statusCode).toBe(401);
    expect((await createClient(t.app).get("/api/v1/me/managed-accounts")).statusCode).toBe(401);
    const key = await createApiKey(dana, ["members:read"]);
    const keyClient = createKeyClient(t.app, key.secret);
    for (const path of ["/api/v1/me/managed-members", "/api/v1/me/managed-accounts"]) {
      const refused = await keyClient.get(path);
      expect(refused.statusCode).toBe(403);
      expect(refused.body.code).toBe("session_required");
    }
  });

  it("leaves out an account where the caller's own membership is suspended", async () => {
    const suspend = await bob.client.post(`/api/v1/accounts/${bob.accountId}/members/${dana.userId}/suspend`);
    expect(suspend.statusCode, suspend.payload).toBe(200);
    try {
      const away = createClient(t.app);
      const login = await away.post("/api/v1/auth/login", {
        email: dana.email,
        password: STRONG_PASSWORD,
        account_id: dana.accountId,
      });
      expect(login.statusCode, login.payload).toBe(200);
      const page = await list(away);
      expect(page.data.map((p) => p.user_id)).not.toContain(bravoOnly.userId);
      const samRow = page.data.find((p) => p.user_id === sam.userId) as Person;
      expect(samRow.accounts.map((a) => a.account_name)).toEqual(["Alpha"]);
      const filtered = await away.get(`/api/v1/me/managed-members?account_id=${bob.accountId}`);
      expect(filtered.statusCode).toBe(404);
      const accounts = (await away.get("/api/v1/me/managed-accounts")).body.data as Array<{
        account_id: string;
      }>;
      expect(accounts.map((a) => a.account_id)).toEqual([dana.accountId]);
    } finally {
      await bob.client.post(`/api/v1/accounts/${bob.accountId}/members/${dana.userId}/reactivate`);
      // The suspension ended her session in Bravo: the later tests use her own client again.
      await dana.client.post("/api/v1/auth/login", { email: dana.email, password: STRONG_PASSWORD });
    }
  });

  it("leaves out an account whose IP allowlist refuses the caller's address", async () => {
    const security = `/api/v1/accounts/${bob.accountId}/security`;
    expect((await bob.client.patch(security, { ip_allowlist: ["127.0.0.1"] })).statusCode).toBe(200);
    try {
      const away = createClient(t.app, { ip: "10.9.9.9" });
      const login = await away.post("/api/v1/auth/login", {
        email: dana.email,
        password: STRONG_PASSWORD,
        account_id: dana.accountId,
      });
      expect(login.statusCode, login.payload).toBe(200);
      const page = await list(away);
      const samRow = page.data.find((p) => p.user_id === sam.userId) as Person;
      expect(samRow.accounts.map((a) => a.account_name)).toEqual(["Alpha"]);
      expect(page.data.map((p) => p.user_id)).not.toContain(bravoOnly.userId);
      const filtered = await away.get(`/api/v1/me/managed-members?account_id=${bob.accountId}`);
      expect(filtered.statusCode).toBe(403);
      expect(filtered.body.code).toBe("ip_not_allowed");
      // From an allowed address, Bravo is back.
      expect((await list(dana.client, `?account_id=${bob.accountId}`)).data.length).toBeGreaterThan(0);
    } finally {
      await bob.client.patch(security, { ip_allowlist: [] });
    }
  });
});
