import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { FastifyBaseLogger } from "fastify";
import yazl from "yazl";
import { recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import type { MailBrandingLoader } from "../branding/mail-branding.js";
import { type Db, type Effects, type Executor, transact } from "../db/database.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import type { NotificationHub } from "../notifications/notification-stream.js";
import type { NotificationsRepository } from "../notifications/notifications.repository.js";
import { holds, loadAccess } from "../roles/access.js";
import type { FileStorage } from "../storage/storage.js";
import type { StoredFilesRepository } from "../storage/stored-files.repository.js";
import { DOWNLOAD_LINK_SECONDS, downloadUrl } from "./download-links.js";
import { DATA_TYPES, type DataType, EXPORT_SOURCES } from "./export-data.repository.js";
import {
  createCsvWriter,
  createJsonLinesWriter,
  createPdfWriter,
  type ExportFormat,
  FILE_TYPES,
  type PdfReport,
  type RowWriter,
  readableTime,
} from "./export-writers.js";
import type { ExportRecord, ExportsRepository, Frequency } from "./exports.repository.js";

export const EXPORT_RUNS = {
  /** Rows read (and written) at a time: the most an export holds in memory. */
  batchSize: 1000,
  /** A running export whose process has not reported for this long is taken over. */
  staleSeconds: 300,
  /** Attempts before an export fails for good. */
  maxAttempts: 3,
  /** Exports one run of the job makes before the next tick goes on. */
  maxPerRun: 20,
  /** Files are kept this many days unless the account's retention says otherwise. */
  defaultFileDays: 7,
} as const;

/** The jobs (src/services.ts registers them). */
export const EXPORTS_JOB = "exports";
export const EXPORT_SCHEDULES_JOB = "export-schedules";
export const EXPORT_FILES_PURGE_JOB = "export-files-purge";

export const TYPE_LABELS: Record<DataType | "all", string> = {
  members: "members",
  teams: "teams",
  roles: "roles",
  invitations: "invitations",
  audit_log: "audit log",
  invoices: "invoices",
  sessions: "active sessions",
  all: "full data",
};
const FORMAT_LABELS: Record<string, string> = {
  csv: "CSV",
  json: "JSON Lines",
  pdf: "PDF",
  zip: "ZIP",
};

/** How many days an account keeps export files (its data-retention setting). */
/** Days an account keeps its export files; `executor` is the caller's transaction when it is in one. */
export type ExportFilesDays = (accountId: string, executor?: Executor) => Promise<number>;

/** The schedule's next run after `now`, stepping from its previous one (UTC calendar months). */
export function nextRunAfter(previous: string, frequency: Frequency, now: Date): string {
  let next = new Date(previous);
  const step = (d: Date) => {
    if (frequency === "daily") return addSeconds(d, 86_400);
    if (frequency === "weekly") return addSeconds(d, 7 * 86_400);
    const month = new Date(d);
    const day = month.getUTCDate();
    month.setUTCDate(1);
    month.setUTCMonth(month.getUTCMonth() + 1);
    const last = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 0)).getUTCDate();
    month.setUTCDate(Math.min(day, last));
    return month;
  };
  do next = step(next);
  while (next <= now);
  return next.toISOString();
}

/**
 * Makes the files: the job loop claims one waiting export at a time, counts its rows, reads them batch
 * by batch by a keyset cursor and writes them through a streaming writer into a temporary file (a ZIP
 * of one file per type for `all`), streams that into storage, then tells the requester (mail and in-app)
 * or a schedule's recipients — each only while they still hold data:export.
 */
