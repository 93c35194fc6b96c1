import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApiKey,
  createKeyClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { runApiKeysCommand } from "./api-keys-cli.js";

/** `gatehouse api-keys …` as the operator runs it (src/cli.test.ts runs it in a real process too). */
describe.each(testDialects())("gatehouse api-keys on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runApiKeysCommand(args, t.services, {
      log: (line) => out.push(line),
      error: (line) => err.push(line),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };

  it("lists an account's keys without secrets and revokes one at once, audited as the system", async () => {
    const root = await signUpAndLogin(t, { email: "cli-keys@example.com", account: "CLI Keys" });
    const first = await createApiKey(root, ["members:read"], { name: "Reporting" });
    const second = await createApiKey(root, ["teams:read", "members:read"], {
      name: "Sync",
      expires_at: "2099-01-01T00:00:00Z",
    });
    await createKeyClient(t.app, first.secret, { ip: "203.0.113.9" }).get(
      `/api/v1/accounts/${root.accountId}/members`,
    );
    await t.services.writeBehind.flush();

    const listed = await run("list", "--account", root.accountId);
    expect(listed.code).toBe(0);
    const lines = listed.out.split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+PREFIX\s+CREATED BY\s+SCOPES\s+LAST USED\s+EXPIRES$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${second.id}\\s+Sync\\s+gh_…${second.secret.slice(-4)}\\s+${root.userId}\\s+teams:read,members:read\\s+never\\s+2099-01-01 00:00:00Z$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${first.id}\\s+Reporting\\s+.*\\s+\\S+ \\S+Z from 203\\.0\\.113\\.9\\s+never$`),
    );
    expect(listed.out).not.toContain(first.secret.slice(3, 40));
    const json = JSON.parse((await run("list", "--account", root.accountId, "--json")).out);
    expect(json.map((k: { id: string }) => k.id)).toEqual([second.id, first.id]);

    const revoked = await run("revoke", "--account", root.accountId, first.id);
    expect(revoked).toMatchObject({ code: 0, out: expect.stringContaining(`Revoked ${first.id}`) });
    const refused = await createKeyClient(t.app, first.secret).get(
      `/api/v1/accounts/${root.accountId}/members`,
    );
    expect(refused.statusCode).toBe(401);
    const [event] = (
      await root.client.get(`/api/v1/accounts/${root.accountId}/audit-events?action=api_key.revoked`)
    ).body.data;
    expect(event).toMatchObject({ actor: { type: "system", id: null }, target: { id: first.id } });
    expect((await run("list", "--account", root.accountId)).out).not.toContain(first.id);
  });

  it("says what is wrong: unknown account or key (exit 1), bad usage (exit 2)", async () => {
    expect(await run("list", "--account", "acct_nope")).toMatchObject({ code: 1, err: "Account not found." });
    const root = await signUpAndLogin(t, { email: "cli-keys-empty@example.com", account: "Empty" });
    expect(await run("list", "--account", root.accountId)).toMatchObject({ code: 0, out: "No API keys." });
    expect(await run("revoke", "--account", root.accountId, "key_nope")).toMatchObject({
      code: 1,
      err: "API key not found.",
    });
    for (const args of [
      [],
      ["list"],
      ["drop", "--account", root.accountId],
      ["revoke", "--account", root.accountId],
      ["list", "--acount", "x"],
    ]) {
      expect((await run(...args)).code, args.join(" ")).toBe(2);
    }
  });
});
