import { createHash } from "node:crypto";

/**
 * The tamper-evident part of an audit event: exactly the stored fields, under their stored names,
 * because the hash is computed over them. This format is frozen by every hash already stored
 * (migration 0003 uses it too): changing it breaks verification of existing chains.
 */
export type ChainedFields = {
  id: string;
  account_id: string | null;
  seq: number;
  actor_type: string;
  actor_id: string | null;
  /**
   * The member an API key acted for (migration 0015). Hashed only when set, so every event stored
   * before it existed (and every event without a key) keeps its hash.
   */
  actor_user_id?: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  /** The stored JSON text, hashed as stored. */
  changes: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  created_at: string;
};

/** prev_hash of the first event of every chain. */
export const GENESIS_HASH = "0".repeat(64);

/** Events without an account form one installation-wide chain under this key. */
export const INSTALLATION_CHAIN = "";

export function chainKeyOf(accountId: string | null): string {
  return accountId ?? INSTALLATION_CHAIN;
}

export function accountIdOfChain(chainKey: string): string | null {
  return chainKey === INSTALLATION_CHAIN ? null : chainKey;
}

/** Fixed key order, so the same event always serialises to the same text. */
export function canonicalEvent(event: ChainedFields): string {
  return JSON.stringify({
    id: event.id,
    account_id: event.account_id,
    seq: Number(event.seq),
    actor_type: event.actor_type,
    actor_id: event.actor_id,
    ...(event.actor_user_id != null ? { actor_user_id: event.actor_user_id } : {}),
    action: event.action,
    target_type: event.target_type,
    target_id: event.target_id,
    changes: event.changes,
    ip: event.ip,
    user_agent: event.user_agent,
    request_id: event.request_id,
    created_at: event.created_at,
  });
}

/** hash = SHA-256 hex of prev_hash + canonical event. */
export function chainHash(prevHash: string, event: ChainedFields): string {
  return createHash("sha256").update(prevHash).update(canonicalEvent(event)).digest("hex");
}
