import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { FastifyBaseLogger } from "fastify";
import type { DatabaseHandle } from "../db/database.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { createJobsRepository, type JobState } from "./jobs.repository.js";

/** One kind of background work. Every job in Gatehouse is one of these, run by the one loop below. */
export type Job = {
  name: string;
  /** Seconds from the start of one run to the next; 0 = every tick of the loop. */
  everySeconds: number;
  /** What it does, for `gatehouse jobs`. */
  description: string;
  /**
   * A cheap look for work, when the job has its own queue (mail): a tick that finds none skips the run,
   * so an idle installation writes nothing. A kick or a forced run does not ask.
   */
  hasWork?: () => Promise<boolean>;
  /** Does the work; what it returns (counts) is kept as the run's result. Throwing fails the run. */
  run(): Promise<unknown>;
};

export type RunOutcome =
  | { status: "ok"; result: unknown }
  | { status: "failed"; error: string }
  | { status: "skipped"; reason: "locked" | "not_due" | "stopped" };

/** A job as `gatehouse jobs` shows it: what the code says and what the `jobs` table holds. */
export type JobView = JobState & { description: string | null; registered: boolean };

export const JOB_LOOP = {
  /** How often the loop looks for due runs (wall time). */
  tickSeconds: 1,
  /**
   * A claim lasts this long and is renewed every third of it while the run goes on; a process that dies
   * mid-run holds its jobs at most this long.
   */
  leaseSeconds: 60,
  /** After a failed run: 30 s, doubling with each failure in a row, at most 1 h. */
  firstRetrySeconds: 30,
  maxRetrySeconds: 3600,
  /** A kick that finds another process running the job tries again this often, this many times. */
  kickRetryMs: 100,
  kickRetries: 30,
} as const;

export function retryDelaySeconds(failures: number): number {
  return Math.min(JOB_LOOP.firstRetrySeconds * 2 ** Math.max(0, failures - 1), JOB_LOOP.maxRetrySeconds);
}

/**
 * The job loop: every process runs it; each run of a job is claimed in the `jobs` table by exactly one
 * process, retried with backoff when it fails, and recorded (last run, next run, failures) where
 * `gatehouse jobs` reads it. Due-ness follows the injected clock, so `/dev/clock` moves jobs too.
 */
