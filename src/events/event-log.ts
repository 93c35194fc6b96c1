import type { FastifyBaseLogger } from "fastify";
import type { Actor } from "../audit/audit.repository.js";
import { type DatabaseHandle, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { EventType } from "./catalog.js";
import { createEventsRepository, type StoredEvent } from "./events.repository.js";

export const EVENT_FAN_OUT = {
  /** Events handed on per transaction, and transactions per run (the next tick goes on). */
  batchSize: 100,
  maxBatchesPerRun: 50,
  /** Fanned-out events are kept this long (webhook deliveries carry their own copy of the payload). */
  retentionDays: 30,
} as const;

/** The job that hands new events to the consumers (src/services.ts registers it). */
export const EVENT_FAN_OUT_JOB = "event-fan-out";

/**
 * What a consumer does with a batch of new events, inside the fan-out transaction: insert its own rows
 * (webhook deliveries, notifications) and schedule its own after-commit work. A consumer that throws
 * rolls the whole batch back, so the batch is handed to every consumer again on the next run: consumers
 * write nothing outside `trx`.
 */
export type EventConsumer = (trx: Trx, effects: Effects, events: readonly StoredEvent[]) => Promise<void>;

export type NewEvent = {
  accountId: string;
  type: EventType;
  /** The resource as the API shows it. */
  data: Record<string, unknown>;
};

/**
 * The event stream: a change records its events in its own transaction (a rolled-back change announces
 * nothing; a committed one is never lost), and the job loop hands each event exactly once to every
 * consumer, in one transaction with marking it handed on. Kicked after each commit, so events leave at
 * once when they can.
 */
export function createEventLog(deps: {
  database: DatabaseHandle;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Starts the fan-out job in this process (after a commit). */
  kick: () => Promise<unknown>;
  /** Tests: the commit waits for the fan-out, so a test sees deliveries and notifications at once. */
  waitForFanOut?: boolean;
}) {
  const { clock, log } = deps;
  const db = deps.database.db;
  const repository = createEventsRepository(deps.database.dialect);
  const consumers = new Map<string, EventConsumer>();
  const kicked = new WeakSet<Effects>();

  return {
    /** Registers a consumer (webhooks, notifications) by name; each sees every event once. */
    subscribe(name: string, consumer: EventConsumer): void {
      if (consumers.has(name)) throw new Error(`event consumer ${name} is registered twice`);
      consumers.set(name, consumer);
    },

    /** Records events in the caller's transaction. */
    async record(trx: Executor, effects: Effects, actor: Actor, ...events: NewEvent[]): Promise<void> {
      if (events.length === 0) return;
      const occurredAt = clock.now().toISOString();
      const who = { type: actor.type, id: actor.id };
      for (const event of events)
        await repository.insert(trx, { id: newId("event"), occurredAt, actor: who, ...event });
      if (kicked.has(effects)) return;
      kicked.add(effects);
      effects.afterCommit(() => {
        const run = deps.kick();
        return deps.waitForFanOut ? run : undefined;
      });
    },

    hasPending: () => repository.hasPending(db),

    /** The fan-out job: batches of new events, each handed to every consumer and marked in one transaction. */
    async fanOut(): Promise<{ events: number }> {
      let total = 0;
      for (let batch = 0; batch < EVENT_FAN_OUT.maxBatchesPerRun; batch++) {
        const handed = await transact(db, async (trx, effects) => {
          const events = await repository.lockPending(trx, EVENT_FAN_OUT.batchSize);
          for (const [name, consume] of consumers) {
            try {
              await consume(trx, effects, events);
            } catch (error) {
              log.error({ err: error, consumer: name, events: events.length }, "event consumer failed");
              throw error;
            }
          }
          await repository.markFannedOut(
            trx,
            events.map((e) => e.id),
            clock.now().toISOString(),
          );
          return events.length;
        });
        total += handed;
        if (handed < EVENT_FAN_OUT.batchSize) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return { events: total };
    },

    /** Retention: fanned-out events older than `EVENT_FAN_OUT.retentionDays`. */
    purge: async () => ({
      events: await repository.purgeFannedOutBefore(
        db,
        addSeconds(clock.now(), -EVENT_FAN_OUT.retentionDays * 86_400).toISOString(),
      ),
    }),

    /** The newest events of an account (tests, and the webhooks page's "recent events"). */
    listRecent: (accountId: string, limit = 50) => repository.listForAccount(db, accountId, limit),
  };
}

export type EventLog = ReturnType<typeof createEventLog>;
