import type { Actor } from "../audit/audit.repository.js";
import { type Db, type Effects, type Trx, transact } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import { createResetRequestsRepository } from "./reset-requests.repository.js";

/** The job that handles recorded password-reset requests (src/services.ts registers it). */
export const RESET_REQUESTS_JOB = "password-reset-requests";

/**
 * Password-reset requests, answered before anything about the address is looked at: the request writes
 * one row, the same for an address with a login and one without, so its timing tells nothing. The job
 * loop's next tick (within a second) does the work and queues the mail, at a moment unrelated to the
 * answer, so the extra work for an existing address does not slow the request that follows it either.
 * Durable: a crash after the answer loses no request.
 */
export function createResetRequests(deps: {
  db: Db;
  clock: Clock;
  /** The work for one request, in its transaction (auth.service `handleResetRequest`). */
  handle: (trx: Trx, effects: Effects, email: string, actor: Actor) => Promise<void>;
  /** Tests: runs the job right after the commit, and the answer waits for it (and its mail). */
  processNow?: () => Promise<unknown>;
}) {
  const { db, clock } = deps;
  const repository = createResetRequestsRepository();
  return {
    async record(email: string, actor: Actor): Promise<void> {
      await transact(db, async (trx, effects) => {
        await repository.insert(trx, {
          id: newId("resetRequest"),
          email,
          actor,
          createdAt: clock.now().toISOString(),
        });
        const { processNow } = deps;
        if (processNow) effects.afterCommit(processNow);
      });
    },

    hasWork: () => repository.any(db),

    /** The job: each request in its own transaction, which also removes it (one process handles each). */
    async processDue(): Promise<{ handled: number }> {
      let handled = 0;
      for (;;) {
        const batch = await repository.oldest(db, 50);
        for (const request of batch) {
          await transact(db, async (trx, effects) => {
            if (!(await repository.take(trx, request.id))) return;
            await deps.handle(trx, effects, request.email, request.actor);
            handled++;
          });
          // SQLite answers synchronously: let waiting requests in between, or a backlog would stall them.
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (batch.length < 50) return { handled };
      }
    },
  };
}
