import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../db/database.js";
import { testDialects } from "../testing/harness.js";
import { createScratchDatabase } from "../testing/server-process.js";

// Real `gatehouse` processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 180_000;
const run = promisify(execFile);
const TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`;

describe.each(testDialects())("gatehouse jobs on %s", (dialect) => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    scratch = await createScratchDatabase(dialect);
    env = {
      ...process.env,
      DATABASE_URL: scratch.url,
      SECRET_KEY: "k".repeat(40),
      NODE_ENV: "test",
      SMTP_URL: "",
    };
  });
  afterAll(() => scratch?.drop());

  const cli = (...args: string[]) =>
    run(process.execPath, ["bin/gatehouse.js", ...args], { env, cwd: process.cwd() });
  const stateOf = async (name: string) => {
    const { stdout } = await cli("jobs", "--json");
    const jobs = JSON.parse(stdout).jobs as Array<Record<string, unknown> & { name: string }>;
    return jobs.find((j) => j.name === name) as Record<string, unknown>;
  };

  it(
    "lists every job with its state; a failing job shows its error, failures in a row and its backoff",
    async () => {
      const first = await cli("jobs");
      expect(first.stdout).toMatch(/^JOB\s+EVERY\s+LAST RUN\s+STATUS\s+NEXT RUN\s+FAILURES\s+RUNNING$/m);
      expect(first.stdout).toMatch(/^billing-renewals\s+1 min\s+never\s+-\s+due\s+0\s+-$/m);
      expect(first.stdout).toMatch(/^mail-delivery\s+tick\s+never\s+-\s+due\s+0\s+-$/m);
      expect(first.stdout).toMatch(/^password-reset-requests\s+tick\s+never/m);
      expect(first.stdout).toMatch(/^payment-retries\s+1 min\s+never/m);
      expect(first.stdout).toMatch(/^purge-expired\s+10 min\s+never/m);
      expect(first.stdout).toMatch(/^mail queue: 0 queued, 0 sending; last 7 days: 0 sent, 0 failed$/m);

      const ran = await cli("jobs", "run", "billing-renewals");
      expect(ran.stdout.trim()).toBe('billing-renewals: ok {"renewed":0}');
      expect((await cli("jobs")).stdout).toMatch(
        new RegExp(`^billing-renewals\\s+1 min\\s+${TIME}\\s+ok\\s+${TIME}\\s+0\\s+-$`, "m"),
      );

      // Break the purge: a table it deletes from is gone.
      const database = openDatabase(scratch.url);
      await sql`drop table webauthn_challenges`.execute(database.db);
      await database.close();
      for (const [failures, backoff] of [
        [1, 30],
        [2, 60],
      ] as const) {
        await expect(cli("jobs", "run", "purge-expired")).rejects.toMatchObject({
          code: 1,
          stdout: expect.stringMatching(/^purge-expired: FAILED .*webauthn_challenges/m),
        });
        const listed = (await cli("jobs")).stdout;
        expect(listed).toMatch(
          new RegExp(`^purge-expired\\s+10 min\\s+${TIME}\\s+failed\\s+${TIME}\\s+${failures}\\s+-$`, "m"),
        );
        expect(listed).toMatch(/^purge-expired last error: .*webauthn_challenges/m);
        const state = await stateOf("purge-expired");
        expect(state).toMatchObject({ lastStatus: "failed", consecutiveFailures: failures, lockedBy: null });
        expect(Date.parse(state.nextRunAt as string) - Date.parse(state.lastFinishedAt as string)).toBe(
          backoff * 1000,
        );
      }

      await expect(cli("jobs", "run", "no-such-job")).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/Unknown job: no-such-job/),
      });
    },
    PROCESS_TEST_TIMEOUT,
  );
});
