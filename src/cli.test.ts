import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { createApiKeysRepository } from "./api-keys/api-keys.repository.js";
import { openDatabase } from "./db/database.js";

// These start real processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 120_000;

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "gatehouse-cli-"));
const env = {
  ...process.env,
  DATABASE_URL: `sqlite:${join(dir, "cli.db")}`,
  SECRET_KEY: "k".repeat(40),
  NODE_ENV: "test",
};
const cli = (...args: string[]) =>
  run(process.execPath, ["bin/gatehouse.js", ...args], { env, cwd: process.cwd() });

describe("gatehouse CLI", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "migrates, creates the first account with a Root user, and resets a password",
    async () => {
      expect((await cli("migrate")).stdout).toMatch(/Applied: 0001-identity/);
      expect((await cli("migrate")).stdout).toMatch(/up to date/);

      const created = await cli(
        "create-account",
        "--email",
        "op@example.com",
        "--name",
        "Olga Op",
        "--account",
        "Ops Inc",
        "--password",
        "operator-Lantern-1984",
      );
      expect(created.stdout).toMatch(/Created account acct_\S+ with Root user usr_\S+ <op@example.com>/);

      const database = openDatabase(env.DATABASE_URL);
      try {
        const row = await database.db
          .selectFrom("users as u")
          .innerJoin("memberships as m", "m.user_id", "u.id")
          .innerJoin("roles as r", "r.id", "m.role_id")
          .select(["u.email_verified_at", "r.key", "u.must_change_password"])
          .where("u.email_normalized", "=", "op@example.com")
          .executeTakeFirstOrThrow();
        expect(row.key).toBe("root");
        expect(row.email_verified_at).not.toBeNull();

        const reset = await cli("reset-password", "--email", "op@example.com");
        const temporary = /Temporary password \(shown once\): (\S+)/.exec(reset.stdout)?.[1];
        expect(temporary).toMatch(/^\w{20}$/);
        const after = await database.db
          .selectFrom("users")
          .select("must_change_password")
          .where("email_normalized", "=", "op@example.com")
          .executeTakeFirstOrThrow();
        expect(after.must_change_password).toBe(1);
      } finally {
        await database.close();
      }
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "verifies the audit hash chains and fails on tampering",
    async () => {
      expect((await cli("audit", "verify")).stdout).toMatch(/^ok\s+acct_\S+: \d+ events?/m);
      const database = openDatabase(env.DATABASE_URL);
      try {
        await database.db
          .updateTable("audit_events")
          .set({ action: "account.renamed" })
          .where("action", "=", "account.created")
          .execute();
      } finally {
        await database.close();
      }
      await expect(cli("audit", "verify")).rejects.toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/BROKEN/),
      });
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "lists and revokes an account's API keys",
    async () => {
      const database = openDatabase(env.DATABASE_URL);
      let accountId: string;
      try {
        accountId = (await database.db.selectFrom("accounts").select("id").executeTakeFirstOrThrow()).id;
        const creator = await database.db
          .selectFrom("users")
          .select("id")
          .where("email_normalized", "=", "op@example.com")
          .executeTakeFirstOrThrow();
        const now = new Date().toISOString();
        await createApiKeysRepository().insert(database.db, {
          id: "key_cliTestKey0000000000000",
          accountId,
          createdBy: creator.id,
          name: "CI deploys",
          prefix: "gh_…Ab12",
          secretHash: "not-a-real-hash",
          scopes: ["members:read", "teams:read"],
          allowedIps: [],
          expiresAt: null,
          now,
        });
      } finally {
        await database.close();
      }
      const listed = await cli("api-keys", "list", "--account", accountId);
      expect(listed.stdout).toMatch(/^ID\s+NAME\s+PREFIX\s+CREATED BY\s+SCOPES\s+LAST USED\s+EXPIRES$/m);
      expect(listed.stdout).toMatch(
        /^key_cliTestKey0000000000000\s+CI deploys\s+gh_…Ab12\s+usr_\S+\s+members:read,teams:read\s+never\s+never$/m,
      );
      expect(
        (await cli("api-keys", "revoke", "--account", accountId, "key_cliTestKey0000000000000")).stdout,
      ).toMatch(/^Revoked key_cliTestKey0000000000000/);
      expect((await cli("api-keys", "list", "--account", accountId)).stdout.trim()).toBe("No API keys.");
      await expect(
        cli("api-keys", "revoke", "--account", accountId, "key_cliTestKey0000000000000"),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/API key not found/) });
      await expect(cli("api-keys", "list")).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/needs --account/),
      });
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "explains mistakes with a non-zero exit",
    async () => {
      await expect(cli("create-account", "--email", "x@example.com")).rejects.toMatchObject({ code: 2 });
      await expect(
        cli("reset-password", "--email", "nobody@example.com", "--password", "whatever-Lantern-22"),
      ).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/No user with email/),
      });
      await expect(
        cli("create-account", "--email", "weak@example.com", "--account", "W", "--password", "password"),
      ).rejects.toMatchObject({
        stderr: expect.stringMatching(/min_length|at least 12/),
      });
    },
    PROCESS_TEST_TIMEOUT,
  );
});
