import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDialects } from "../testing/harness.js";
import { createScratchDatabase } from "../testing/server-process.js";
import { runBackupCommand } from "./backups-cli.js";

describe("gatehouse backup and restore usage", () => {
  it("explains a missing file name with exit code 2, before opening anything", async () => {
    const errors: string[] = [];
    const out = { log: () => {}, error: (line: string) => errors.push(line) };
    // An environment that could not even be loaded: usage is checked first.
    const env = { DATABASE_URL: "mysql://nope" };
    expect(await runBackupCommand("backup", [], out, env)).toBe(2);
    expect(await runBackupCommand("backup", ["--out", "a.zip", "extra"], out, env)).toBe(2);
    expect(await runBackupCommand("restore", [], out, env)).toBe(2);
    expect(await runBackupCommand("restore", ["a.zip", "--force"], out, env)).toBe(2);
    expect(errors[0]).toMatch(
      /^backup needs --out <file> and nothing else\n\nUsage: gatehouse backup --out <file>/,
    );
    expect(errors[2]).toMatch(/^restore needs the backup file/);
    expect(errors[3]).toMatch(/Unknown option '--force'/);
  });
});

// Real `gatehouse` processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 300_000;
const run = promisify(execFile);

describe.each(testDialects())("gatehouse backup and restore on %s", (dialect) => {
  let source: Awaited<ReturnType<typeof createScratchDatabase>>;
  let target: Awaited<ReturnType<typeof createScratchDatabase>>;
  let dir: string;
  beforeAll(async () => {
    source = await createScratchDatabase(dialect);
    target = await createScratchDatabase(dialect);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-backup-cli-"));
  });
  afterAll(async () => {
    await source?.drop();
    await target?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (url: string, env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, ["bin/gatehouse.js", ...args], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        DATABASE_URL: url,
        SECRET_KEY: "k".repeat(40),
        NODE_ENV: "test",
        SMTP_URL: "",
        ...env,
      },
    });
  const atSource = (...args: string[]) => cli(source.url, { DATA_DIR: join(dir, "source-data") }, ...args);
  const atTarget = (...args: string[]) => cli(target.url, { DATA_DIR: join(dir, "target-data") }, ...args);

  it(
    "backs up, restores into an empty database whose audit chains verify, and refuses what it must",
    async () => {
      await atSource(
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
      const file = join(dir, "nightly.zip");
      const backup = await atSource("backup", "--out", file);
      expect(backup.stdout).toMatch(
        new RegExp(
          `^Backup written to ${file.replaceAll(".", "\\.")}: ${dialect} database at 0\\d{3}-[a-z-]+ \\(\\d+ KB\\), 0 files`,
          "m",
        ),
      );
      // The same name again is refused, not overwritten.
      await expect(atSource("backup", "--out", file)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^Error: .*nightly\.zip already exists/m),
      });

      const restored = await atTarget("restore", file);
      expect(restored.stdout).toMatch(
        /^Restored the backup of \S+ \(Gatehouse \d+\.\d+\.\d+, \w+, migration \S+\): \d+ rows/m,
      );
      expect(restored.stdout).toMatch(/^No migrations were needed\.$/m);
      expect((await atTarget("audit", "verify")).stdout).toMatch(/^ok\s+acct_\S+: 1 event$/m);

      await expect(atTarget("restore", file)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^Error: The database is not empty \(accounts: 1 row, /m),
      });
      // Scheduled backups show in `gatehouse jobs` once BACKUP_DIR is set.
      const jobs = await cli(
        source.url,
        { BACKUP_DIR: join(dir, "scheduled"), BACKUP_INTERVAL: "6h" },
        "jobs",
      );
      expect(jobs.stdout).toMatch(/^backups\s+6 h\s+never\s+-\s+due\s+0\s+-$/m);
      if (dialect === "postgres")
        await expect(
          cli(source.url, { PG_BIN_DIR: join(dir, "no-such-folder") }, "backup", "--out", join(dir, "x.zip")),
        ).rejects.toMatchObject({
          code: 1,
          stderr: expect.stringMatching(
            /^Error: pg_dump was not found in PG_BIN_DIR .*postgresql-client-\d+/m,
          ),
        });
    },
    PROCESS_TEST_TIMEOUT,
  );
});
