import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { PERMISSIONS } from "./permissions.js";

type Source = { type: "role" | "team"; role_key: string; role_name: string; team_name?: string };
type Row = {
  user_id: string;
  name: string;
  email: string;
  status: string;
  role: { key: string };
  teams: Array<{ id: string; name: string; role: { key: string } | null }>;
  permissions: Array<{ permission: string; sources: Source[] }>;
};

describe.each(testDialects())("user assignments on %s", (dialect) => {
  let t: TestApp;
  let owner: Awaited<ReturnType<typeof signUpAndLogin>>;
  let base: string;
  let roles: Record<string, string>;
  let platformId: string;
  const people: Record<string, { userId: string; client: Client }> = {};

  beforeAll(async () => {
    t = await createTestApp(dialect);
    owner = await signUpAndLogin(t, {
      email: "assign-root@example.com",
      name: "Ada Root",
      account: "Assign Co",
    });
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    base = `/api/v1/accounts/${owner.accountId}`;
    roles = Object.fromEntries(
      ((await owner.client.get(`${base}/roles`)).body.data as Array<{ key: string; id: string }>).map((r) => [
        r.key,
        r.id,
      ]),
    );
    for (const [name, roleKey] of [
      ["Mona", "monitor"],
      ["Teo", "monitor"],
      ["Dev", "developer"],
      ["Adam", "admin"],
      ["Bill", "billing"],
      ["Sus", "monitor"],
    ] as const) {
      people[name] = await addMember(
        t,
        { client: owner.client, accountId: owner.accountId },
        {
          email: `${name.toLowerCase()}@example.com`,
          roleKey,
          firstName: name,
        },
      );
    }
    // Platform gives its members the Developer role; Design gives no role.
    const platform = await owner.client.post(`${base}/teams`, { name: "Platform", role_id: roles.developer });
    platformId = platform.body.id;
    const design = await owner.client.post(`${base}/teams`, { name: "Design" });
    for (const [teamId, names] of [
      [platformId, ["Teo", "Dev"]],
      [design.body.id as string, ["Mona", "Teo"]],
    ] as const) {
      const put = await owner.client.put(`${base}/teams/${teamId}/members`, {
        user_ids: names.map((n) => people[n]?.userId),
      });
      expect(put.statusCode, put.payload).toBe(200);
    }
    const suspended = await owner.client.post(`${base}/members/${people.Sus?.userId}/suspend`);
    expect(suspended.statusCode, suspended.payload).toBe(200);
  });
  afterAll(() => t?.close());

  const matrix = async (query = "", client: Client = owner.client) => {
    const response = await client.get(`${base}/assignments${query}`);
    expect(response.statusCode, response.payload).toBe(200);
    return response.body as {
      roles: Array<{ key: string }>;
      teams: Array<{ name: string; role: { key: string } | null }>;
      data: Row[];
      next_cursor: string | null;
    };
  };
  const rowOf = (rows: Row[], name: string) => rows.find((r) => r.name.startsWith(name)) as Row;
  const sourcesOf = (row: Row, permission: string) =>
    row.permissions.find((p) => p.permission === permission)?.sources;

  it("shows each member's role and teams, the account's roles and teams once, and where each permission comes from", async () => {
    const body = await matrix();
    expect(body.roles.map((r) => r.key)).toEqual(
      expect.arrayContaining(["root", "admin", "developer", "monitor"]),
    );
    expect(body.teams).toEqual([
      expect.objectContaining({ name: "Design", role: null }),
      expect.objectContaining({ name: "Platform", role: expect.objectContaining({ key: "developer" }) }),
    ]);
    expect(body.data).toHaveLength(7);

    // Role only.
    const mona = rowOf(body.data, "Mona");
    expect(mona.teams.map((team) => team.name)).toEqual(["Design"]);
    expect(sourcesOf(mona, "resources:read")).toEqual([
      { type: "role", role_id: roles.monitor, role_key: "monitor", role_name: "Monitor" },
    ]);
    expect(sourcesOf(mona, "resources:write")).toBeUndefined();

    // Granted by a team only, and by both.
    const teo = rowOf(body.data, "Teo");
    expect(sourcesOf(teo, "resources:write")).toEqual([
      {
        type: "team",
        team_id: platformId,
        team_name: "Platform",
        role_id: roles.developer,
        role_key: "developer",
        role_name: "Developer",
      },
    ]);
    expect(sourcesOf(teo, "resources:read")?.map((s) => s.team_name ?? s.role_key)).toEqual([
      "monitor",
      "Platform",
    ]);
    const dev = rowOf(body.data, "Dev");
    expect(sourcesOf(dev, "resources:write")?.map((s) => s.type)).toEqual(["role", "team"]);

    // Root holds the whole catalog through the Root role; Admin everything but closing the account.
    const root = rowOf(body.data, "Ada");
    expect(root.permissions.map((p) => p.permission)).toEqual(Object.keys(PERMISSIONS));
    expect(sourcesOf(root, "account:close")?.[0]?.role_key).toBe("root");
    expect(sourcesOf(rowOf(body.data, "Adam"), "account:close")).toBeUndefined();
    expect(rowOf(body.data, "Sus").status).toBe("suspended");
  });

  it("agrees with POST /authz/check for every member and every permission", async () => {
    const body = await matrix();
    const permissions = Object.keys(PERMISSIONS);
    for (const row of body.data) {
      const checks = permissions.map((permission) => ({
        account_id: owner.accountId,
        user_id: row.user_id,
        permission,
      }));
      const answer = await owner.client.post("/api/v1/authz/check", { checks });
      expect(answer.statusCode, answer.payload).toBe(200);
      const held = new Set(row.permissions.map((p) => p.permission));
      answer.body.results.forEach((result: { allowed: boolean; reason: string }, i: number) => {
        const permission = permissions[i] as string;
        if (row.status === "active")
          expect(result.allowed, `${row.name} ${permission}`).toBe(held.has(permission));
        else
          expect(result, "a suspended member's roles are shown; a check refuses them").toEqual({
            allowed: false,
            reason: "suspended",
          });
      });
    }
  });

  it("filters by permission (who holds it and through what), role, team and search, and pages", async () => {
    const writers = await matrix("?permission=resources:write");
    expect(writers.data.map((r) => r.name.split(" ")[0]).sort()).toEqual(["Ada", "Adam", "Dev", "Teo"]);
    expect(sourcesOf(rowOf(writers.data, "Teo"), "resources:write")?.[0]?.team_name).toBe("Platform");
    // Registered later than any role: only Root holds it.
    expect((await matrix("?permission=reports:export")).data.map((r) => r.name)).toEqual(["Ada Root"]);
    const closers = await matrix("?permission=account:close");
    expect(closers.data.map((r) => r.role.key)).toEqual(["root"]);

    expect((await matrix(`?role_id=${roles.monitor}`)).data.map((r) => r.name.split(" ")[0])).toEqual([
      "Mona",
      "Sus",
      "Teo",
    ]);
    expect((await matrix(`?team_id=${platformId}`)).data.map((r) => r.name.split(" ")[0])).toEqual([
      "Dev",
      "Teo",
    ]);
    expect((await matrix("?q=MONA")).data.map((r) => r.email)).toEqual(["mona@example.com"]);
    expect(
      (await matrix(`?permission=resources:write&role_id=${roles.monitor}`)).data.map(
        (r) => r.name.split(" ")[0],
      ),
    ).toEqual(["Teo"]);

    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const page = await matrix(`?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data.map((r) => r.user_id));
      cursor = page.next_cursor;
    }
    expect(seen).toEqual((await matrix()).data.map((r) => r.user_id));
    expect(new Set(seen).size).toBe(7);
  });

  it("answers bad input with 400", async () => {
    for (const query of ["?permission=not%20a%20permission", "?cursor=garbage", "?limit=0", "?limit=201"]) {
      const response = await owner.client.get(`${base}/assignments${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.body.code).toBe("validation_failed");
    }
  });

  it("authorization matrix: members:read, roles:read and teams:read; tenant isolation", async () => {
    const expected: Record<string, number> = { Dev: 200, Mona: 200, Adam: 200, Bill: 403 };
    for (const [name, status] of Object.entries(expected)) {
      const response = await (people[name] as { client: Client }).client.get(`${base}/assignments`);
      expect(response.statusCode, name).toBe(status);
      if (status === 403) expect(response.body.code).toBe("forbidden");
    }
    // A custom role that may see members but not roles.
    const peek = await owner.client.post(`${base}/roles`, {
      name: "Peek",
      permissions: ["account:read", "members:read", "teams:read"],
    });
    const peeker = await addMember(
      t,
      { client: owner.client, accountId: owner.accountId },
      {
        email: "peeker@example.com",
        roleKey: "monitor",
      },
    );
    await owner.client.patch(`${base}/members/${peeker.userId}`, { role_id: peek.body.id });
    const refused = await peeker.client.get(`${base}/assignments`);
    expect(refused.statusCode).toBe(403);
    expect(refused.body.detail).toContain("roles:read");
    // A suspended member: the account is not theirs to see now.
    expect((await (people.Sus as { client: Client }).client.get(`${base}/assignments`)).statusCode).toBe(401);

    await owner.client.post("/api/v1/auth/reauth", { password: owner.password });
    const key = createKeyClient(
      t.app,
      (
        await createApiKey({ client: owner.client, accountId: owner.accountId }, [
          "members:read",
          "roles:read",
          "teams:read",
        ])
      ).secret,
    );
    expect((await key.get(`${base}/assignments`)).statusCode).toBe(200);

    const other = await signUpAndLogin(t, { email: "assign-other@example.com", account: "Other Co" });
    const foreign = await other.client.get(`${base}/assignments`);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body.code).toBe("not_found");
    expect((await owner.client.get("/api/v1/accounts/acct_doesnotexist/assignments")).statusCode).toBe(404);
    // Their own account shows only their own member.
    const own = await other.client.get(`/api/v1/accounts/${other.accountId}/assignments`);
    expect(own.body.data.map((r: Row) => r.email)).toEqual(["assign-other@example.com"]);
    expect(own.body.teams).toEqual([]);
  });
});
