import type { AccountsService } from "../accounts/accounts.service.js";
import type { Db, Executor } from "../db/database.js";
import { type AppError, invalidFields } from "../http/errors.js";
import type { FileUrl } from "../storage/file-urls.js";
import {
  type AuditEntry,
  type AuditFilter,
  findChainHead,
  listAccountEvents,
  listChainEvents,
  listChainKeys,
  type StoredChainEvent,
} from "./audit.repository.js";
import { type AuditCategory, type CategoryRule, categoryRule } from "./audit-categories.js";
import { accountIdOfChain, chainHash, chainKeyOf, GENESIS_HASH } from "./audit-chain.js";
import { checkpointIsAuthentic, findCheckpoint } from "./audit-checkpoints.js";
import { type AuditNames, resolveAuditNames } from "./audit-names.js";

export type ChainBreak = {
  ok: false;
  /** null for the installation chain (events without an account). */
  account_id: string | null;
  /** The first place in the chain that does not verify. */
  seq: number;
  /** The event found at (or, for a missing event, right after) that place; null when none is. */
  event_id: string | null;
  reason: string;
};

export type ChainVerification =
  | {
      ok: true;
      account_id: string | null;
      /** Events that remain and verify. */
      events: number;
      /** When retention purged the chain's start: the seq of the last purged event it starts after. */
      checkpoint_seq?: number;
    }
  | ChainBreak;

export type VerifyOptions = {
  /** The audit checkpoint key (from SECRET_KEY); a chain with a purge checkpoint needs it to verify. */
  checkpointKey?: Buffer | undefined;
};

export type VerifyResult = { ok: true; events: number } | ChainBreak;

const VERIFY_BATCH = 1000;

/**
 * Recomputes one chain from its first event, or from its signed purge checkpoint when retention has
 * deleted its oldest events; stops at the first event that does not fit.
 */
export async function verifyOneChain(
  db: Executor,
  chainKey: string,
  options: VerifyOptions = {},
): Promise<ChainVerification> {
  // A purge that commits while the chain is read moves its start: a break seen then is read again.
  for (let attempt = 1; ; attempt++) {
    const accountId = accountIdOfChain(chainKey);
    const before = accountId === null ? undefined : await findCheckpoint(db, accountId);
    const result = await verifyChainOnce(db, chainKey, options);
    if (result.ok || attempt >= 3 || accountId === null) return result;
    const after = await findCheckpoint(db, accountId);
    if (after?.seq === before?.seq) return result;
  }
}

async function verifyChainOnce(
  db: Executor,
  chainKey: string,
  options: VerifyOptions,
): Promise<ChainVerification> {
  const accountId = accountIdOfChain(chainKey);
  const broken = (seq: number, eventId: string | null, reason: string): ChainBreak => ({
    ok: false,
    account_id: accountId,
    seq,
    event_id: eventId,
    reason,
  });
  const check = (event: StoredChainEvent, expectedSeq: number, prevHash: string): ChainBreak | undefined => {
    if (event.seq < expectedSeq)
      return broken(
        expectedSeq,
        event.id,
        `event ${event.id} claims seq ${event.seq}, already taken or out of order`,
      );
    if (event.seq > expectedSeq)
      return broken(
        expectedSeq,
        event.id,
        `event at seq ${expectedSeq} is missing (next is seq ${event.seq})`,
      );
    if (event.prev_hash !== prevHash)
      return broken(expectedSeq, event.id, "prev_hash does not match the previous event's hash");
    if (chainHash(prevHash, event) !== event.hash)
      return broken(expectedSeq, event.id, "hash does not match the event's contents");
    return undefined;
  };

  let count = 0;
  let prevHash = GENESIS_HASH;
  const checkpoint = accountId === null ? undefined : await findCheckpoint(db, accountId);
  if (checkpoint) {
    if (!options.checkpointKey)
      return broken(
        checkpoint.seq,
        checkpoint.eventId,
        "the chain starts at a purge checkpoint: verifying it needs SECRET_KEY",
      );
    if (!checkpointIsAuthentic(options.checkpointKey, checkpoint))
      return broken(
        checkpoint.seq,
        checkpoint.eventId,
        "the purge checkpoint's signature does not match: it was forged or edited",
      );
    count = checkpoint.seq;
    prevHash = checkpoint.hash;
  }
  const start = count;
  let after: StoredChainEvent | undefined;
  for (;;) {
    const batch = await listChainEvents(db, chainKey, after, VERIFY_BATCH);
    for (const event of batch) {
      const failure = check(event, count + 1, prevHash);
      if (failure) return failure;
      count += 1;
      prevHash = event.hash;
    }
    after = batch.at(-1);
    if (batch.length < VERIFY_BATCH) break;
  }

  // The head catches what the events alone cannot: events cut off the end of the chain.
  const head = await findChainHead(db, chainKey);
  const verified = {
    ok: true as const,
    account_id: accountId,
    events: count - start,
    ...(checkpoint ? { checkpoint_seq: checkpoint.seq } : {}),
  };
  if (count === 0 && !head) return verified;
  if (!head) return broken(count + 1, null, "the chain's head record is missing");
  if (head.seq > count)
    return broken(
      count + 1,
      null,
      `event at seq ${count + 1} is missing (the chain's head is at seq ${head.seq})`,
    );
  if (head.seq < count || head.hash !== prevHash)
    return broken(head.seq, null, "the chain's head record does not match its last event");
  return verified;
}

