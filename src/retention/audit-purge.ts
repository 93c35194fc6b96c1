import { chainHash, GENESIS_HASH } from "../audit/audit-chain.js";
import {
  checkpointIsAuthentic,
  findCheckpoint,
  saveCheckpoint,
  signCheckpoint,
} from "../audit/audit-checkpoints.js";
import { type Db, transact } from "../db/database.js";
import type { RetentionRepository } from "./retention.repository.js";

/** Events verified and deleted per transaction. */
export const AUDIT_PURGE_BATCH = 5000;

/**
 * Deletes an account's oldest audit events (a prefix of its chain, in seq order, up to the first event
 * at or after the cutoff) and moves its signed checkpoint to the last one deleted, so what remains still
 * verifies. The prefix is verified before it goes: a checkpoint is only ever signed over a sound chain,
 * and a broken one stops the purge (the break stays for `gatehouse audit verify` to show).
 */
export function createAuditPurge(deps: { db: Db; repository: RetentionRepository; checkpointKey: Buffer }) {
  const { db, repository, checkpointKey } = deps;

  async function purgeBatch(accountId: string, cutoff: string, at: string): Promise<number> {
    return transact(db, async (trx) => {
      const checkpoint = await findCheckpoint(trx, accountId);
      if (checkpoint && !checkpointIsAuthentic(checkpointKey, checkpoint))
        throw new Error(`audit checkpoint of ${accountId} does not verify; not purging`);
      const fromSeq = checkpoint?.seq ?? 0;
      let prevHash = checkpoint?.hash ?? GENESIS_HASH;
      const events = await repository.chainEventsAfter(trx, accountId, fromSeq, AUDIT_PURGE_BATCH);
      let last: { seq: number; id: string; hash: string } | undefined;
      for (const event of events) {
        if (event.created_at >= cutoff) break;
        const expected = (last?.seq ?? fromSeq) + 1;
        if (
          event.seq !== expected ||
          event.prev_hash !== prevHash ||
          chainHash(prevHash, event) !== event.hash
        )
          throw new Error(`audit chain of ${accountId} does not verify at seq ${expected}; not purging`);
        prevHash = event.hash;
        last = { seq: event.seq, id: event.id, hash: event.hash };
      }
      if (!last) return 0;
      const purged = await repository.deleteEventsThrough(trx, accountId, last.seq);
      await saveCheckpoint(
        trx,
        signCheckpoint(checkpointKey, {
          accountId,
          seq: last.seq,
          eventId: last.id,
          hash: last.hash,
          purgedCount: purged,
          createdAt: at,
        }),
      );
      return purged;
    });
  }

  return {
    /** Purges events recorded before `cutoff`; returns how many went. */
    async purge(accountId: string, cutoff: Date, now: Date): Promise<number> {
      let total = 0;
      for (;;) {
        const purged = await purgeBatch(accountId, cutoff.toISOString(), now.toISOString());
        total += purged;
        if (purged < AUDIT_PURGE_BATCH) return total;
      }
    },
  };
}