export function createJobRunner(deps: { database: DatabaseHandle; clock: Clock; log: FastifyBaseLogger }) {
  const { clock, log } = deps;
  const db = deps.database.db;
  const repository = createJobsRepository(deps.database.dialect);
  /** Names this process in `locked_by`. */
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const jobs = new Map<string, Job>();
  /** Per job, the run this process has going and at most one more asked for meanwhile. */
  const lanes = new Map<string, { current: Promise<RunOutcome> | null; next: Promise<RunOutcome> | null }>();
  const inFlight = new Set<Promise<unknown>>();
  let ensured: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const iso = (date: Date) => date.toISOString();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => {});
    return promise;
  }

  function ensureRows(): Promise<void> {
    ensured ??= repository
      .ensure(
        db,
        [...jobs.values()].map((j) => ({ name: j.name, intervalSeconds: j.everySeconds })),
        iso(clock.now()),
      )
      .catch((error: unknown) => {
        ensured = null;
        throw error;
      });
    return ensured;
  }

  /** Beyond this, a next run can only come from a clock that was set back: it is due. */
  const farFuture = (job: Job, now: Date) =>
    iso(addSeconds(now, Math.max(job.everySeconds, JOB_LOOP.maxRetrySeconds) + 60));

  async function claimAndRun(job: Job, force: boolean): Promise<RunOutcome> {
    await ensureRows();
    let claimed: { consecutiveFailures: number } | undefined;
    for (let tries = 0; ; tries++) {
      const now = clock.now();
      claimed = await repository.claim(db, {
        name: job.name,
        owner,
        now: iso(now),
        lockedUntil: iso(addSeconds(now, JOB_LOOP.leaseSeconds)),
        nextRunAt: iso(addSeconds(now, job.everySeconds)),
        force,
        farFuture: farFuture(job, now),
      });
      if (claimed) break;
      // A tick's run that is not due (any more) or held elsewhere is simply not this process's.
      if (!force) return { status: "skipped", reason: "not_due" };
      // Asked for now (a kick after a commit, /dev/jobs/run): another process has it; wait for its end.
      if (tries >= JOB_LOOP.kickRetries || stopped) return { status: "skipped", reason: "locked" };
      await sleep(JOB_LOOP.kickRetryMs);
    }

    const heartbeat = setInterval(
      () => {
        repository
          .extend(db, job.name, owner, iso(addSeconds(clock.now(), JOB_LOOP.leaseSeconds)))
          .catch((error: unknown) => log.warn({ err: error, job: job.name }, "job claim renewal failed"));
      },
      (JOB_LOOP.leaseSeconds * 1000) / 3,
    );
    heartbeat.unref();
    try {
      const result = await job.run();
      await repository.finish(db, job.name, owner, { status: "ok", at: iso(clock.now()), result });
      return { status: "ok", result };
    } catch (error) {
      const failures = claimed.consecutiveFailures + 1;
      const delay = retryDelaySeconds(failures);
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 1000);
      log.error(
        { err: error, job: job.name, consecutive_failures: failures, retry_in_seconds: delay },
        `job ${job.name} failed`,
      );
      const now = clock.now();
      await repository
        .finish(db, job.name, owner, {
          status: "failed",
          at: iso(now),
          error: message,
          failures,
          retryAt: iso(addSeconds(now, delay)),
        })
        .catch((e: unknown) => log.error({ err: e, job: job.name }, "job outcome not recorded"));
      return { status: "failed", error: message };
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Never rejects: a run that cannot even be claimed (database away) is logged and skipped. */
  function attempt(job: Job, force: boolean): Promise<RunOutcome> {
    return claimAndRun(job, force).catch((error: unknown) => {
      log.warn({ err: error, job: job.name }, `job ${job.name} could not start`);
      return { status: "failed" as const, error: error instanceof Error ? error.message : String(error) };
    });
  }

  /**
   * One run of `job` in this process: a tick joins the run going on; a forced run (a kick) while one goes
   * on runs once more after it, so work written meanwhile is not left for the next tick.
   */
  function schedule(job: Job, force: boolean): Promise<RunOutcome> {
    if (stopped) return Promise.resolve({ status: "skipped", reason: "stopped" });
    const lane = lanes.get(job.name) ?? { current: null, next: null };
    lanes.set(job.name, lane);
    const begin = (): Promise<RunOutcome> => {
      const run: Promise<RunOutcome> = track(attempt(job, force)).finally(() => {
        if (lane.current === run) lane.current = null;
      });
      lane.current = run;
      return run;
    };
    const running = lane.current;
    if (!running) return begin();
    if (!force) return running;
    lane.next ??= track(
      running.then(() => {
        lane.next = null;
        if (stopped) return { status: "skipped" as const, reason: "stopped" as const };
        // A tick may have started a run in between; begun after this kick, it serves it.
        return lane.current ?? begin();
      }),
    );
    return lane.next;
  }

  function isDue(job: Job, state: JobState | undefined, now: Date): boolean {
    if (!state) return true;
    if (state.lockedUntil && state.lockedUntil > iso(now)) return false;
    return state.nextRunAt <= iso(now) || state.nextRunAt > farFuture(job, now);
  }

  /** One look for due runs: starts each (not awaiting them); returns the runs started. */
  async function tick(): Promise<Map<string, Promise<RunOutcome>>> {
    await ensureRows();
    const states = new Map((await repository.list(db)).map((s) => [s.name, s]));
    const now = clock.now();
    const started = new Map<string, Promise<RunOutcome>>();
    for (const job of jobs.values()) {
      if (stopped) break;
      if (lanes.get(job.name)?.current) continue;
      if (!isDue(job, states.get(job.name), now)) continue;
      if (job.hasWork && !(await job.hasWork())) continue;
      started.set(job.name, schedule(job, false));
    }
    return started;
  }

  function loop() {
    timer = null;
    if (stopped) return;
    track(tick())
      .catch((error: unknown) => log.warn({ err: error }, "job loop tick failed"))
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(loop, JOB_LOOP.tickSeconds * 1000);
          timer.unref();
        }
      });
  }

  return {
    owner,

    register(job: Job): void {
      if (jobs.has(job.name)) throw new Error(`job ${job.name} is registered twice`);
      jobs.set(job.name, job);
      ensured = null;
    },

    /** Starts ticking (main.ts; tests that exercise the loop itself). */
    start(): void {
      if (stopped || timer) return;
      timer = setTimeout(loop, 0);
      timer.unref();
    },

    /** Runs `name` now in this process (after its commit, a change kicks the job that delivers it). */
    kick(name: string): Promise<RunOutcome> {
      const job = jobs.get(name);
      if (!job) throw new Error(`no job ${name}`);
      return schedule(job, true);
    },

    /** One tick of the loop, awaited: the due runs it started, by job. */
    async runDue(): Promise<Record<string, RunOutcome>> {
      const started = await tick();
      const outcomes: Record<string, RunOutcome> = {};
      for (const [name, run] of started) outcomes[name] = await run;
      return outcomes;
    },

    /** Runs each job now (all when none named), one after another: `/dev/jobs/run`, `gatehouse jobs run`. */
    async runNow(names?: string[]): Promise<Record<string, RunOutcome>> {
      const selected = names ?? [...jobs.keys()];
      const unknown = selected.filter((n) => !jobs.has(n));
      if (unknown.length) throw new Error(`no job ${unknown.join(", ")}`);
      const outcomes: Record<string, RunOutcome> = {};
      for (const name of selected) outcomes[name] = await schedule(jobs.get(name) as Job, true);
      return outcomes;
    },

    /** The registered jobs with their stored state, and rows of jobs this version no longer has. */
    async list(): Promise<JobView[]> {
      await ensureRows();
      const states = await repository.list(db);
      const known = states.map((s) => ({
        ...s,
        description: jobs.get(s.name)?.description ?? null,
        registered: jobs.has(s.name),
      }));
      return known.sort(
        (a, b) => Number(b.registered) - Number(a.registered) || a.name.localeCompare(b.name),
      );
    },

    names: () => [...jobs.keys()],

    /** Resolves once every run this process started (ticks and kicks included) has ended. */
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    /** Stops the loop and refuses new runs; resolves when the runs going on have finished. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
