import type { Selectable } from "kysely";
import type { Executor } from "../db/database.js";
import { type NewestFirstCursor, type NewestFirstPage, olderThan } from "../db/pages.js";
import type { ExportSchedulesTable, ExportsTable } from "../db/tables.js";

export type ExportStatus = "queued" | "running" | "succeeded" | "failed";
export type Frequency = "daily" | "weekly" | "monthly";

export type ExportRecord = {
  id: string;
  accountId: string;
  type: string;
  format: string;
  from: string | null;
  to: string | null;
  filters: Record<string, string>;
  status: ExportStatus;
  requestedBy: string;
  requestedByKey: string | null;
  scheduleId: string | null;
  rowsTotal: number;
  rowsDone: number;
  attempts: number;
  fileKey: string | null;
  fileBytes: number | null;
  error: string | null;
  heartbeatAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  fileDeletedAt: string | null;
  createdAt: string;
};

export type ScheduleRecord = {
  id: string;
  accountId: string;
  type: string;
  format: string;
  filters: Record<string, string>;
  frequency: Frequency;
  recipients: string[];
  paused: boolean;
  nextRunAt: string;
  lastRunAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
};

export type Page = NewestFirstPage;

const toExport = (r: Selectable<ExportsTable>): ExportRecord => ({
  id: r.id,
  accountId: r.account_id,
  type: r.type,
  format: r.format,
  from: r.date_from,
  to: r.date_to,
  filters: JSON.parse(r.filters) as Record<string, string>,
  status: r.status,
  requestedBy: r.requested_by,
  requestedByKey: r.requested_by_key,
  scheduleId: r.schedule_id,
  rowsTotal: Number(r.rows_total),
  rowsDone: Number(r.rows_done),
  attempts: Number(r.attempts),
  fileKey: r.file_key,
  fileBytes: r.file_bytes === null ? null : Number(r.file_bytes),
  error: r.error,
  heartbeatAt: r.heartbeat_at,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  fileDeletedAt: r.file_deleted_at,
  createdAt: r.created_at,
});

