import type { Readable } from "node:stream";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { decodeNewestFirstCursor, newestFirstPage } from "../db/pages.js";
import { AppError, type FieldError, invalidFields, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import type { FileStorage } from "../storage/storage.js";
import { DOWNLOAD_LINK_SECONDS, downloadUrl, verifyDownload } from "./download-links.js";
import { DATA_TYPES, type DataType, EXPORT_SOURCES } from "./export-data.repository.js";
import { type ExportRunner, nextRunAfter } from "./export-runner.js";
import { EXPORT_FORMATS, type ExportFormat, FILE_TYPES } from "./export-writers.js";
import type {
  ExportRecord,
  ExportsRepository,
  Frequency,
  ScheduleChanges,
  ScheduleRecord,
} from "./exports.repository.js";

export const EXPORT_TYPES = [...DATA_TYPES, "all"] as const;
export const FREQUENCIES = ["daily", "weekly", "monthly"] as const;
const ID = /^[a-z]{2,8}_[A-Za-z0-9_-]{1,64}$/;

export type ExportInput = {
  type: string;
  format: string;
  from?: string | undefined;
  to?: string | undefined;
  filters?: Record<string, string> | undefined;
};
export type ScheduleInput = {
  type: string;
  format: string;
  filters?: Record<string, string> | undefined;
  frequency: string;
  recipients: string[];
  paused?: boolean | undefined;
};
export type SchedulePatch = Partial<ScheduleInput>;

/** An export as the API shows it: with a download link for the viewer while its file exists. */
export type ExportView = ExportRecord & { downloadUrl: string | null; expiresAt: string | null };

const quoted = (value: string) => JSON.stringify(value.slice(0, 64));

/** Type, format and filters together: every problem at once, each naming its field. */
function checkKind(
  input: {
    type?: string | undefined;
    format?: string | undefined;
    filters?: Record<string, string> | undefined;
  },
  errors: FieldError[],
): { type: DataType | "all"; format: ExportFormat; filters: Record<string, string> } {
  const type = input.type as DataType | "all";
  const format = input.format as ExportFormat;
  if (!(EXPORT_TYPES as readonly string[]).includes(type))
    errors.push({
      path: "type",
      code: "unknown_type",
      message: `Unknown export type ${quoted(String(input.type))}: choose one of ${EXPORT_TYPES.join(", ")}`,
    });
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    errors.push({
      path: "format",
      code: "unknown_format",
      message: `Unknown format ${quoted(String(input.format))}: choose csv, json (JSON Lines) or pdf`,
    });
  else if (type === "all" && format === "pdf")
    errors.push({
      path: "format",
      code: "pdf_not_for_all",
      message: "A PDF report covers one type: export all data as csv or json",
    });
  const filters: Record<string, string> = {};
  const given = input.filters ?? {};
  if (type === "all" && Object.keys(given).length > 0)
    errors.push({
      path: "filters",
      code: "filters_not_for_all",
      message: "Filters apply to one type, not to all",
    });
  else if (type !== "all" && type in EXPORT_SOURCES) {
    const specs = EXPORT_SOURCES[type].filters;
    for (const [key, raw] of Object.entries(given)) {
      const spec = Object.hasOwn(specs, key) ? specs[key] : undefined;
      const value = String(raw).trim();
      if (!spec) {
        const known = Object.keys(specs);
        errors.push({
          path: `filters.${key.slice(0, 64)}`,
          code: "unknown_filter",
          message: `${type} exports have no filter ${quoted(key)}${known.length ? ` (they take ${known.join(", ")})` : " (they take none)"}`,
        });
      } else if (spec.kind === "enum" && !spec.values.includes(value))
        errors.push({
          path: `filters.${key}`,
          code: "invalid_filter",
          message: `Filter ${key} must be one of ${spec.values.join(", ")}`,
        });
      else if (spec.kind === "id" && !ID.test(value))
        errors.push({
          path: `filters.${key}`,
          code: "invalid_filter",
          message: `Filter ${key} must be an id`,
        });
      else if (value === "")
        errors.push({ path: `filters.${key}`, code: "invalid_filter", message: `Filter ${key} is empty` });
      else filters[key] = value;
    }
  }
  return { type, format, filters };
}

function checkDate(value: string | undefined, path: "from" | "to", errors: FieldError[]): string | null {
  if (value === undefined) return null;
  const at = new Date(value);
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1970 || at.getUTCFullYear() > 9999) {
    errors.push({ path, code: "invalid_date", message: `${path} must be an ISO 8601 date and time` });
    return null;
  }
  return at.toISOString();
}

