import type { DatabaseHandle, Executor } from "../db/database.js";
import type { EventsTable } from "../db/tables.js";
import type { EventType } from "./catalog.js";

/** One event of the stream, as consumers (webhooks, notifications) get it. */
export type StoredEvent = {
  id: string;
  accountId: string;
  type: EventType;
  occurredAt: string;
  data: Record<string, unknown>;
  actor: { type: EventsTable["actor_type"]; id: string | null };
};

function rowToEvent(row: EventsTable): StoredEvent {
  return {
    id: row.id,
    accountId: row.account_id,
    type: row.type as EventType,
    occurredAt: row.occurred_at,
    data: JSON.parse(row.data) as Record<string, unknown>,
    actor: { type: row.actor_type, id: row.actor_id },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;

export function createEventsRepository(dialect: DatabaseHandle["dialect"]) {
  return {
    async insert(db: Executor, event: StoredEvent): Promise<void> {
      await db
        .insertInto("events")
        .values({
          id: event.id,
          account_id: event.accountId,
          type: event.type,
          occurred_at: event.occurredAt,
          data: JSON.stringify(event.data),
          actor_type: event.actor.type,
          actor_id: event.actor.id,
          fanned_out_at: null,
        })
        .execute();
    },

    async hasPending(db: Executor): Promise<boolean> {
      const row = await db
        .selectFrom("events")
        .select("id")
        .where("fanned_out_at", "is", null)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * The oldest events not fanned out yet, locked until the caller's transaction ends (PostgreSQL; SQLite
     * has one writer). The job loop already runs fan-out in one process at a time: the lock is the backstop.
     */
    async lockPending(trx: Executor, limit: number): Promise<StoredEvent[]> {
      let query = trx
        .selectFrom("events")
        .selectAll()
        .where("fanned_out_at", "is", null)
        .orderBy("occurred_at")
        .orderBy("id")
        .limit(limit);
      if (dialect === "postgres") query = query.forUpdate().skipLocked();
      return (await query.execute()).map(rowToEvent);
    },

    async markFannedOut(trx: Executor, ids: readonly string[], at: string): Promise<void> {
      if (ids.length === 0) return;
      await trx.updateTable("events").set({ fanned_out_at: at }).where("id", "in", ids).execute();
    },

    /** Events past retention that were handed on; returns how many went. */
    async purgeFannedOutBefore(db: Executor, before: string): Promise<number> {
      const result = await db
        .deleteFrom("events")
        .where("fanned_out_at", "is not", null)
        .where("occurred_at", "<", before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async listForAccount(db: Executor, accountId: string, limit: number): Promise<StoredEvent[]> {
      const rows = await db
        .selectFrom("events")
        .selectAll()
        .where("account_id", "=", accountId)
        .orderBy("occurred_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .execute();
      return rows.map(rowToEvent);
    },
  };
}