/** Every chain (or one account's), each verified on its own. */
export async function verifyChains(
  db: Executor,
  accountId?: string,
  options: VerifyOptions = {},
): Promise<ChainVerification[]> {
  const keys = accountId === undefined ? await listChainKeys(db) : [chainKeyOf(accountId)];
  const results: ChainVerification[] = [];
  for (const key of keys) results.push(await verifyOneChain(db, key, options));
  return results;
}

/** `{ ok: true, events }` when every chain (or the account's) verifies, else the first break found. */
export async function verifyChain(
  db: Executor,
  accountId?: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  let events = 0;
  for (const result of await verifyChains(db, accountId, options)) {
    if (!result.ok) return result;
    events += result.events;
  }
  return { ok: true, events };
}

export type AuditQuery = {
  actorId?: string | undefined;
  /** Exact, or a prefix with a trailing ".*" ("member.*"). */
  action?: string | undefined;
  targetId?: string | undefined;
  category?: AuditCategory | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  cursor?: string | undefined;
};

export type AuditPage = { events: AuditEntry[]; names: AuditNames; nextCursor: string | null };

// Cursors point at a place in the account's chain: seqs only ever grow, so pages stay put under inserts.
export function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ seq })).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  let seq: unknown;
  try {
    seq = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { seq?: unknown }).seq;
  } catch {
    seq = undefined;
  }
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1)
    throw invalidQuery("cursor", "This cursor is not one a previous page gave");
  return seq;
}

/** Stored timestamps are UTC ISO strings and compare as text; so must the bounds. */
function toUtc(value: string, path: string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw invalidQuery(
      path,
      `${path === "from" ? "From" : "To"} must be a date and time like 2026-03-01T09:00:00Z`,
    );
  return date.toISOString();
}

function invalidQuery(path: string, message: string): AppError {
  return invalidFields([{ path, code: "invalid_value", message }]);
}

export function createAuditService(deps: {
  db: Db;
  accountsService: Pick<AccountsService, "requirePermission">;
  fileUrl?: FileUrl;
}) {
  const { db, accountsService, fileUrl } = deps;

  return {
    /** The account's audit log, newest first; needs audit:read in that account. */
    async listEvents(userId: string, accountId: string, query: AuditQuery): Promise<AuditPage> {
      await accountsService.requirePermission(db, userId, accountId, "audit:read");
      const from = query.from === undefined ? undefined : toUtc(query.from, "from");
      const to = query.to === undefined ? undefined : toUtc(query.to, "to");
      if (from !== undefined && to !== undefined && from > to)
        throw invalidQuery("to", "To must not be before from");
      const prefix = query.action?.endsWith(".*") ? query.action.slice(0, -1) : undefined;
      const filter: AuditFilter = {
        actorId: query.actorId,
        action: prefix === undefined ? query.action : undefined,
        actionPrefix: prefix,
        targetId: query.targetId,
        category: query.category === undefined ? undefined : categoryRule(query.category),
        from,
        to,
        beforeSeq: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
        limit: query.limit + 1,
      };
      const rows = await listAccountEvents(db, accountId, filter);
      const events = rows.slice(0, query.limit);
      const last = events.at(-1);
      const names = await resolveAuditNames(db, accountId, events, fileUrl);
      return { events, names, nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null };
    },

    /**
     * The newest events of the account that match `rule`, by people or API keys, with their names
     * (the account overview's recent admin activity). The caller has checked audit:read.
     */
    async recentEvents(accountId: string, rule: CategoryRule, limit: number): Promise<AuditPage> {
      const events = await listAccountEvents(db, accountId, {
        category: rule,
        actorTypes: ["user", "api_key"],
        limit,
      });
      const names = await resolveAuditNames(db, accountId, events, fileUrl);
      return { events, names, nextCursor: null };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
