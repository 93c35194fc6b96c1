import { parseArgs } from "node:util";
import type { Clock } from "../lib/clock.js";
import type { MailQueue } from "../mail/mail-queue.js";
import type { JobRunner, JobView, RunOutcome } from "./job-runner.js";

export const JOBS_USAGE = `Usage: gatehouse jobs [list] [--json]
       gatehouse jobs run [name …]

  list      every job: how often it runs, its last run and outcome, its next run, failures in a row,
            and the process running it now; then the mail queue (default command)
  run       run the named jobs (all when none is named) now, in this process, and print the outcomes;
            exit 1 when one failed`;

type Out = { log(line: string): void; error(line: string): void };

const when = (value: string | null) => (value ? `${value.slice(0, 19).replace("T", " ")}Z` : "never");

function every(seconds: number): string {
  if (seconds === 0) return "tick";
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}

function jobRows(jobs: JobView[], now: string): string[][] {
  return jobs.map((job) => {
    const claimed = job.lockedBy && job.lockedUntil && job.lockedUntil > now;
    return [
      job.registered ? job.name : `${job.name} (unknown to this version)`,
      every(job.intervalSeconds),
      when(job.lastStartedAt),
      job.lastStatus ?? "-",
      job.nextRunAt <= now ? "due" : when(job.nextRunAt),
      String(job.consecutiveFailures),
      claimed ? `${job.lockedBy} until ${when(job.lockedUntil)}` : "-",
    ];
  });
}

function outcomeLine(name: string, outcome: RunOutcome): string {
  if (outcome.status === "ok") return `${name}: ok ${JSON.stringify(outcome.result ?? null)}`;
  if (outcome.status === "failed") return `${name}: FAILED ${outcome.error}`;
  const why = { locked: "another process is running it", not_due: "not due", stopped: "stopping" };
  return `${name}: skipped (${why[outcome.reason]})`;
}

/** `gatehouse jobs …`; returns the exit code (0 done, 1 a job failed, 2 bad usage). */
export async function runJobsCommand(
  args: string[],
  services: { jobs: JobRunner; mailQueue: MailQueue; clock: Clock },
  out: Out = console,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    out.error(`${error instanceof Error ? error.message : String(error)}\n\n${JOBS_USAGE}`);
    return 2;
  }
  const [command = "list", ...names] = parsed.positionals;

  if (command === "run") {
    const unknown = names.filter((n) => !services.jobs.names().includes(n));
    if (unknown.length) {
      out.error(`Unknown job: ${unknown.join(", ")} (jobs: ${services.jobs.names().join(", ")})`);
      return 2;
    }
    const outcomes = await services.jobs.runNow(names.length ? names : undefined);
    for (const [name, outcome] of Object.entries(outcomes)) out.log(outcomeLine(name, outcome));
    return Object.values(outcomes).some((o) => o.status === "failed") ? 1 : 0;
  }
  if (command !== "list" || names.length) {
    out.error(`Unknown jobs command: ${[command, ...names].join(" ")}\n\n${JOBS_USAGE}`);
    return 2;
  }

  const jobs = await services.jobs.list();
  const mail = await services.mailQueue.summary();
  if (parsed.values.json) {
    out.log(JSON.stringify({ jobs, mail }, null, 2));
    return 0;
  }
  const now = services.clock.now().toISOString();
  const header = ["JOB", "EVERY", "LAST RUN", "STATUS", "NEXT RUN", "FAILURES", "RUNNING"];
  for (const line of table([header, ...jobRows(jobs, now)])) out.log(line);
  for (const job of jobs.filter((j) => j.lastStatus === "failed")) {
    out.log(`${job.name} last error: ${job.lastError ?? ""}`);
  }
  const oldest = mail.oldestWaiting ? ` (oldest since ${when(mail.oldestWaiting)})` : "";
  out.log(
    `mail queue: ${mail.queued} queued, ${mail.sending} sending${oldest}; last 7 days: ${mail.sent} sent, ${mail.failed} failed`,
  );
  if (mail.lastFailure) {
    out.log(
      `last failed mail: to ${mail.lastFailure.to} at ${when(mail.lastFailure.at)}: ${mail.lastFailure.error ?? ""}`,
    );
  }
  return 0;
}

function parse(args: string[]) {
  return parseArgs({ args, options: { json: { type: "boolean" } }, allowPositionals: true, strict: true });
}
