import { createHmac } from "node:crypto";
import type { Executor } from "../db/database.js";
import { hmac, safeEqual } from "../lib/crypto.js";

/**
 * Where an account's audit chain starts once retention has purged its oldest events: the last purged
 * event's place, id and hash. Verification starts from it instead of the genesis hash, so everything
 * that remains is still proven; its MAC (keyed from SECRET_KEY) makes a forged or edited cut fail.
 */
export type AuditCheckpoint = {
  accountId: string;
  seq: number;
  eventId: string;
  hash: string;
  /** Events removed by the purge that made this checkpoint. */
  purgedCount: number;
  createdAt: string;
  mac: string;
};

/** The checkpoint key: derived from SECRET_KEY, so it is used for nothing else. */
export function checkpointKey(secretKey: Buffer): Buffer {
  return createHmac("sha256", secretKey).update("gatehouse audit checkpoint v1").digest();
}

function signedText(c: Omit<AuditCheckpoint, "mac">): string {
  return JSON.stringify([c.accountId, c.seq, c.eventId, c.hash, c.purgedCount, c.createdAt]);
}

export function signCheckpoint(key: Buffer, checkpoint: Omit<AuditCheckpoint, "mac">): AuditCheckpoint {
  return { ...checkpoint, mac: hmac(key, signedText(checkpoint)) };
}

export function checkpointIsAuthentic(key: Buffer, checkpoint: AuditCheckpoint): boolean {
  return safeEqual(checkpoint.mac, hmac(key, signedText(checkpoint)));
}

export async function findCheckpoint(db: Executor, accountId: string): Promise<AuditCheckpoint | undefined> {
  const row = await db
    .selectFrom("audit_checkpoints")
    .selectAll()
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  return (
    row && {
      accountId: row.account_id,
      seq: Number(row.seq),
      eventId: row.event_id,
      hash: row.hash,
      purgedCount: Number(row.purged_count),
      createdAt: row.created_at,
      mac: row.mac,
    }
  );
}

export async function saveCheckpoint(db: Executor, checkpoint: AuditCheckpoint): Promise<void> {
  const values = {
    seq: checkpoint.seq,
    event_id: checkpoint.eventId,
    hash: checkpoint.hash,
    purged_count: checkpoint.purgedCount,
    created_at: checkpoint.createdAt,
    mac: checkpoint.mac,
  };
  await db
    .insertInto("audit_checkpoints")
    .values({ account_id: checkpoint.accountId, ...values })
    .onConflict((oc) => oc.column("account_id").doUpdateSet(values))
    .execute();
}
