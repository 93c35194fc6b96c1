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
import { loadAccess } from "./access.js";
import { BUILTIN_ROLES } from "./permissions.js";

/**
 * The paths between endpoints: every way of changing who may do what (a member's role, invitations,
 * a team's role, who is in a team, deleting a team with its members moved elsewhere, a role's
 * permissions, deleting a role with its holders moved) tried by callers who could not make the
 * resulting grant directly. Each attempt must be refused, and nobody's access may change.
 */

type Member = { client: Client; userId: string };
type Snapshot = Map<string, string>;

const MONITOR = ["account:read", "members:read", "teams:read", "roles:read", "resources:read"];

describe.each(testDialects())(
  "no path hands out more than the caller could grant directly, on %s",
  (dialect) => {
    let t: TestApp;
    let accountId: string;
    let base: string;
    let root: Member;
    const roles: Record<string, string> = {};
    const m: Record<string, Member> = {};
    const teams: Record<string, string> = {};
    let serial = 0;

    const asRoot = async (
      method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
      path: string,
      body?: unknown,
    ) => {
      const response = await call(root, method, path, body);
      if (response.statusCode >= 400) throw new Error(`Root ${method} ${path}: ${response.payload}`);
      return response.body;
    };

    /** A request under the account with a body on any method (the harness client sends none with DELETE). */
    function call(
      who: Member,
      method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
      path: string,
      body?: unknown,
    ) {
      return who.client.request(method, `${base}${path}`, body);
    }

    /** Every member's effective access (own role plus team roles), straight from the database. */
    async function snapshot(): Promise<Snapshot> {
      const rows = await t.services.db
        .selectFrom("memberships")
        .select("user_id")
        .where("account_id", "=", accountId)
        .execute();
      const result: Snapshot = new Map();
      for (const { user_id } of rows) {
        const access = await loadAccess(t.services.db, accountId, user_id);
        result.set(
          user_id,
          JSON.stringify({
            root: access?.isRoot,
            status: access?.status,
            p: [...(access?.permissions ?? [])].sort(),
          }),
        );
      }
      return result;
    }

    async function team(name: string, roleKey: string | null, members: string[] = []): Promise<string> {
      const created = await asRoot("POST", "/teams", {
        name: `${name} ${++serial}`,
        ...(roleKey ? { role_id: roles[roleKey] } : {}),
      });
      if (members.length) await asRoot("PUT", `/teams/${created.id}/members`, { user_ids: members });
      return created.id as string;
    }

    async function teamMembers(teamId: string): Promise<string[]> {
      return (await asRoot("GET", `/teams/${teamId}`)).member_ids as string[];
    }

    beforeAll(async () => {
      t = await createTestApp(dialect);
      const owner = await signUpAndLogin(t, { email: "esc-root@example.com", account: "Escalation" });
      accountId = owner.accountId;
      base = `/api/v1/accounts/${accountId}`;
      root = { client: owner.client, userId: owner.userId };
      await onPaidPlan(t, accountId);
      for (const r of (await asRoot("GET", "/roles")).data as Array<{ id: string; key: string }>)
        roles[r.key] = r.id;
      await asRoot("POST", "/permissions", { key: "flows:deploy", description: "Deploy flows" });
      const custom = {
        lead: ["account:read", "members:read", "teams:read", "teams:manage"],
        editor: ["account:read", "roles:read", "roles:manage"],
        recruiter: [...MONITOR, "members:invite"],
        promoter: [...MONITOR, "members:update_role", "members:suspend"],
        deployer: ["account:read", "flows:deploy"],
        ops: [...MONITOR, "members:delete"],
      };
      for (const [key, permissions] of Object.entries(custom)) {
        roles[key] = (await asRoot("POST", "/roles", { name: `Custom ${key}`, permissions })).id as string;
      }
      const people: Array<[string, string]> = [
        ["admin", "admin"],
        ["lead", "monitor"],
        ["editor", "monitor"],
        ["recruiter", "monitor"],
        ["promoter", "monitor"],
        ["accomplice", "monitor"],
        ["teamAdmin", "monitor"],
        ["teamRoot", "monitor"],
        ["opsHolder", "monitor"],
      ];
      for (const [name, roleKey] of people) {
        const added = await addMember(t, owner, { email: `esc-${name.toLowerCase()}@example.com`, roleKey });
        m[name] = { client: added.client, userId: added.userId };
      }
      for (const name of ["lead", "editor", "recruiter", "promoter", "opsHolder"] as const) {
        const key = name === "opsHolder" ? "ops" : name;
        await asRoot("PATCH", `/members/${m[name]?.userId}`, { role_id: roles[key] });
      }
      teams.admins = await team("Admins", "admin", [m.teamAdmin?.userId as string]);
      teams.roots = await team("Roots", "root", [m.teamRoot?.userId as string]);
    });
    afterAll(() => t?.close());

    const attempts: Array<{
      name: string;
      caller: string;
      code: "privilege_escalation" | "root_only";
      run: (who: Member) => Promise<{ statusCode: number; payload: string; body: Record<string, unknown> }>;
    }> = [
      // Teams: deletion with reassignment (the reported hole), membership, the team's role.
      {
        name: "deleting its own team to move itself into a team that grants Admin",
        caller: "lead",
        code: "privilege_escalation",
        run: async (who) =>
          call(who, "DELETE", `/teams/${await team("Lead's", null, [who.userId])}`, {
            reassign_members_to: teams.admins,
            transfer_resources_to: "account",
          }),
      },
      {
        name: "adding itself to a team that grants Admin",
        caller: "lead",
        code: "privilege_escalation",
        run: async (who) =>
          call(who, "PUT", `/teams/${teams.admins}/members`, {
            user_ids: [...(await teamMembers(teams.admins as string)), who.userId],
          }),
      },
      {
        name: "giving its own team the Admin role",
        caller: "lead",
        code: "privilege_escalation",
        run: async (who) =>
          call(who, "PATCH", `/teams/${await team("Lead's", null, [who.userId])}`, { role_id: roles.admin }),
      },
      {
        name: "creating a team that grants Admin",
        caller: "lead",
        code: "privilege_escalation",
        run: (who) => call(who, "POST", "/teams", { name: `Shadow ${++serial}`, role_id: roles.admin }),
      },
      {
        name: "removing a member from a team that grants Admin",
        caller: "lead",
        code: "privilege_escalation",
        run: (who) => call(who, "PUT", `/teams/${teams.admins}/members`, { user_ids: [] }),
      },
      {
        name: "deleting a team that grants Admin to its members",
        caller: "lead",
        code: "privilege_escalation",
        run: (who) =>
          call(who, "DELETE", `/teams/${teams.admins}`, {
            reassign_members_to: null,
            transfer_resources_to: "account",
          }),
      },
      {
        name: "deleting its own team to move itself into a team that grants Root",
        caller: "admin",
        code: "root_only",
        run: async (who) =>
          call(who, "DELETE", `/teams/${await team("Admin's", null, [who.userId])}`, {
            reassign_members_to: teams.roots,
            transfer_resources_to: "account",
          }),
      },
      {
        name: "adding itself to a team that grants Root",
        caller: "admin",
        code: "root_only",
        run: async (who) =>
          call(who, "PUT", `/teams/${teams.roots}/members`, {
            user_ids: [...(await teamMembers(teams.roots as string)), who.userId],
          }),
      },
      {
        name: "giving its own team the Root role",
        caller: "admin",
        code: "root_only",
        run: async (who) =>
          call(who, "PATCH", `/teams/${await team("Admin's", null, [who.userId])}`, { role_id: roles.root }),
      },
      {
        name: "taking the Root role away from a team",
        caller: "admin",
        code: "root_only",
        run: (who) => call(who, "PATCH", `/teams/${teams.roots}`, { role_id: roles.monitor }),
      },
      {
        name: "suspending a member who is Root through a team",
        caller: "admin",
        code: "root_only",
        run: (who) => call(who, "POST", `/members/${m.teamRoot?.userId}/suspend`),
      },
      {
        name: "removing a member who is Root through a team",
        caller: "admin",
        code: "root_only",
        run: (who) => call(who, "DELETE", `/members/${m.teamRoot?.userId}`),
      },
      // Members and invitations.
      {
        name: "making an accomplice Root",
        caller: "admin",
        code: "root_only",
        run: (who) => call(who, "PATCH", `/members/${m.accomplice?.userId}`, { role_id: roles.root }),
      },
      {
        name: "inviting someone into a team that grants Root",
        caller: "admin",
        code: "root_only",
        run: (who) =>
          call(who, "POST", "/invitations", {
            emails: [`esc-invitee-${++serial}@example.com`],
            role_id: roles.monitor,
            team_ids: [teams.roots],
          }),
      },
      {
        name: "inviting someone into a team that grants Admin",
        caller: "recruiter",
        code: "privilege_escalation",
        run: (who) =>
          call(who, "POST", "/invitations", {
            emails: [`esc-invitee-${++serial}@example.com`],
            role_id: roles.monitor,
            team_ids: [teams.admins],
          }),
      },
      {
        name: "re-sending an invitation that grants Admin",
        caller: "recruiter",
        code: "privilege_escalation",
        run: async (who) => {
          const sent = await asRoot("POST", "/invitations", {
            emails: [`esc-invitee-${++serial}@example.com`],
            role_id: roles.monitor,
            team_ids: [teams.admins],
          });
          const id = (sent.data as Array<{ invitation: { id: string } }>)[0]?.invitation.id;
          t.services.clock.advance(61);
          return call(who, "POST", `/invitations/${id}/resend`);
        },
      },
      {
        name: "making an accomplice Admin",
        caller: "promoter",
        code: "privilege_escalation",
        run: (who) => call(who, "PATCH", `/members/${m.accomplice?.userId}`, { role_id: roles.admin }),
      },
      {
        name: "giving an accomplice a host-product permission it lacks",
        caller: "promoter",
        code: "privilege_escalation",
        run: (who) => call(who, "PATCH", `/members/${m.accomplice?.userId}`, { role_id: roles.deployer }),
      },
      {
        name: "demoting an Admin",
        caller: "promoter",
        code: "privilege_escalation",
        run: (who) => call(who, "PATCH", `/members/${m.admin?.userId}`, { role_id: roles.monitor }),
      },
      {
        name: "suspending an Admin",
        caller: "promoter",
        code: "privilege_escalation",
        run: (who) => call(who, "POST", `/members/${m.admin?.userId}/suspend`),
      },
      // Roles.
      {
        name: "adding a permission it lacks to its own role",
        caller: "editor",
        code: "privilege_escalation",
        run: (who) =>
          call(who, "PATCH", `/roles/${roles.editor}`, {
            permissions: ["account:read", "roles:read", "roles:manage", "members:delete"],
          }),
      },
      {
        name: "taking a permission it lacks away from the holders of a role",
        caller: "editor",
        code: "privilege_escalation",
        run: (who) => call(who, "PATCH", `/roles/${roles.ops}`, { permissions: MONITOR }),
      },
      {
        name: "deleting its own role to be moved to Admin",
        caller: "editor",
        code: "privilege_escalation",
        run: (who) => call(who, "DELETE", `/roles/${roles.editor}?move_to=${roles.admin}`),
      },
    ];

    for (const attempt of attempts) {
      it(`refuses ${attempt.caller} ${attempt.name} (${attempt.code}), changing nobody's access`, async () => {
        const who = m[attempt.caller] as Member;
        const before = await snapshot();
        const response = await attempt.run(who);
        expect(response.statusCode, response.payload).toBe(403);
        expect(response.body.code).toBe(attempt.code);
        expect(await snapshot()).toEqual(before);
      });
    }

    /**
     * The same paths with API keys: a key acts with its scopes ∩ its creator's permissions and is never
     * Root, so the one grant rule binds it by what it holds — whoever created it.
     */
    const keyAttempts: Array<{
      name: string;
      creator: "root" | "admin";
      scopes: string[] | "all";
      code: "privilege_escalation" | "root_only" | "forbidden" | "session_required";
      run: (
        secret: string,
        keyId: string,
      ) => Promise<{ statusCode: number; payload: string; body: Record<string, unknown> }>;
    }> = [
      {
        name: "making an accomplice Root with an Admin's key holding all the Admin holds",
        creator: "admin",
        scopes: "all",
        code: "root_only",
        run: (secret) =>
          createKeyClient(t.app, secret).patch(`${base}/members/${m.accomplice?.userId}`, {
            role_id: roles.root,
          }),
      },
      {
        name: "making an accomplice Root with Root's own key (a key is never Root)",
        creator: "root",
        scopes: "all",
        code: "root_only",
        run: (secret) =>
          createKeyClient(t.app, secret).patch(`${base}/members/${m.accomplice?.userId}`, {
            role_id: roles.root,
          }),
      },
      {
        name: "adding an accomplice to a team that grants Root with Root's key",
        creator: "root",
        scopes: "all",
        code: "root_only",
        run: async (secret) =>
          createKeyClient(t.app, secret).put(`${base}/teams/${teams.roots}/members`, {
            user_ids: [...(await teamMembers(teams.roots as string)), m.accomplice?.userId],
          }),
      },
      {
        name: "making an accomplice Admin with an Admin's key scoped to changing roles",
        creator: "admin",
        scopes: [...MONITOR, "members:update_role"],
        code: "privilege_escalation",
        run: (secret) =>
          createKeyClient(t.app, secret).patch(`${base}/members/${m.accomplice?.userId}`, {
            role_id: roles.admin,
          }),
      },
      {
        name: "inviting into a team that grants Admin with an Admin's key scoped to inviting",
        creator: "admin",
        scopes: [...MONITOR, "members:invite"],
        code: "privilege_escalation",
        run: (secret) =>
          createKeyClient(t.app, secret).post(`${base}/invitations`, {
            emails: [`esc-key-invitee-${++serial}@example.com`],
            role_id: roles.monitor,
            team_ids: [teams.admins],
          }),
      },
      {
        name: "creating a team that grants Admin with an Admin's key scoped to teams",
        creator: "admin",
        scopes: [...MONITOR, "teams:manage"],
        code: "privilege_escalation",
        run: (secret) =>
          createKeyClient(t.app, secret).post(`${base}/teams`, {
            name: `Key shadow ${++serial}`,
            role_id: roles.admin,
          }),
      },
      {
        name: "adding a permission to a role with an Admin's key scoped to roles",
        creator: "admin",
        scopes: ["account:read", "roles:read", "roles:manage"],
        code: "privilege_escalation",
        run: (secret) =>
          createKeyClient(t.app, secret).patch(`${base}/roles/${roles.editor}`, {
            permissions: ["account:read", "roles:read", "roles:manage", "members:delete"],
          }),
      },
      {
        name: "creating another key",
        creator: "admin",
        scopes: "all",
        code: "session_required",
        run: (secret) =>
          createKeyClient(t.app, secret).post(`${base}/api-keys`, {
            name: "Child",
            scopes: ["account:read"],
          }),
      },
      {
        name: "widening its own scopes beyond what it holds",
        creator: "admin",
        scopes: ["account:read", "api_keys:manage"],
        code: "forbidden",
        run: (secret, keyId) =>
          createKeyClient(t.app, secret).patch(`${base}/api-keys/${keyId}`, {
            scopes: ["account:read", "api_keys:manage", "members:delete"],
          }),
      },
      {
        name: "rotating a stronger key of its creator (to get that key's secret)",
        creator: "admin",
        scopes: ["account:read", "api_keys:manage"],
        code: "forbidden",
        run: async (secret) => {
          const admin = m.admin as Member;
          const stronger = await createApiKey({ client: admin.client, accountId }, [
            "account:read",
            "billing:manage",
          ]);
          return createKeyClient(t.app, secret).post(`${base}/api-keys/${stronger.id}/rotate`);
        },
      },
    ];

    for (const attempt of keyAttempts) {
      it(`refuses a key ${attempt.name} (${attempt.code}), changing nobody's access`, async () => {
        const creator = attempt.creator === "root" ? root : (m.admin as Member);
        const held = BUILTIN_ROLES.find((r) => r.key === attempt.creator)?.permissions ?? [];
        const key = await createApiKey(
          { client: creator.client, accountId },
          attempt.scopes === "all" ? [...held] : attempt.scopes,
        );
        const before = await snapshot();
        const response = await attempt.run(key.secret, key.id);
        expect(response.statusCode, response.payload).toBe(403);
        expect(response.body.code).toBe(attempt.code);
        expect(await snapshot()).toEqual(before);
      });
    }

    it("lets a key give and take away what it holds, through the same paths", async () => {
      const admin = m.admin as Member;
      const held = BUILTIN_ROLES.find((r) => r.key === "admin")?.permissions ?? [];
      const key = createKeyClient(
        t.app,
        (await createApiKey({ client: admin.client, accountId }, [...held])).secret,
      );
      const accomplice = m.accomplice?.userId as string;
      expect((await key.patch(`${base}/members/${accomplice}`, { role_id: roles.admin })).statusCode).toBe(
        200,
      );
      expect(
        (await loadAccess(t.services.db, accountId, accomplice))?.permissions.has("members:delete"),
      ).toBe(true);
      expect((await key.patch(`${base}/members/${accomplice}`, { role_id: roles.monitor })).statusCode).toBe(
        200,
      );
      expect(
        (await loadAccess(t.services.db, accountId, accomplice))?.permissions.has("members:delete"),
      ).toBe(false);
      // "Never yourself" holds for the member the key acts for.
      const self = await key.patch(`${base}/members/${admin.userId}`, { role_id: roles.monitor });
      expect(self.body.code).toBe("self_change");
    });

    it("refuses the reported chain: an Admin never becomes Root, makes nobody Root, and Root stays", async () => {
      const admin = m.admin as Member;
      const step1 = await call(admin, "DELETE", `/teams/${await team("Chain", null, [admin.userId])}`, {
        reassign_members_to: teams.roots,
        transfer_resources_to: "account",
      });
      expect(step1.body.code).toBe("root_only");
      expect((await loadAccess(t.services.db, accountId, admin.userId))?.isRoot).toBe(false);
      expect(
        (await call(admin, "PATCH", `/members/${m.accomplice?.userId}`, { role_id: roles.root })).body.code,
      ).toBe("root_only");
      expect((await call(admin, "DELETE", `/members/${root.userId}`)).body.code).toBe("root_only");
      expect((await loadAccess(t.services.db, accountId, root.userId))?.isRoot).toBe(true);
    });

    it("still lets each caller give and take away what it holds, through the same paths", async () => {
      const lead = m.lead as Member;
      const admin = m.admin as Member;
      // A team manager moves people between teams that grant nothing.
      const from = await team("From", null, [lead.userId, m.accomplice?.userId as string]);
      const to = await team("To", null);
      const moved = await call(lead, "DELETE", `/teams/${from}`, {
        reassign_members_to: to,
        transfer_resources_to: "account",
      });
      expect(moved.statusCode, moved.payload).toBe(204);
      expect(await teamMembers(to)).toEqual([lead.userId, m.accomplice?.userId].sort());
      // An Admin grants Admin through a team, and takes it away again by deleting the team.
      const admins = await team("Granted", "admin");
      const joined = await call(admin, "PUT", `/teams/${admins}/members`, {
        user_ids: [m.accomplice?.userId],
      });
      expect(joined.statusCode, joined.payload).toBe(200);
      expect(
        (await loadAccess(t.services.db, accountId, m.accomplice?.userId as string))?.permissions.has(
          "members:delete",
        ),
      ).toBe(true);
      const deleted = await call(admin, "DELETE", `/teams/${admins}`, {
        reassign_members_to: to,
        transfer_resources_to: "account",
      });
      expect(deleted.statusCode, deleted.payload).toBe(204);
      expect(
        (await loadAccess(t.services.db, accountId, m.accomplice?.userId as string))?.permissions.has(
          "members:delete",
        ),
      ).toBe(false);
      // A role editor narrows a role within its own permissions.
      const narrow = await asRoot("POST", "/roles", {
        name: `Narrow ${++serial}`,
        permissions: ["account:read", "roles:read"],
      });
      const edited = await call(m.editor as Member, "PATCH", `/roles/${narrow.id}`, {
        permissions: ["account:read"],
      });
      expect(edited.statusCode, edited.payload).toBe(200);
      // Root may do what the Admin may not.
      const rooted = await call(root, "PUT", `/teams/${teams.roots}/members`, {
        user_ids: [...(await teamMembers(teams.roots as string)), m.accomplice?.userId],
      });
      expect(rooted.statusCode, rooted.payload).toBe(200);
      expect((await loadAccess(t.services.db, accountId, m.accomplice?.userId as string))?.isRoot).toBe(true);
    });
  },
);
