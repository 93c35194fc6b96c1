import type { DatabaseHandle, Executor } from "../db/database.js";
import type { JobsTable } from "../db/tables.js";

export type JobState = {
  name: string;
  intervalSeconds: number;
  nextRunAt: string;
  lastStartedAt: string | null;
  lastFinishedAt: string | null;
  lastStatus: "ok" | "failed" | null;
  lastError: string | null;
  /** What the last successful run reported (`{ renewed: 2 }`), as stored. */
  lastResult: unknown;
  consecutiveFailures: number;
  lockedBy: string | null;
  lockedUntil: string | null;
};

function rowToState(row: JobsTable): JobState {
  return {
    name: row.name,
    intervalSeconds: Number(row.interval_seconds),
    nextRunAt: row.next_run_at,
    lastStartedAt: row.last_started_at,
    lastFinishedAt: row.last_finished_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    lastResult: row.last_result === null ? null : JSON.parse(row.last_result),
    consecutiveFailures: Number(row.consecutive_failures),
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
  };
}

export type JobsRepository = ReturnType<typeof createJobsRepository>;

/**
 * The `jobs` table: one row per named job. A run is claimed by one conditional UPDATE (on PostgreSQL its
 * row is picked with `FOR UPDATE SKIP LOCKED`, so a process never waits on another's claim); SQLite has
 * one writer, so the plain UPDATE is already atomic.
 */
export function createJobsRepository(dialect: DatabaseHandle["dialect"]) {
  return {
    /** Adds rows for jobs never seen before (due at once) and keeps intervals in step with the code. */
    async ensure(db: Executor, jobs: Array<{ name: string; intervalSeconds: number }>, now: string) {
      for (const job of jobs) {
        await db
          .insertInto("jobs")
          .values({
            name: job.name,
            interval_seconds: job.intervalSeconds,
            next_run_at: now,
            consecutive_failures: 0,
          })
          .onConflict((oc) => oc.column("name").doNothing())
          .execute();
        await db
          .updateTable("jobs")
          .set({ interval_seconds: job.intervalSeconds })
          .where("name", "=", job.name)
          .where("interval_seconds", "<>", job.intervalSeconds)
          .execute();
      }
    },

    async list(db: Executor): Promise<JobState[]> {
      const rows = await db.selectFrom("jobs").selectAll().orderBy("name").execute();
      return rows.map(rowToState);
    },

    /**
     * Claims the job's next run for `owner` until `lockedUntil` and moves `next_run_at` on, when no live
     * claim holds it and, unless `force`, the run is due (`next_run_at` at or before `now`, or after
     * `farFuture`: a clock set back). Returns the failures so far, or undefined when not claimed.
     */
    async claim(
      db: Executor,
      claim: {
        name: string;
        owner: string;
        now: string;
        lockedUntil: string;
        nextRunAt: string;
        force: boolean;
        farFuture: string;
      },
    ): Promise<{ consecutiveFailures: number } | undefined> {
      const candidate = db
        .selectFrom("jobs")
        .select("name")
        .where("name", "=", claim.name)
        .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", claim.now)]))
        .$if(!claim.force, (qb) =>
          qb.where((eb) =>
            eb.or([eb("next_run_at", "<=", claim.now), eb("next_run_at", ">", claim.farFuture)]),
          ),
        )
        .$if(dialect === "postgres", (qb) => qb.forUpdate().skipLocked());
      const row = await db
        .updateTable("jobs")
        .set({
          locked_by: claim.owner,
          locked_until: claim.lockedUntil,
          last_started_at: claim.now,
          next_run_at: claim.nextRunAt,
        })
        .where("name", "in", candidate)
        .returning("consecutive_failures")
        .executeTakeFirst();
      return row && { consecutiveFailures: Number(row.consecutive_failures) };
    },

    /** Keeps a long run's claim alive. */
    async extend(db: Executor, name: string, owner: string, lockedUntil: string): Promise<void> {
      await db
        .updateTable("jobs")
        .set({ locked_until: lockedUntil })
        .where("name", "=", name)
        .where("locked_by", "=", owner)
        .execute();
    },

    /** Records the outcome and releases the claim; a failure also sets when to try again. */
    async finish(
      db: Executor,
      name: string,
      owner: string,
      outcome:
        | { status: "ok"; at: string; result: unknown }
        | { status: "failed"; at: string; error: string; failures: number; retryAt: string },
    ): Promise<void> {
      await db
        .updateTable("jobs")
        .set({
          locked_by: null,
          locked_until: null,
          last_finished_at: outcome.at,
          last_status: outcome.status,
          ...(outcome.status === "ok"
            ? {
                last_error: null,
                last_result: JSON.stringify(outcome.result ?? null),
                consecutive_failures: 0,
              }
            : {
                last_error: outcome.error,
                consecutive_failures: outcome.failures,
                next_run_at: outcome.retryAt,
              }),
        })
        .where("name", "=", name)
        .where("locked_by", "=", owner)
        .execute();
    },
  };
}