/** Exports (data:export): request, list and read them, download their files, and their schedules. */
export function createExportsService(deps: {
  db: Db;
  clock: Clock;
  secretKey: Buffer;
  publicUrl: string;
  repository: ExportsRepository;
  access: AccessCache;
  storage: FileStorage;
  runner: Pick<ExportRunner, "fileExpiry">;
  /** The account's IP allowlist: a download link works only from where the account may be used. */
  ipAllowed: (accountId: string, ip: string | null | undefined) => Promise<boolean>;
}) {
  const { db, clock, repository } = deps;
  const now = () => clock.now().toISOString();

  const exporter = async (accountId: string, principalId: string) =>
    requirePermission(await deps.access.get(db, accountId, principalId), "data:export");

  const audit = (
    trx: Executor,
    actor: Actor,
    accountId: string,
    action: string,
    target: { type: string; id: string },
    changes: Record<string, unknown>,
  ) =>
    recordAudit(
      trx,
      actor,
      { accountId, action, targetType: target.type, targetId: target.id, changes },
      clock.now(),
    );

  async function view(exp: ExportRecord, viewerId: string): Promise<ExportView> {
    const ready = exp.status === "succeeded" && exp.finishedAt !== null;
    const expiresAt = ready
      ? (await deps.runner.fileExpiry(exp.accountId, new Date(exp.finishedAt as string))).toISOString()
      : null;
    const downloadable = ready && exp.fileKey !== null && expiresAt !== null && expiresAt > now();
    return {
      ...exp,
      expiresAt,
      downloadUrl: downloadable
        ? downloadUrl(deps.publicUrl, deps.secretKey, {
            exportId: exp.id,
            userId: viewerId,
            expires: Math.floor(clock.now().getTime() / 1000) + DOWNLOAD_LINK_SECONDS,
          })
        : null,
    };
  }

  async function validSchedule(accountId: string, input: SchedulePatch, current?: ScheduleRecord) {
    const errors: FieldError[] = [];
    const kind = checkKind(
      {
        type: input.type ?? current?.type,
        format: input.format ?? current?.format,
        // A new type starts without the old type's filters unless new ones are given.
        filters:
          input.filters ?? (input.type !== undefined && input.type !== current?.type ? {} : current?.filters),
      },
      errors,
    );
    const frequency = (input.frequency ?? current?.frequency) as Frequency;
    if (!(FREQUENCIES as readonly string[]).includes(frequency))
      errors.push({
        path: "frequency",
        code: "unknown_frequency",
        message: `Unknown frequency ${quoted(String(input.frequency))}: choose daily, weekly or monthly`,
      });
    let recipients = current?.recipients ?? [];
    if (input.recipients !== undefined) {
      recipients = [...new Set(input.recipients.map((r) => r.trim()))];
      const members = await repository.membersAmong(
        db,
        accountId,
        recipients.filter((r) => ID.test(r)),
      );
      input.recipients.forEach((r, i) => {
        if (!members.has(r.trim()))
          errors.push({
            path: `recipients.${i}`,
            code: "not_a_member",
            message: `${quoted(r)} is not a member of this account`,
          });
      });
    }
    if (errors.length) throw invalidFields(errors);
    return { ...kind, frequency, recipients };
  }

  return {
    /** 202: the export is queued; the job loop makes it. */
    async request(actor: Actor & { id: string }, accountId: string, input: ExportInput) {
      const access = await exporter(accountId, actor.id);
      const errors: FieldError[] = [];
      const kind = checkKind(input, errors);
      const from = checkDate(input.from, "from", errors);
      const to = checkDate(input.to, "to", errors);
      if (from && to && from >= to)
        errors.push({ path: "to", code: "range_order", message: "to must be after from" });
      if (errors.length) throw invalidFields(errors);
      const id = newId("export");
      await transact(db, async (trx) => {
        await repository.insert(
          trx,
          {
            id,
            accountId,
            type: kind.type,
            format: kind.format,
            from,
            to,
            filters: kind.filters,
            requestedBy: access.userId,
            requestedByKey: access.keyId ?? null,
            scheduleId: null,
          },
          now(),
        );
        await audit(
          trx,
          actor,
          accountId,
          "export.requested",
          { type: "export", id },
          {
            type: kind.type,
            format: kind.format,
            from,
            to,
            filters: kind.filters,
          },
        );
      });
      return { id, status: "queued" as const };
    },

    async list(principalId: string, accountId: string, page: { limit: number; cursor?: string | undefined }) {
      const access = await exporter(accountId, principalId);
      const rows = await repository.list(db, accountId, {
        limit: page.limit + 1,
        after: page.cursor ? decodeNewestFirstCursor(page.cursor) : undefined,
      });
      const { items, nextCursor } = newestFirstPage(rows, page.limit);
      return { exports: await Promise.all(items.map((e) => view(e, access.userId))), nextCursor };
    },

    async get(principalId: string, accountId: string, id: string): Promise<ExportView> {
      const access = await exporter(accountId, principalId);
      const exp = await repository.find(db, accountId, id);
      if (!exp) throw notFound("Export");
      return view(exp, access.userId);
    },

    /**
     * A signed link's file: the signature, its expiry, and the person it names still holding
     * data:export in the export's account are checked; each download is audited.
     */
    async download(
      link: { exportId: string; userId: string; expires: string; signature: string },
      context: Actor,
    ): Promise<{ body: Readable | Buffer; size: number; filename: string; contentType: string }> {
      const expires = Number(link.expires);
      const invalid = () => new AppError("forbidden", "This download link is not valid");
      if (!/^\d{1,12}$/.test(link.expires)) throw invalid();
      if (
        !verifyDownload(
          deps.secretKey,
          { exportId: link.exportId, userId: link.userId, expires },
          link.signature,
        )
      )
        throw invalid();
      if (expires * 1000 <= clock.now().getTime())
        throw new AppError(
          "forbidden",
          "This download link has expired: open the export in Settings → Data (or GET it) for a new link",
        );
      const exp = await repository.findForDownload(db, link.exportId);
      if (!exp) throw notFound("Export");
      await exporter(exp.accountId, link.userId);
      if (!(await deps.ipAllowed(exp.accountId, context.ip)))
        throw new AppError("ip_not_allowed", "This account's IP allowlist does not include your address");
      const gone = () => notFound("Export file");
      if (exp.status !== "succeeded" || !exp.fileKey || !exp.finishedAt) throw gone();
      if ((await deps.runner.fileExpiry(exp.accountId, new Date(exp.finishedAt))).toISOString() <= now())
        throw gone();
      const file = await deps.storage.get(exp.fileKey);
      if (!file) throw gone();
      const kind = exp.type === "all" ? "zip" : (exp.format as ExportFormat);
      await audit(
        db,
        { ...context, type: "user", id: link.userId },
        exp.accountId,
        "export.downloaded",
        { type: "export", id: exp.id },
        { type: exp.type, format: exp.format, bytes: file.size },
      );
      return {
        body: (file.bytes ?? file.body) as Readable | Buffer,
        size: file.size,
        filename: `export-${exp.type.replace("_", "-")}-${exp.createdAt.slice(0, 10)}.${FILE_TYPES[kind].extension}`,
        contentType: FILE_TYPES[kind].contentType,
      };
    },

    async createSchedule(
      actor: Actor & { id: string },
      accountId: string,
      input: ScheduleInput,
    ): Promise<ScheduleRecord> {
      const access = await exporter(accountId, actor.id);
      const valid = await validSchedule(accountId, input);
      const id = newId("exportSchedule");
      const at = clock.now();
      await transact(db, async (trx) => {
        await repository.insertSchedule(trx, {
          id,
          accountId,
          type: valid.type,
          format: valid.format,
          filters: valid.filters,
          frequency: valid.frequency,
          recipients: valid.recipients,
          paused: input.paused ?? false,
          // The first run one period from now; each later one a period after the previous.
          nextRunAt: nextRunAfter(at.toISOString(), valid.frequency, at),
          createdBy: access.userId,
          createdAt: at.toISOString(),
        });
        await audit(
          trx,
          actor,
          accountId,
          "export_schedule.created",
          { type: "export_schedule", id },
          {
            type: valid.type,
            format: valid.format,
            filters: valid.filters,
            frequency: valid.frequency,
            recipients: valid.recipients,
            paused: input.paused ?? false,
          },
        );
      });
      return (await repository.findSchedule(db, accountId, id)) as ScheduleRecord;
    },

    async listSchedules(
      principalId: string,
      accountId: string,
      page: { limit: number; cursor?: string | undefined },
    ) {
      await exporter(accountId, principalId);
      const rows = await repository.listSchedules(db, accountId, {
        limit: page.limit + 1,
        after: page.cursor ? decodeNewestFirstCursor(page.cursor) : undefined,
      });
      const { items, nextCursor } = newestFirstPage(rows, page.limit);
      return { schedules: items, nextCursor };
    },

    async getSchedule(principalId: string, accountId: string, id: string): Promise<ScheduleRecord> {
      await exporter(accountId, principalId);
      const schedule = await repository.findSchedule(db, accountId, id);
      if (!schedule) throw notFound("Export schedule");
      return schedule;
    },

    async updateSchedule(
      actor: Actor & { id: string },
      accountId: string,
      id: string,
      patch: SchedulePatch,
    ): Promise<ScheduleRecord> {
      await exporter(accountId, actor.id);
      const current = await repository.findSchedule(db, accountId, id);
      if (!current) throw notFound("Export schedule");
      const valid = await validSchedule(accountId, patch, current);
      const at = clock.now();
      const changes: ScheduleChanges = {
        type: valid.type,
        format: valid.format,
        filters: valid.filters,
        frequency: valid.frequency,
        recipients: valid.recipients,
        ...(patch.paused !== undefined ? { paused: patch.paused } : {}),
        // A new frequency counts from now.
        ...(valid.frequency !== current.frequency
          ? { nextRunAt: nextRunAfter(at.toISOString(), valid.frequency, at) }
          : {}),
      };
      await transact(db, async (trx) => {
        if (!(await repository.findSchedule(trx, accountId, id))) throw notFound("Export schedule");
        await repository.updateSchedule(trx, accountId, id, changes, at.toISOString());
        const changed = Object.fromEntries(
          Object.entries(changes).filter(
            ([key, value]) =>
              key !== "nextRunAt" &&
              JSON.stringify(value) !== JSON.stringify(current[key as keyof ScheduleRecord]),
          ),
        );
        await audit(
          trx,
          actor,
          accountId,
          "export_schedule.updated",
          { type: "export_schedule", id },
          changed,
        );
      });
      return (await repository.findSchedule(db, accountId, id)) as ScheduleRecord;
    },

    async removeSchedule(actor: Actor & { id: string }, accountId: string, id: string): Promise<void> {
      await exporter(accountId, actor.id);
      await transact(db, async (trx) => {
        const schedule = await repository.findSchedule(trx, accountId, id);
        if (!schedule || !(await repository.deleteSchedule(trx, accountId, id)))
          throw notFound("Export schedule");
        await audit(
          trx,
          actor,
          accountId,
          "export_schedule.deleted",
          { type: "export_schedule", id },
          {
            type: schedule.type,
            frequency: schedule.frequency,
          },
        );
      });
    },
  };
}

export type ExportsService = ReturnType<typeof createExportsService>;
