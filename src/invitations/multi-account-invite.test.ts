import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createClient,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

type Row = {
  email: string;
  account_id: string;
  invitation?: { id: string; email: string; role: { key: string }; status: string };
  error?: { code: string; detail: string };
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

const cell = (rows: Row[], email: string, accountId: string) =>
  rows.find((r) => r.email === email && r.account_id === accountId) as Row;

describe.each(testDialects())("inviting to several accounts on %s", (dialect) => {
  let t: TestApp;
  // Dana: Root of Alpha (paid), Admin of Bravo (Free, every seat taken) and of Delta (paid).
  let dana: Awaited<ReturnType<typeof signUpAndLogin>>;
  let bob: Awaited<ReturnType<typeof signUpAndLogin>>;
  let carol: Awaited<ReturnType<typeof signUpAndLogin>>;
  let erin: Awaited<ReturnType<typeof signUpAndLogin>>;
  let alpha: Record<string, string>;
  let bravo: Record<string, string>;
  let delta: Record<string, string>;
  const invite = (client: Client, body: unknown) => client.post("/api/v1/invitations", body);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    dana = await signUpAndLogin(t, { email: "dana@multi.test", name: "Dana Scully", account: "Alpha" });
    bob = await signUpAndLogin(t, { email: "bob@multi.test", name: "Bob Ross", account: "Bravo" });
    carol = await signUpAndLogin(t, { email: "carol@multi.test", name: "Carol Danvers", account: "Charlie" });
    erin = await signUpAndLogin(t, { email: "erin@multi.test", name: "Erin Hale", account: "Delta" });
    await onPaidPlan(t, dana.accountId);
    await onPaidPlan(t, erin.accountId);
    await join(t, bob, { client: dana.client, email: "dana@multi.test" }, "admin");
    await join(t, erin, { client: dana.client, email: "dana@multi.test" }, "admin");
    // Bravo is on Free (3 seats): Bob, Dana and one more fill it.
    await addMember(t, bob, { email: "third@multi.test" });
    alpha = await roleIds(dana.client, dana.accountId);
    bravo = await roleIds(dana.client, bob.accountId);
    delta = await roleIds(dana.client, erin.accountId);
  });
  afterAll(() => t?.close());

  it("invites to each account separately: one account's seat limit and another's 404 leave the rest invited and mailed", async () => {
    const before = t.mails.length;
    const response = await invite(dana.client, {
      emails: ["x@multi.test", "y@multi.test"],
      invites: [
        { account_id: dana.accountId, role_id: alpha.developer },
        { account_id: bob.accountId, role_id: bravo.monitor },
        { account_id: carol.accountId, role_id: bravo.monitor },
      ],
      first_name: "New",
    });
    expect(response.statusCode, response.payload).toBe(201);
    const rows = response.body.data as Row[];
    expect(rows).toHaveLength(6);
    for (const email of ["x@multi.test", "y@multi.test"]) {
      expect(cell(rows, email, dana.accountId).invitation).toMatchObject({
        email,
        role: { key: "developer" },
        status: "pending",
      });
      expect(cell(rows, email, bob.accountId).error?.code).toBe("seat_limit_reached");
      expect(cell(rows, email, bob.accountId).invitation).toBeUndefined();
      // Charlie is not Dana's: the same answer as an account that does not exist.
      expect(cell(rows, email, carol.accountId).error).toEqual({
        code: "not_found",
        detail: "Account not found",
      });
    }
    // One mail per invitation, in Alpha's name; none for Bravo or Charlie.
    await t.services.jobs.idle();
    const sent = t.mails.slice(before);
    expect(
      sent
        .filter((m) => /invited to join Alpha/.test(m.subject))
        .map((m) => m.to)
        .sort(),
    ).toEqual(["x@multi.test", "y@multi.test"]);
    expect(sent.some((m) => /Bravo|Charlie/.test(m.subject))).toBe(false);
    // Audited in Alpha; nothing happened in Charlie.
    const audit = await dana.client.get(
      `/api/v1/accounts/${dana.accountId}/audit-events?action=invitation.created`,
    );
    const invited = (audit.body.data as Array<{ changes: { email: string } }>).map((e) => e.changes.email);
    expect(invited).toEqual(expect.arrayContaining(["x@multi.test", "y@multi.test"]));
    const charlieAudit = await carol.client.get(
      `/api/v1/accounts/${carol.accountId}/audit-events?action=invitation.created`,
    );
    expect(charlieAudit.body.data).toEqual([]);
    const pending = await dana.client.get(`/api/v1/accounts/${dana.accountId}/invitations?status=pending`);
    expect((pending.body.data as Array<{ email: string }>).map((i) => i.email).sort()).toEqual([
      "x@multi.test",
      "y@multi.test",
    ]);
  });

  it("refuses per account what the caller may not grant there, and a role of another account", async () => {
    const response = await invite(dana.client, {
      emails: ["grant@multi.test"],
      invites: [
        { account_id: erin.accountId, role_id: delta.root },
        { account_id: dana.accountId, role_id: delta.monitor },
      ],
    });
    expect(response.statusCode).toBe(200);
    const rows = response.body.data as Row[];
    expect(cell(rows, "grant@multi.test", erin.accountId).error?.code).toBe("root_only");
    expect(cell(rows, "grant@multi.test", dana.accountId).error).toMatchObject({ code: "validation_failed" });
    expect(cell(rows, "grant@multi.test", dana.accountId).error?.detail).toMatch(/role does not exist/i);
    expect(rows.every((r) => !r.invitation)).toBe(true);
  });

  it("fills the seats an account has left and refuses the rest of that account's addresses", async () => {
    const tight = await signUpAndLogin(t, { email: "tight@multi.test", account: "Tight" });
    await join(t, tight, { client: dana.client, email: "dana@multi.test" }, "admin");
    const roles = await roleIds(dana.client, tight.accountId);
    const response = await invite(dana.client, {
      emails: ["p1@multi.test", "p2@multi.test", "bad address"],
      invites: [
        { account_id: tight.accountId, role_id: roles.monitor },
        { account_id: erin.accountId, role_id: delta.developer },
      ],
    });
    expect(response.statusCode).toBe(201);
    const rows = response.body.data as Row[];
    expect(cell(rows, "p1@multi.test", tight.accountId).invitation).toBeDefined();
    expect(cell(rows, "p2@multi.test", tight.accountId).error?.code).toBe("seat_limit_reached");
    expect(cell(rows, "bad address", tight.accountId).error?.code).toBe("invalid_email");
    expect(cell(rows, "p1@multi.test", erin.accountId).invitation?.role.key).toBe("developer");
    expect(cell(rows, "p2@multi.test", erin.accountId).invitation?.role.key).toBe("developer");
  });

  it.each([
    ["admin", "created"],
    ["developer", "forbidden"],
    ["monitor", "forbidden"],
    ["billing", "forbidden"],
  ])("authorization: a %s of Delta gets %s", async (roleKey, outcome) => {
    const member = await addMember(t, erin, { email: `${roleKey}.inv@multi.test`, roleKey });
    const response = await invite(member.client, {
      emails: [`by-${roleKey}@multi.test`],
      invites: [{ account_id: erin.accountId, role_id: delta.monitor }],
    });
    const row = (response.body.data as Row[])[0] as Row;
    if (outcome === "created") {
      expect(response.statusCode).toBe(201);
      expect(row.invitation?.role.key).toBe("monitor");
    } else {
      expect(response.statusCode).toBe(200);
      expect(row.error?.code).toBe("forbidden");
    }
    // Alpha is not theirs, whatever their role in Delta.
    const outside = await invite(member.client, {
      emails: ["outside@multi.test"],
      invites: [{ account_id: dana.accountId, role_id: alpha.monitor }],
    });
    expect((outside.body.data as Row[])[0]?.error?.code).toBe("not_found");
  });

  it("answers 400 for bad input, and writes nothing", async () => {
    const valid = {
      emails: ["v@multi.test"],
      invites: [{ account_id: dana.accountId, role_id: alpha.monitor }],
    };
    const cases: unknown[] = [
      {},
      { ...valid, emails: [] },
      { ...valid, emails: Array.from({ length: 51 }, (_, i) => `n${i}@multi.test`) },
      { ...valid, invites: [] },
      { ...valid, invites: Array.from({ length: 21 }, () => valid.invites[0]) },
      { ...valid, invites: [{ account_id: dana.accountId }] },
      { ...valid, invites: [{ ...valid.invites[0], extra: 1 }] },
      { ...valid, role_id: alpha.monitor },
      { ...valid, invites: [valid.invites[0], valid.invites[0]] },
      { ...valid, emails: "v@multi.test" },
      "not json",
    ];
    for (const body of cases) {
      const response = await invite(dana.client, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.headers["content-type"]).toMatch(/problem\+json/);
    }
    const duplicate = await invite(dana.client, { ...valid, invites: [valid.invites[0], valid.invites[0]] });
    expect(duplicate.body.errors[0]).toMatchObject({ path: "invites.1.account_id", code: "duplicate" });
    const pending = await dana.client.get(`/api/v1/accounts/${dana.accountId}/invitations?status=pending`);
    expect((pending.body.data as Array<{ email: string }>).map((i) => i.email)).not.toContain("v@multi.test");
  });

  it("needs the CSRF token, a session (not an API key) and a log-in", async () => {
    const body = {
      emails: ["csrf@multi.test"],
      invites: [{ account_id: dana.accountId, role_id: alpha.monitor }],
    };
    const forged = await dana.client.post("/api/v1/invitations", body, { "x-csrf-token": "forged" });
    expect(forged.statusCode).toBe(403);
    expect(forged.body.code).toBe("csrf_failed");
    expect((await createClient(t.app).post("/api/v1/invitations", body)).statusCode).toBe(401);
    const key = await createApiKey(dana, ["members:invite", "members:read"]);
    const byKey = await createKeyClient(t.app, key.secret).post("/api/v1/invitations", body);
    expect(byKey.statusCode).toBe(403);
    expect(byKey.body.code).toBe("session_required");
    const pending = await dana.client.get(`/api/v1/accounts/${dana.accountId}/invitations?status=pending`);
    expect((pending.body.data as Array<{ email: string }>).map((i) => i.email)).not.toContain(
      "csrf@multi.test",
    );
  });

  it("refuses an account whose IP allowlist refuses the caller's address, and invites to the others", async () => {
    const security = `/api/v1/accounts/${erin.accountId}/security`;
    expect((await erin.client.patch(security, { ip_allowlist: ["127.0.0.1"] })).statusCode).toBe(200);
    try {
      const away = createClient(t.app, { ip: "10.9.9.9" });
      const login = await away.post("/api/v1/auth/login", {
        email: "dana@multi.test",
        password: dana.password,
        account_id: dana.accountId,
      });
      expect(login.statusCode, login.payload).toBe(200);
      const response = await invite(away, {
        emails: ["ip@multi.test"],
        invites: [
          { account_id: erin.accountId, role_id: delta.monitor },
          { account_id: dana.accountId, role_id: alpha.monitor },
        ],
      });
      expect(response.statusCode).toBe(201);
      const rows = response.body.data as Row[];
      expect(cell(rows, "ip@multi.test", erin.accountId).error?.code).toBe("ip_not_allowed");
      expect(cell(rows, "ip@multi.test", dana.accountId).invitation).toBeDefined();
    } finally {
      await erin.client.patch(security, { ip_allowlist: [] });
    }
  });
});
