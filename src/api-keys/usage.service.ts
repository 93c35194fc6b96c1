import type { Db } from "../db/database.js";
import { invalidFields, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import type { ApiKeysRepository } from "./api-keys.repository.js";
import type { LogPosition, StoredRequestLog, UsageRepository } from "./usage.repository.js";

export const KEY_USAGE = {
  /** Days shown when no range is asked for (today included). */
  defaultDays: 30,
  /** The longest range one request may ask for, in days (both ends included). */
  maxDays: 366,
  /** Request log entries are deleted after this many days (the `api-key-logs-purge` job). */
  logRetentionDays: 30,
} as const;

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export type UsageDayView = {
  date: string;
  requests: number;
  status2xx: number;
  status4xx: number;
  status5xx: number;
};

/** A YYYY-MM-DD that names a real day (no 2026-02-30), as midnight UTC; undefined otherwise. */
function parseDate(value: string): Date | undefined {
  if (!DATE.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00.000Z`);
  return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value ? undefined : date;
}

const dateOf = (date: Date) => date.toISOString().slice(0, 10);

function encodeCursor(position: LogPosition): string {
  return Buffer.from(JSON.stringify({ at: position.at, id: position.id })).toString("base64url");
}

function decodeCursor(value: string): LogPosition {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<LogPosition>;
    if (typeof parsed.at === "string" && typeof parsed.id === "string")
      return { at: parsed.at, id: parsed.id };
  } catch {}
  throw invalidFields([
    { path: "cursor", code: "invalid", message: "This cursor is not one a previous page gave" },
  ]);
}

/**
 * Reading a key's usage and request log (api_keys:manage, like the key itself). Both read the database
 * only: what a process counted in the last few seconds shows after its next flush.
 */
export function createApiKeyUsageService(deps: {
  db: Db;
  clock: Clock;
  keys: Pick<ApiKeysRepository, "find">;
  usage: UsageRepository;
  access: AccessCache;
}) {
  const { db, clock, usage } = deps;

  /** The key, if the caller may manage the account's keys; revoked keys are gone as for GET of the key. */
  async function keyFor(principalId: string, accountId: string, keyId: string) {
    requirePermission(await deps.access.get(db, accountId, principalId), "api_keys:manage");
    const key = await deps.keys.find(db, accountId, keyId);
    if (!key) throw notFound("API key");
    return key;
  }

  /** Both ends included; every field problem at once. */
  function rangeOf(input: { from?: string | undefined; to?: string | undefined }): { from: Date; to: Date } {
    const errors: Parameters<typeof invalidFields>[0][number][] = [];
    const from = input.from === undefined ? undefined : parseDate(input.from);
    const to = input.to === undefined ? undefined : parseDate(input.to);
    if (input.from !== undefined && !from)
      errors.push({ path: "from", code: "invalid_value", message: "From must be a date like 2026-03-01" });
    if (input.to !== undefined && !to)
      errors.push({ path: "to", code: "invalid_value", message: "To must be a date like 2026-03-31" });
    if (errors.length) throw invalidFields(errors);
    const today = new Date(`${dateOf(clock.now())}T00:00:00.000Z`);
    const span = (KEY_USAGE.defaultDays - 1) * DAY_MS;
    const end = to ?? (from ? new Date(from.getTime() + span) : today);
    const start = from ?? new Date(end.getTime() - span);
    if (end < start)
      throw invalidFields([{ path: "to", code: "invalid_value", message: "To must be on or after from" }]);
    if ((end.getTime() - start.getTime()) / DAY_MS + 1 > KEY_USAGE.maxDays)
      throw invalidFields([
        { path: "to", code: "invalid_value", message: `A range covers at most ${KEY_USAGE.maxDays} days` },
      ]);
    return { from: start, to: end };
  }

  return {
    /** One row per UTC day of the range, days without requests included (zeros). */
    async days(
      principalId: string,
      accountId: string,
      keyId: string,
      input: { from?: string | undefined; to?: string | undefined },
    ): Promise<UsageDayView[]> {
      const range = rangeOf(input);
      await keyFor(principalId, accountId, keyId);
      const stored = new Map(
        (await usage.days(db, accountId, keyId, { from: dateOf(range.from), to: dateOf(range.to) })).map(
          (d) => [d.day, d],
        ),
      );
      const out: UsageDayView[] = [];
      for (let at = range.from.getTime(); at <= range.to.getTime(); at += DAY_MS) {
        const date = dateOf(new Date(at));
        const day = stored.get(date);
        const status2xx = day?.status2xx ?? 0;
        const status4xx = day?.status4xx ?? 0;
        const status5xx = day?.status5xx ?? 0;
        out.push({ date, requests: status2xx + status4xx + status5xx, status2xx, status4xx, status5xx });
      }
      return out;
    },

    /** The key's request log, newest first. */
    async logs(
      principalId: string,
      accountId: string,
      keyId: string,
      page: { limit: number; cursor?: string | undefined },
    ): Promise<{ entries: StoredRequestLog[]; nextCursor: string | null }> {
      const before = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
      await keyFor(principalId, accountId, keyId);
      const rows = await usage.logs(db, accountId, keyId, { limit: page.limit + 1, before });
      const entries = rows.slice(0, page.limit);
      const last = entries.at(-1);
      return {
        entries,
        nextCursor: rows.length > page.limit && last ? encodeCursor({ at: last.at, id: last.id }) : null,
      };
    },

    /** The `api-key-logs-purge` job: entries past their retention, every account. */
    async purgeOldLogs(): Promise<{ deleted: number }> {
      const before = new Date(clock.now().getTime() - KEY_USAGE.logRetentionDays * DAY_MS).toISOString();
      return { deleted: await usage.purgeLogs(db, before) };
    },
  };
}

export type ApiKeyUsageService = ReturnType<typeof createApiKeyUsageService>;
