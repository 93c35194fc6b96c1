import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createTestApp, type TestApp, testDialects } from "../testing/harness.js";
import { JOB_LOOP, type JobRunner } from "./job-runner.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds (the loop ticks on wall time); fails after `tries` × 25 ms. */
async function until(check: () => Promise<boolean> | boolean, tries = 800): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error("condition never held");
}

describe.each(testDialects())("the job loop on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const row = (name: string) =>
    t.services.db.selectFrom("jobs").selectAll().where("name", "=", name).executeTakeFirstOrThrow();

  it("runs each due run once across two processes running the loop at the same time", async () => {
    // Two server processes' worth of app on one database, each with its own pool and job loop.
    const first = await t.sibling({ applicationName: "gatehouse-jobs-a" });
    const second = await t.sibling({ applicationName: "gatehouse-jobs-b" });
    const names = Array.from({ length: 8 }, (_, i) => `test-once-${i}`);
    const runs = new Map<string, number>(names.map((n) => [n, 0]));
    for (const runner of [first.services.jobs, second.services.jobs]) {
      for (const name of names) {
        runner.register({
          name,
          everySeconds: 3600,
          description: "counts its runs",
          run: async () => {
            runs.set(name, (runs.get(name) ?? 0) + 1);
            // Long enough for the other process's tick to look while this run goes on.
            await sleep(40);
            return { ran: true };
          },
        });
      }
    }
    first.services.jobs.start();
    second.services.jobs.start();
    const settled = async () => {
      const rows = await t.services.db.selectFrom("jobs").selectAll().where("name", "in", names).execute();
      return (
        rows.length === names.length && rows.every((r) => r.last_status === "ok" && r.locked_by === null)
      );
    };
    await until(async () => names.every((n) => (runs.get(n) ?? 0) >= 1) && (await settled()));

    // An hour later every job is due again: again one run each.
    t.services.clock.advance(3600);
    await until(() => names.every((n) => (runs.get(n) ?? 0) >= 2));
    await Promise.all([first.services.jobs.stop(), second.services.jobs.stop()]);
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(names.map((n) => [n, 2])));

    // Ticks of both processes at the very same moment, both seeing every job due: the claim decides.
    const third = await t.sibling({ applicationName: "gatehouse-jobs-c" });
    const fourth = await t.sibling({ applicationName: "gatehouse-jobs-d" });
    for (const runner of [third.services.jobs, fourth.services.jobs]) {
      for (const name of names) {
        runner.register({
          name,
          everySeconds: 3600,
          description: "counts its runs",
          run: async () => {
            runs.set(name, (runs.get(name) ?? 0) + 1);
            return { ran: true };
          },
        });
      }
    }
    for (let round = 3; round <= 6; round++) {
      t.services.clock.advance(3600);
      const [a, b] = await Promise.all([third.services.jobs.runDue(), fourth.services.jobs.runDue()]);
      for (const name of names) {
        expect([a[name]?.status, b[name]?.status].filter((s) => s === "ok")).toHaveLength(1);
      }
    }
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(names.map((n) => [n, 6])));
    await third.close();
    await fourth.close();
    const rows = await t.services.db.selectFrom("jobs").selectAll().where("name", "in", names).execute();
    for (const r of rows) {
      expect(r).toMatchObject({ last_status: "ok", consecutive_failures: 0, locked_by: null });
      expect(JSON.parse(r.last_result ?? "null")).toEqual({ ran: true });
    }
    await first.close();
    await second.close();
    t.services.clock.reset();
  });

  it("backs a failing job off (30 s doubling), shows its failures, and clears them on success", async () => {
    const runner: JobRunner = t.services.jobs;
    let failuresLeft = 3;
    runner.register({
      name: "test-flaky",
      everySeconds: 60,
      description: "fails three times",
      run: async () => {
        if (failuresLeft-- > 0) throw new Error(`upstream said no (${failuresLeft} left)`);
        return { done: 1 };
      },
    });
    const at = new Date("2026-05-01T12:00:00.000Z");
    t.services.clock.freeze(at);
    try {
      for (const [failures, delay] of [
        [1, 30],
        [2, 60],
        [3, 120],
      ] as const) {
        const outcome = await runner.runNow(["test-flaky"]);
        expect(outcome["test-flaky"]).toMatchObject({ status: "failed", error: expect.stringMatching(/no/) });
        const view = (await runner.list()).find((j) => j.name === "test-flaky");
        expect(view).toMatchObject({
          lastStatus: "failed",
          consecutiveFailures: failures,
          lastError: expect.stringMatching(/^upstream said no/),
          nextRunAt: new Date(at.getTime() + delay * 1000).toISOString(),
          lockedBy: null,
        });
      }
      expect((await runner.runNow(["test-flaky"]))["test-flaky"]).toEqual({
        status: "ok",
        result: { done: 1 },
      });
      expect(await row("test-flaky")).toMatchObject({
        last_status: "ok",
        last_error: null,
        consecutive_failures: 0,
        next_run_at: new Date(at.getTime() + 60_000).toISOString(),
      });
    } finally {
      t.services.clock.reset();
    }
  });

  it("runs what is due through the loop on POST /dev/jobs/run, leaving a job another process holds to it", async () => {
    const later = new Date(Date.now() + 10 * 60_000).toISOString();
    const retriesBefore = await row("payment-retries");
    await t.services.db
      .updateTable("jobs")
      .set({ locked_by: "elsewhere:1", locked_until: later })
      .where("name", "=", "payment-retries")
      .execute();
    // A claim whose process died (lease over) does not hold the job.
    await t.services.db
      .updateTable("jobs")
      .set({ locked_by: "gone:2", locked_until: new Date(Date.now() - 1000).toISOString() })
      .where("name", "=", "purge-expired")
      .execute();
    const run = await createClient(t.app).post("/dev/jobs/run");
    expect(run.statusCode).toBe(200);
    expect(run.body.renewals).toBe(0);
    expect(run.body.payments).toBeNull();
    expect(run.body.purged).toMatchObject({ email_tokens: 0, mail: 0 });
    const outcomes = Object.fromEntries(
      (run.body.jobs as Array<{ name: string; status: string }>).map((j) => [j.name, j]),
    );
    expect(outcomes).toMatchObject({
      "billing-renewals": { status: "ok", result: { renewed: 0 } },
      "payment-retries": { status: "skipped", reason: "locked" },
      "purge-expired": { status: "ok" },
      "password-reset-requests": { status: "ok" },
      "mail-delivery": { status: "ok", result: { sent: 0, retrying: 0, failed: 0 } },
    });
    const renewals = await row("billing-renewals");
    expect(renewals).toMatchObject({ last_status: "ok", locked_by: null, interval_seconds: 60 });
    expect(renewals.last_started_at).not.toBeNull();
    expect(await row("payment-retries")).toMatchObject({
      locked_by: "elsewhere:1",
      last_started_at: retriesBefore.last_started_at,
    });
    expect(await row("purge-expired")).toMatchObject({ locked_by: null, last_status: "ok" });
    await t.services.db
      .updateTable("jobs")
      .set({ locked_by: null, locked_until: null })
      .where("name", "=", "payment-retries")
      .execute();
  }, 30_000);

  it("lets a running job finish on stop, and starts nothing after", async () => {
    const other = await t.sibling();
    let release = () => {};
    let started = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    other.services.jobs.register({
      name: "test-slow",
      everySeconds: 3600,
      description: "waits to be released",
      run: async () => {
        started();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return { finished: true };
      },
    });
    const kicked = other.services.jobs.kick("test-slow");
    await running;
    let stopped = false;
    const stopping = other.services.jobs.stop().then(() => {
      stopped = true;
    });
    await sleep(JOB_LOOP.kickRetryMs);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await kicked).toEqual({ status: "ok", result: { finished: true } });
    expect(await other.services.jobs.kick("test-slow")).toEqual({ status: "skipped", reason: "stopped" });
    expect(await row("test-slow")).toMatchObject({ last_status: "ok", locked_by: null });
    await other.close();
  });
});