export function createExportRunner(deps: {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  secretKey: Buffer;
  publicUrl: string;
  repository: ExportsRepository;
  storage: FileStorage;
  storedFiles: StoredFilesRepository;
  mailQueue: Pick<MailQueue, "enqueue">;
  mailBranding: MailBrandingLoader;
  notifications: NotificationsRepository;
  hub: Pick<NotificationHub, "publish">;
  exportFilesDays: ExportFilesDays;
  batchSize?: number;
}) {
  const { db, clock, log, repository } = deps;
  const batchSize = deps.batchSize ?? EXPORT_RUNS.batchSize;
  const iso = () => clock.now().toISOString();
  const staleBefore = () => addSeconds(clock.now(), -EXPORT_RUNS.staleSeconds).toISOString();

  type Query = Parameters<(typeof EXPORT_SOURCES)["members"]["count"]>[1];

  /** One type's rows into `path`; returns the number of rows and batches read. */
  async function writeType(
    type: DataType,
    format: ExportFormat,
    path: string,
    query: Query,
    timeZone: string,
    report: () => Omit<PdfReport, "rows">,
    total: number,
    onBatch: (rows: number) => Promise<void>,
  ): Promise<{ rows: number; batches: number }> {
    const source = EXPORT_SOURCES[type];
    const out = createWriteStream(path);
    const writer: RowWriter =
      format === "csv"
        ? createCsvWriter(out, source.columns, timeZone)
        : format === "json"
          ? createJsonLinesWriter(out, source.columns)
          : await createPdfWriter(out, source.columns, { ...report(), rows: total });
    let rows = 0;
    let batches = 0;
    try {
      let after: Parameters<typeof source.batch>[2];
      for (;;) {
        const batch = await source.batch(db, query, after, batchSize);
        batches++;
        if (batch.rows.length) await writer.write(batch.rows);
        rows += batch.rows.length;
        await onBatch(batch.rows.length);
        if (batch.rows.length < batchSize || !batch.last) break;
        after = batch.last;
      }
      await writer.end();
    } catch (error) {
      out.destroy();
      throw error;
    }
    return { rows, batches };
  }

  async function logoOf(logoKey: string | null): Promise<Buffer | undefined> {
    if (!logoKey) return undefined;
    try {
      const file = await deps.storage.get(logoKey);
      if (!file) return undefined;
      if (file.bytes) return file.bytes;
      const chunks: Buffer[] = [];
      for await (const chunk of file.body ?? []) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      log.warn({ err: error }, "export: the account's logo could not be read; the report goes without");
      return undefined;
    }
  }

  function criteriaOf(exp: ExportRecord, timeZone: string): string[] {
    return [
      ...Object.entries(exp.filters).map(([key, value]) => `${key}: ${value}`),
      ...(exp.from ? [`from ${readableTime(exp.from, timeZone)}`] : []),
      ...(exp.to ? [`before ${readableTime(exp.to, timeZone)}`] : []),
    ];
  }

  /** Writes the export's file into storage; returns its key, size and rows. */
  async function produce(exp: ExportRecord) {
    const account = await repository.account(db, exp.accountId);
    const requester = await repository.person(db, exp.requestedBy);
    const timeZone = requester?.timezone || "UTC";
    const format = exp.format as ExportFormat;
    const types = exp.type === "all" ? DATA_TYPES : [exp.type as DataType];
    const query: Query = {
      accountId: exp.accountId,
      range: { from: exp.from, to: exp.to },
      filters: exp.filters,
      now: iso(),
    };
    const counts = new Map<DataType, number>();
    for (const type of types) counts.set(type, await EXPORT_SOURCES[type].count(db, query));
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    await repository.setTotal(db, exp.id, total, iso());

    let done = 0;
    const onBatch = async (rows: number) => {
      done += rows;
      await repository.progress(db, exp.id, Math.min(done, total), iso());
    };
    const logo = format === "pdf" ? await logoOf(account?.logo_key ?? null) : undefined;
    const report = (type: DataType) => () => ({
      title: `${TYPE_LABELS[type][0]?.toUpperCase()}${TYPE_LABELS[type].slice(1)} export`,
      accountName: account?.name ?? exp.accountId,
      logo,
      criteria: criteriaOf(exp, timeZone),
      generatedAt: clock.now(),
      timeZone,
    });

    const dir = await mkdtemp(join(tmpdir(), "gatehouse-export-"));
    try {
      let path: string;
      let kind: ExportFormat | "zip" = format;
      let rows = 0;
      let batches = 0;
      if (exp.type !== "all") {
        const type = exp.type as DataType;
        path = join(dir, `export.${FILE_TYPES[format].extension}`);
        ({ rows, batches } = await writeType(
          type,
          format,
          path,
          query,
          timeZone,
          report(type),
          counts.get(type) ?? 0,
          onBatch,
        ));
      } else {
        kind = "zip";
        const files: Array<{ type: DataType; file: string; rows: number }> = [];
        for (const type of types) {
          const file = `${type}.${FILE_TYPES[format].extension}`;
          const written = await writeType(
            type,
            format,
            join(dir, file),
            query,
            timeZone,
            report(type),
            counts.get(type) ?? 0,
            onBatch,
          );
          rows += written.rows;
          batches += written.batches;
          files.push({ type, file, rows: written.rows });
        }
        const manifest = {
          export_id: exp.id,
          account_id: exp.accountId,
          account_name: account?.name ?? null,
          generated_at: iso(),
          format,
          time_zone: format === "csv" ? timeZone : "UTC",
          from: exp.from,
          to: exp.to,
          files: files.map((f) => ({ type: f.type, file: f.file, rows: f.rows })),
        };
        const zip = new yazl.ZipFile();
        for (const f of files) zip.addFile(join(dir, f.file), f.file);
        zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), "manifest.json");
        zip.end();
        path = join(dir, "export.zip");
        await pipeline(zip.outputStream, createWriteStream(path));
      }
      const key = `export-${randomBytes(20).toString("hex")}.${FILE_TYPES[kind].extension}`;
      const contentType = FILE_TYPES[kind].contentType;
      await deps.storage.putFile(key, path, contentType);
      const bytes = (await stat(path)).size;
      return { key, bytes, rows, batches, contentType };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function fileExpiry(accountId: string, finishedAt: Date, executor?: Executor): Promise<Date> {
    return addSeconds(finishedAt, (await deps.exportFilesDays(accountId, executor)) * 86_400);
  }

  async function notifyInApp(
    trx: Executor,
    effects: Effects,
    userId: string,
    exp: ExportRecord,
    content: { type: string; title: string; body: string },
  ) {
    await deps.notifications.insert(trx, {
      id: newId("notification"),
      userId,
      accountId: exp.accountId,
      eventId: null,
      type: content.type,
      title: content.title,
      body: content.body,
      link: "/settings/data",
      readAt: null,
      createdAt: iso(),
    });
    await deps.hub.publish(trx, effects, [userId]);
  }

  /** Who hears about a finished export: the requester, or a schedule's recipients holding data:export now. */
  async function readersOf(trx: Executor, exp: ExportRecord): Promise<string[]> {
    let candidates = [exp.requestedBy];
    if (exp.scheduleId) {
      const schedule = await repository.findSchedule(trx, exp.accountId, exp.scheduleId);
      candidates = schedule?.recipients ?? [];
    }
    const readers: string[] = [];
    for (const userId of candidates) {
      const access = await loadAccess(trx, exp.accountId, userId);
      if (access?.status === "active" && holds(access, "data:export")) readers.push(userId);
    }
    return readers;
  }

  async function announceReady(
    trx: Executor,
    effects: Effects,
    exp: ExportRecord,
    rows: number,
    kind: string,
  ) {
    const now = clock.now();
    const linkExpires = addSeconds(now, DOWNLOAD_LINK_SECONDS);
    const fileExpires = await fileExpiry(exp.accountId, now, trx);
    const account = await repository.account(trx, exp.accountId);
    const branding = await deps.mailBranding.load(trx, exp.accountId);
    const accountName = account?.name ?? exp.accountId;
    const typeLabel = TYPE_LABELS[exp.type as DataType] ?? exp.type;
    for (const userId of await readersOf(trx, exp)) {
      const person = await repository.person(trx, userId);
      if (!person || person.deactivated_at) continue;
      const url = downloadUrl(deps.publicUrl, deps.secretKey, {
        exportId: exp.id,
        userId,
        expires: Math.floor(linkExpires.getTime() / 1000),
      });
      await deps.mailQueue.enqueue(
        trx,
        effects,
        mails.exportReady(
          person.email,
          person.first_name,
          {
            accountName,
            typeLabel,
            formatLabel: FORMAT_LABELS[kind] ?? kind,
            rows,
            url,
            linkExpires: linkExpires.toISOString(),
            fileExpires: fileExpires.toISOString(),
            scheduled: exp.scheduleId !== null,
          },
          { reader: person, ...(branding ? { branding } : {}) },
        ),
      );
      await notifyInApp(trx, effects, userId, exp, {
        type: "export.completed",
        title: `The ${typeLabel} export of ${accountName} is ready`,
        body: `${rows.toLocaleString("en")} rows. Download it from Settings → Data until ${fileExpires.toISOString().slice(0, 10)}.`,
      });
    }
  }

  async function announceFailed(trx: Executor, effects: Effects, exp: ExportRecord, error: string) {
    const person = await repository.person(trx, exp.requestedBy);
    if (!person || person.deactivated_at) return;
    const account = await repository.account(trx, exp.accountId);
    const branding = await deps.mailBranding.load(trx, exp.accountId);
    const accountName = account?.name ?? exp.accountId;
    const typeLabel = TYPE_LABELS[exp.type as DataType] ?? exp.type;
    await deps.mailQueue.enqueue(
      trx,
      effects,
      mails.exportFailed(
        person.email,
        person.first_name,
        { accountName, typeLabel, error, url: `${branding?.linkBase ?? deps.publicUrl}/settings/data` },
        branding ? { branding } : {},
      ),
    );
    await notifyInApp(trx, effects, person.id, exp, {
      type: "export.failed",
      title: `The ${typeLabel} export of ${accountName} failed`,
      body: error,
    });
  }

  async function fail(exp: ExportRecord, error: string, final: boolean) {
    await transact(db, async (trx, effects) => {
      await repository.fail(trx, exp.id, error.slice(0, 500), final, iso());
      if (final) await announceFailed(trx, effects, exp, error.slice(0, 500));
    });
  }

  /** One claimed export, start to end; never throws (a failure is recorded on the export). */
  async function runOne(
    exp: ExportRecord,
  ): Promise<{ status: "succeeded" | "failed" | "retrying"; batches: number }> {
    if (!exp.scheduleId) {
      // A requester who lost data:export (or the account) since asking gets no file.
      const access = await loadAccess(db, exp.accountId, exp.requestedByKey ?? exp.requestedBy);
      if (access?.status !== "active" || !holds(access, "data:export")) {
        await fail(exp, "The requester no longer holds data:export in this account", true);
        return { status: "failed", batches: 0 };
      }
    }
    let made: Awaited<ReturnType<typeof produce>> | undefined;
    try {
      made = await produce(exp);
      const result = made;
      await transact(db, async (trx, effects) => {
        await repository.succeed(
          trx,
          exp.id,
          { rows: result.rows, fileKey: result.key, fileBytes: result.bytes },
          iso(),
        );
        await deps.storedFiles.insert(
          trx,
          {
            key: result.key,
            accountId: exp.accountId,
            userId: null,
            kind: "export",
            contentType: result.contentType,
            bytes: result.bytes,
          },
          iso(),
        );
        await announceReady(trx, effects, exp, result.rows, exp.type === "all" ? "zip" : exp.format);
      });
      return { status: "succeeded", batches: made.batches };
    } catch (error) {
      log.error({ err: error, export_id: exp.id }, "export failed");
      if (made) await deps.storage.delete(made.key).catch(() => {});
      const final = exp.attempts >= EXPORT_RUNS.maxAttempts;
      await fail(
        exp,
        final ? "The export could not be written; please try again" : String(error),
        final,
      ).catch((e: unknown) => log.error({ err: e, export_id: exp.id }, "export failure not recorded"));
      return { status: final ? "failed" : "retrying", batches: made?.batches ?? 0 };
    }
  }

  return {
    hasWork: () => repository.hasWork(db, staleBefore()),

    /** The exports job: waiting exports, oldest first, one at a time. */
    async runDue() {
      const counts = { succeeded: 0, failed: 0, retrying: 0, batches: 0 };
      for (let i = 0; i < EXPORT_RUNS.maxPerRun; i++) {
        const exp = await repository.claimNext(db, iso(), staleBefore());
        if (!exp) break;
        const outcome = await runOne(exp);
        counts[outcome.status]++;
        counts.batches += outcome.batches;
      }
      return counts;
    },

    /** The schedules job: each due schedule queues one export and moves on to its next run. */
    async runSchedules() {
      let queued = 0;
      const now = clock.now();
      for (const schedule of await repository.dueSchedules(db, now.toISOString(), 100)) {
        await transact(db, async (trx) => {
          const next = nextRunAfter(schedule.nextRunAt, schedule.frequency, now);
          if (
            !(await repository.advanceSchedule(trx, schedule.id, schedule.nextRunAt, next, now.toISOString()))
          )
            return;
          const id = newId("export");
          await repository.insert(
            trx,
            {
              id,
              accountId: schedule.accountId,
              type: schedule.type,
              format: schedule.format,
              from: null,
              to: null,
              filters: schedule.filters,
              requestedBy: schedule.createdBy,
              requestedByKey: null,
              scheduleId: schedule.id,
            },
            now.toISOString(),
          );
          await recordAudit(
            trx,
            SYSTEM_ACTOR,
            {
              accountId: schedule.accountId,
              action: "export.requested",
              targetType: "export",
              targetId: id,
              changes: {
                type: schedule.type,
                format: schedule.format,
                filters: schedule.filters,
                schedule_id: schedule.id,
              },
            },
            now,
          );
          queued++;
        });
      }
      return { queued };
    },

    /** The purge job: files older than their account's `export_files_days`. */
    async purgeFiles() {
      let deleted = 0;
      for (const accountId of await repository.accountsWithFiles(db)) {
        const days = await deps.exportFilesDays(accountId);
        const before = addSeconds(clock.now(), -days * 86_400).toISOString();
        for (const file of await repository.filesFinishedBefore(db, accountId, before, 1000)) {
          await deps.storage.delete(file.fileKey);
          await transact(db, async (trx) => {
            await repository.markFileDeleted(trx, accountId, file.id, iso());
            await deps.storedFiles.deleteAccountFiles(trx, accountId, [file.fileKey]);
          });
          deleted++;
        }
      }
      return { deleted };
    },

    fileExpiry,
  };
}

export type ExportRunner = ReturnType<typeof createExportRunner>;