const toSchedule = (r: Selectable<ExportSchedulesTable>): ScheduleRecord => ({
  id: r.id,
  accountId: r.account_id,
  type: r.type,
  format: r.format,
  filters: JSON.parse(r.filters) as Record<string, string>,
  frequency: r.frequency,
  recipients: JSON.parse(r.recipients) as string[],
  paused: Number(r.paused) === 1,
  nextRunAt: r.next_run_at,
  lastRunAt: r.last_run_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type NewExport = {
  id: string;
  accountId: string;
  type: string;
  format: string;
  from: string | null;
  to: string | null;
  filters: Record<string, string>;
  requestedBy: string;
  requestedByKey: string | null;
  scheduleId: string | null;
};

export type ScheduleChanges = Partial<
  Pick<ScheduleRecord, "type" | "format" | "filters" | "frequency" | "recipients" | "paused" | "nextRunAt">
>;

/** `exports` and `export_schedules`: every query on them names the account, except the runner's. */
export function createExportsRepository() {
  return {
    async insert(db: Executor, e: NewExport, now: string): Promise<void> {
      await db
        .insertInto("exports")
        .values({
          id: e.id,
          account_id: e.accountId,
          type: e.type,
          format: e.format,
          date_from: e.from,
          date_to: e.to,
          filters: JSON.stringify(e.filters),
          status: "queued",
          requested_by: e.requestedBy,
          requested_by_key: e.requestedByKey,
          schedule_id: e.scheduleId,
          created_at: now,
        })
        .execute();
    },

    async find(db: Executor, accountId: string, id: string): Promise<ExportRecord | undefined> {
      const row = await db
        .selectFrom("exports")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toExport(row);
    },

    /** A download link names only the export: its account comes from the row. */
    async findForDownload(db: Executor, id: string): Promise<ExportRecord | undefined> {
      const row = await db.selectFrom("exports").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toExport(row);
    },

    /** Newest first. */
    async list(db: Executor, accountId: string, page: Page): Promise<ExportRecord[]> {
      const after = page.after;
      const rows = await db
        .selectFrom("exports")
        .selectAll()
        .where("account_id", "=", accountId)
        .$if(after !== undefined, (qb) => qb.where(olderThan(after as NewestFirstCursor)))
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(page.limit)
        .execute();
      return rows.map(toExport);
    },

    /** Whether anything waits: a queued export, or a running one whose process stopped beating. */
    async hasWork(db: Executor, staleBefore: string): Promise<boolean> {
      const row = await db
        .selectFrom("exports")
        .select("id")
        .where((eb) =>
          eb.or([
            eb("status", "=", "queued"),
            eb.and([eb("status", "=", "running"), eb("heartbeat_at", "<", staleBefore)]),
          ]),
        )
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * The oldest waiting export, marked running by this call (a conditional update: a second claimer
     * of the same row gets nothing). A running one left by a dead process is taken over.
     */
    async claimNext(db: Executor, now: string, staleBefore: string): Promise<ExportRecord | undefined> {
      const candidate = await db
        .selectFrom("exports")
        .select(["id", "status", "heartbeat_at"])
        .where((eb) =>
          eb.or([
            eb("status", "=", "queued"),
            eb.and([eb("status", "=", "running"), eb("heartbeat_at", "<", staleBefore)]),
          ]),
        )
        .orderBy("created_at")
        .orderBy("id")
        .limit(1)
        .executeTakeFirst();
      if (!candidate) return undefined;
      const claimed = await db
        .updateTable("exports")
        .set((eb) => ({
          status: "running",
          attempts: eb("attempts", "+", 1),
          heartbeat_at: now,
          started_at: now,
          rows_done: 0,
        }))
        .where("id", "=", candidate.id)
        .where("status", "=", candidate.status)
        .$if(candidate.heartbeat_at === null, (qb) => qb.where("heartbeat_at", "is", null))
        .$if(candidate.heartbeat_at !== null, (qb) => qb.where("heartbeat_at", "=", candidate.heartbeat_at))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return undefined;
      const row = await db
        .selectFrom("exports")
        .selectAll()
        .where("id", "=", candidate.id)
        .executeTakeFirst();
      return row && toExport(row);
    },

    async setTotal(db: Executor, id: string, total: number, now: string): Promise<void> {
      await db
        .updateTable("exports")
        .set({ rows_total: total, heartbeat_at: now })
        .where("id", "=", id)
        .execute();
    },

    async progress(db: Executor, id: string, done: number, now: string): Promise<void> {
      await db
        .updateTable("exports")
        .set({ rows_done: done, heartbeat_at: now })
        .where("id", "=", id)
        .where("status", "=", "running")
        .execute();
    },

    async succeed(
      db: Executor,
      id: string,
      result: { rows: number; fileKey: string; fileBytes: number },
      now: string,
    ): Promise<void> {
      await db
        .updateTable("exports")
        .set({
          status: "succeeded",
          rows_total: result.rows,
          rows_done: result.rows,
          file_key: result.fileKey,
          file_bytes: result.fileBytes,
          error: null,
          finished_at: now,
          heartbeat_at: null,
        })
        .where("id", "=", id)
        .execute();
    },

    /** `final`: failed for good; otherwise queued again for another attempt. */
    async fail(db: Executor, id: string, error: string, final: boolean, now: string): Promise<void> {
      await db
        .updateTable("exports")
        .set({
          status: final ? "failed" : "queued",
          error,
          heartbeat_at: null,
          ...(final ? { finished_at: now } : {}),
        })
        .where("id", "=", id)
        .execute();
    },

    /** Accounts that still have export files in storage (the purge asks each for its retention). */
    async accountsWithFiles(db: Executor): Promise<string[]> {
      const rows = await db
        .selectFrom("exports")
        .select("account_id")
        .distinct()
        .where("file_key", "is not", null)
        .execute();
      return rows.map((r) => r.account_id);
    },

    async filesFinishedBefore(
      db: Executor,
      accountId: string,
      before: string,
      limit: number,
    ): Promise<Array<{ id: string; fileKey: string }>> {
      const rows = await db
        .selectFrom("exports")
        .select(["id", "file_key"])
        .where("account_id", "=", accountId)
        .where("file_key", "is not", null)
        .where("finished_at", "<=", before)
        .orderBy("finished_at")
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, fileKey: r.file_key as string }));
    },

    async markFileDeleted(db: Executor, accountId: string, id: string, now: string): Promise<void> {
      await db
        .updateTable("exports")
        .set({ file_key: null, file_deleted_at: now })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    async insertSchedule(db: Executor, s: Omit<ScheduleRecord, "lastRunAt" | "updatedAt">): Promise<void> {
      await db
        .insertInto("export_schedules")
        .values({
          id: s.id,
          account_id: s.accountId,
          type: s.type,
          format: s.format,
          filters: JSON.stringify(s.filters),
          frequency: s.frequency,
          recipients: JSON.stringify(s.recipients),
          paused: s.paused ? 1 : 0,
          next_run_at: s.nextRunAt,
          last_run_at: null,
          created_by: s.createdBy,
          created_at: s.createdAt,
          updated_at: s.createdAt,
        })
        .execute();
    },

    async findSchedule(db: Executor, accountId: string, id: string): Promise<ScheduleRecord | undefined> {
      const row = await db
        .selectFrom("export_schedules")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toSchedule(row);
    },

    async listSchedules(db: Executor, accountId: string, page: Page): Promise<ScheduleRecord[]> {
      const after = page.after;
      const rows = await db
        .selectFrom("export_schedules")
        .selectAll()
        .where("account_id", "=", accountId)
        .$if(after !== undefined, (qb) => qb.where(olderThan(after as NewestFirstCursor)))
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(page.limit)
        .execute();
      return rows.map(toSchedule);
    },

    async updateSchedule(
      db: Executor,
      accountId: string,
      id: string,
      changes: ScheduleChanges,
      now: string,
    ): Promise<void> {
      await db
        .updateTable("export_schedules")
        .set({
          ...(changes.type !== undefined ? { type: changes.type } : {}),
          ...(changes.format !== undefined ? { format: changes.format } : {}),
          ...(changes.filters !== undefined ? { filters: JSON.stringify(changes.filters) } : {}),
          ...(changes.frequency !== undefined ? { frequency: changes.frequency } : {}),
          ...(changes.recipients !== undefined ? { recipients: JSON.stringify(changes.recipients) } : {}),
          ...(changes.paused !== undefined ? { paused: changes.paused ? 1 : 0 } : {}),
          ...(changes.nextRunAt !== undefined ? { next_run_at: changes.nextRunAt } : {}),
          updated_at: now,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    async deleteSchedule(db: Executor, accountId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom("export_schedules")
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async dueSchedules(db: Executor, now: string, limit: number): Promise<ScheduleRecord[]> {
      const rows = await db
        .selectFrom("export_schedules")
        .selectAll()
        .where("paused", "=", 0)
        .where("next_run_at", "<=", now)
        .orderBy("next_run_at")
        .limit(limit)
        .execute();
      return rows.map(toSchedule);
    },

    /** Moves a due schedule on; false when another run already did (its next run is no longer `was`). */
    async advanceSchedule(
      db: Executor,
      id: string,
      was: string,
      next: string,
      now: string,
    ): Promise<boolean> {
      const result = await db
        .updateTable("export_schedules")
        .set({ next_run_at: next, last_run_at: now })
        .where("id", "=", id)
        .where("next_run_at", "=", was)
        .where("paused", "=", 0)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Which of `userIds` are members of the account (any status). */
    async membersAmong(db: Executor, accountId: string, userIds: readonly string[]): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db
        .selectFrom("memberships")
        .select("user_id")
        .where("account_id", "=", accountId)
        .where("user_id", "in", [...userIds])
        .execute();
      return new Set(rows.map((r) => r.user_id));
    },

    /** The person a mail or a report is for: address, name, zone and language. */
    async person(db: Executor, userId: string) {
      return db
        .selectFrom("users")
        .select(["id", "email", "first_name", "timezone", "locale", "deactivated_at"])
        .where("id", "=", userId)
        .executeTakeFirst();
    },

    async account(db: Executor, accountId: string) {
      return db
        .selectFrom("accounts")
        .select(["id", "name", "logo_key"])
        .where("id", "=", accountId)
        .executeTakeFirst();
    },
  };
}

export type ExportsRepository = ReturnType<typeof createExportsRepository>;
