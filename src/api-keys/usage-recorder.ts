import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../db/database.js";
import type { KeyRequestLog, KeyUsageDay, UsageRepository } from "./usage.repository.js";

export const USAGE_BUFFER = {
  /**
   * Log entries waiting for a flush, at most. Beyond this (the database is away for long) new entries are
   * dropped and counted; counts are never dropped (one small entry per key and day).
   */
  maxPendingLogs: 10_000,
} as const;

/** What one flush writes. */
export type UsageBatch = { days: KeyUsageDay[]; logs: KeyRequestLog[] };

/**
 * Counts and logs the requests API keys make, in memory on the request path, written in batches by the
 * write-behind flush (src/lib/write-behind.ts): one transaction per flush, so a request never waits
 * for a write of its own. A failed flush keeps everything for the next one. A process killed without
 * shutdown loses at most one flush interval of them.
 */
export function createUsageRecorder(deps: {
  log: FastifyBaseLogger;
  /** Writes one batch, all or nothing (`usageWriter`); a failure keeps the batch for the next flush. */
  write: (batch: UsageBatch) => Promise<void>;
  maxPendingLogs?: number;
}) {
  const maxPendingLogs = deps.maxPendingLogs ?? USAGE_BUFFER.maxPendingLogs;
  let days = new Map<string, KeyUsageDay>();
  let logs: KeyRequestLog[] = [];
  /** Dropped since the last report in the log, and since the start. */
  let droppedSinceReport = 0;
  let droppedTotal = 0;

  function addDay(into: Map<string, KeyUsageDay>, day: KeyUsageDay) {
    const slot = `${day.keyId} ${day.day}`;
    const existing = into.get(slot);
    if (!existing) {
      into.set(slot, { ...day });
      return;
    }
    existing.status2xx += day.status2xx;
    existing.status4xx += day.status4xx;
    existing.status5xx += day.status5xx;
  }

  function keepLogs(entries: KeyRequestLog[]) {
    const dropped = Math.max(0, entries.length - maxPendingLogs);
    droppedSinceReport += dropped;
    droppedTotal += dropped;
    logs = dropped > 0 ? entries.slice(0, maxPendingLogs) : entries;
  }

  return {
    /** One request a key made (at its answer). Only memory: never waits, never throws. */
    record(request: KeyRequestLog) {
      const status = request.status;
      addDay(days, {
        keyId: request.keyId,
        accountId: request.accountId,
        day: request.at.slice(0, 10),
        status2xx: status < 400 ? 1 : 0,
        status4xx: status >= 400 && status < 500 ? 1 : 0,
        status5xx: status >= 500 ? 1 : 0,
      });
      if (logs.length < maxPendingLogs) logs.push(request);
      else {
        droppedSinceReport++;
        droppedTotal++;
      }
    },

    /** Writes what was recorded since the last flush in one transaction; kept for the next on failure. */
    async flush(): Promise<void> {
      if (droppedSinceReport > 0) {
        deps.log.warn(
          { dropped: droppedSinceReport, max_pending: maxPendingLogs },
          "API key request log entries dropped: too many waiting to be written (counts are kept)",
        );
        droppedSinceReport = 0;
      }
      if (days.size === 0 && logs.length === 0) return;
      const batch: UsageBatch = { days: [...days.values()], logs };
      days = new Map();
      logs = [];
      try {
        await deps.write(batch);
      } catch (error) {
        // Recorded meanwhile comes after what failed: older entries first, newest dropped past the cap.
        const meanwhile = days;
        days = new Map();
        for (const day of batch.days) addDay(days, day);
        for (const day of meanwhile.values()) addDay(days, day);
        keepLogs([...batch.logs, ...logs]);
        throw error;
      }
    },

    /** What waits in memory (tests, diagnostics). */
    pending() {
      return {
        days: [...days.values()].map((d) => ({ ...d })),
        logs: logs.length,
        droppedLogs: droppedTotal,
      };
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;

/**
 * A batch into the database in one transaction: day rows and the accounts' monthly calls added to
 * (`count = count + new`, whichever process wrote before), log entries inserted. Counts and entries of
 * keys deleted since (with their member or account) are dropped: their usage went with them.
 */
export function usageWriter(db: Db, repository: UsageRepository) {
  return async (batch: UsageBatch): Promise<void> => {
    await db.transaction().execute(async (trx) => {
      const keyIds = [...new Set([...batch.days.map((d) => d.keyId), ...batch.logs.map((l) => l.keyId)])];
      const existing = await repository.existingKeys(trx, keyIds);
      // Sorted, so two processes flushing at once take row locks in the same order.
      const liveDays = batch.days
        .filter((d) => existing.has(d.keyId))
        .sort((a, b) =>
          `${a.accountId} ${a.keyId} ${a.day}`.localeCompare(`${b.accountId} ${b.keyId} ${b.day}`),
        );
      const months = new Map<string, { accountId: string; month: string; calls: number }>();
      for (const d of liveDays) {
        const month = d.day.slice(0, 7);
        const slot = `${d.accountId} ${month}`;
        const entry = months.get(slot) ?? { accountId: d.accountId, month, calls: 0 };
        entry.calls += d.status2xx + d.status4xx + d.status5xx;
        months.set(slot, entry);
      }
      await repository.addDays(trx, liveDays);
      await repository.addMonthlyCalls(
        trx,
        [...months.values()].sort((a, b) =>
          `${a.accountId} ${a.month}`.localeCompare(`${b.accountId} ${b.month}`),
        ),
      );
      await repository.insertLogs(
        trx,
        batch.logs.filter((l) => existing.has(l.keyId)),
      );
    });
  };
}
