import type { Db, Executor } from "../db/database.js";
import { newId } from "../lib/ids.js";

/** One key's requests on one UTC day, by status class (1xx and 3xx count as 2xx). */
export type KeyUsageDay = {
  keyId: string;
  accountId: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  status2xx: number;
  status4xx: number;
  status5xx: number;
};

/** One request a key made, as its log shows it. */
export type KeyRequestLog = {
  accountId: string;
  keyId: string;
  at: string;
  method: string;
  /** The route pattern (`/api/v1/accounts/:account_id/members`). */
  route: string;
  status: number;
  ip: string | null;
  durationMs: number;
};

export type StoredRequestLog = KeyRequestLog & { id: string };

/** A place in a key's log, newest first: entries before it come next. */
export type LogPosition = { at: string; id: string };

/** Rows per INSERT statement: well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createUsageRepository() {
  return {
    /** Which of these keys still exist (revoked ones too): counts for a deleted key have nowhere to go. */
    async existingKeys(db: Executor, keyIds: readonly string[]): Promise<Set<string>> {
      const found = new Set<string>();
      for (const ids of chunks(keyIds, INSERT_CHUNK)) {
        const rows = await db.selectFrom("api_keys").select("id").where("id", "in", ids).execute();
        for (const row of rows) found.add(row.id);
      }
      return found;
    },

    /** Adds counts to the days' rows (`count = count + new`), whichever process wrote them before. */
    async addDays(db: Executor, days: readonly KeyUsageDay[]): Promise<void> {
      for (const batch of chunks(days, INSERT_CHUNK)) {
        await db
          .insertInto("api_key_usage_days")
          .values(
            batch.map((d) => ({
              account_id: d.accountId,
              key_id: d.keyId,
              day: d.day,
              status_2xx: d.status2xx,
              status_4xx: d.status4xx,
              status_5xx: d.status5xx,
            })),
          )
          .onConflict((oc) =>
            oc.columns(["account_id", "key_id", "day"]).doUpdateSet((eb) => ({
              status_2xx: eb("api_key_usage_days.status_2xx", "+", eb.ref("excluded.status_2xx")),
              status_4xx: eb("api_key_usage_days.status_4xx", "+", eb.ref("excluded.status_4xx")),
              status_5xx: eb("api_key_usage_days.status_5xx", "+", eb.ref("excluded.status_5xx")),
            })),
          )
          .execute();
      }
    },

    /** The accounts' monthly API calls, read by the billing overview (`usage.api_calls`). */
    async addMonthlyCalls(
      db: Executor,
      months: ReadonlyArray<{ accountId: string; month: string; calls: number }>,
    ): Promise<void> {
      for (const batch of chunks(months, INSERT_CHUNK)) {
        await db
          .insertInto("usage_counters")
          .values(
            batch.map((m) => ({
              account_id: m.accountId,
              month: m.month,
              api_calls: m.calls,
              storage_bytes: 0,
            })),
          )
          .onConflict((oc) =>
            oc.columns(["account_id", "month"]).doUpdateSet((eb) => ({
              api_calls: eb("usage_counters.api_calls", "+", eb.ref("excluded.api_calls")),
            })),
          )
          .execute();
      }
    },

    async insertLogs(db: Executor, logs: readonly KeyRequestLog[]): Promise<void> {
      for (const batch of chunks(logs, INSERT_CHUNK)) {
        await db
          .insertInto("api_key_request_logs")
          .values(
            batch.map((log) => ({
              id: newId("requestLog"),
              account_id: log.accountId,
              key_id: log.keyId,
              at: log.at,
              method: log.method,
              route: log.route,
              status: log.status,
              ip: log.ip,
              duration_ms: log.durationMs,
            })),
          )
          .execute();
      }
    },

    /** The stored days of a key between two UTC dates (inclusive); days without requests have no row. */
    async days(
      db: Executor,
      accountId: string,
      keyId: string,
      range: { from: string; to: string },
    ): Promise<KeyUsageDay[]> {
      const rows = await db
        .selectFrom("api_key_usage_days")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("key_id", "=", keyId)
        .where("day", ">=", range.from)
        .where("day", "<=", range.to)
        .orderBy("day")
        .execute();
      return rows.map((r) => ({
        keyId: r.key_id,
        accountId: r.account_id,
        day: r.day,
        status2xx: Number(r.status_2xx),
        status4xx: Number(r.status_4xx),
        status5xx: Number(r.status_5xx),
      }));
    },

    /** A key's log, newest first, from `before` (exclusive) on. */
    async logs(
      db: Executor,
      accountId: string,
      keyId: string,
      page: { limit: number; before?: LogPosition | undefined },
    ): Promise<StoredRequestLog[]> {
      let query = db
        .selectFrom("api_key_request_logs")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("key_id", "=", keyId);
      const before = page.before;
      if (before) {
        query = query.where((eb) =>
          eb.or([eb("at", "<", before.at), eb.and([eb("at", "=", before.at), eb("id", "<", before.id)])]),
        );
      }
      const rows = await query.orderBy("at", "desc").orderBy("id", "desc").limit(page.limit).execute();
      return rows.map((r) => ({
        id: r.id,
        accountId: r.account_id,
        keyId: r.key_id,
        at: r.at,
        method: r.method,
        route: r.route,
        status: Number(r.status),
        ip: r.ip,
        durationMs: Number(r.duration_ms),
      }));
    },

    /** Deletes log entries older than `before` (every account); returns how many. */
    async purgeLogs(db: Db, before: string): Promise<number> {
      const result = await db.deleteFrom("api_key_request_logs").where("at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type UsageRepository = ReturnType<typeof createUsageRepository>;
