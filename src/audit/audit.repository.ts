import { type Expression, type ExpressionBuilder, PostgresAdapter, type SqlBool } from "kysely";
import { type Executor, notesAlong } from "../db/database.js";
import type { Database } from "../db/tables.js";
import { newId } from "../lib/ids.js";
import { AUDIT_CATEGORIES, type CategoryRule, categoryRule } from "./audit-categories.js";
import {
  type ChainedFields,
  chainHash,
  chainKeyOf,
  GENESIS_HASH,
  INSTALLATION_CHAIN,
} from "./audit-chain.js";

/** Who did it and from where; taken from the request and carried into every audit event. */
export type Actor = {
  type: "user" | "system" | "api_key";
  /** The user's id, or the API key's (`key_…`). */
  id: string | null;
  /** For an API key: the member it acts for (its creator). */
  userId?: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** The browser's device cookie on sign-in requests (new-device detection); never recorded. */
  deviceToken?: string | null;
};

export type AuditEvent = {
  accountId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  /** Changed fields — names and non-secret values only. */
  changes?: Record<string, unknown>;
};

const EMAIL_SHAPED = /^[^\s@]+@[^\s@]+$/;
/** Keys whose values name a person, whatever their shape. */
const PERSONAL_KEYS = new Set(["first_name", "last_name", "full_name"]);

const isPersonal = (key: string, value: unknown): boolean =>
  PERSONAL_KEYS.has(key) ||
  (typeof value === "string" && EMAIL_SHAPED.test(value)) ||
  (Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === "string" && EMAIL_SHAPED.test(v)));

/**
 * Splits an event's changes into what is hashed and what names a person (emails, names). The personal
 * part is stored outside the hash, so retention can erase it once the person has left the account
 * without breaking the chain; the `usr_` id stays in the hashed part as the pseudonym.
 */
export function splitPersonal(changes: Record<string, unknown> | undefined): {
  hashed: Record<string, unknown> | undefined;
  personal: Record<string, unknown> | undefined;
} {
  if (!changes) return { hashed: undefined, personal: undefined };
  const hashed: Record<string, unknown> = {};
  const personal: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(changes)) {
    if (isPersonal(key, value)) personal[key] = value;
    else hashed[key] = value;
  }
  return { hashed, personal: Object.keys(personal).length > 0 ? personal : undefined };
}

export const SYSTEM_ACTOR: Actor = { type: "system", id: null, ip: null, userAgent: null, requestId: null };

/**
 * Appends the event to its chain (the account's, or the installation's) inside the caller's transaction.
 * The head upsert is the serialisation point: on PostgreSQL it takes the head row's lock until commit
 * (a concurrent writer waits, then sees the committed seq and hash); on SQLite it is a write, so it
 * holds the database's write lock. Either way no two events get the same place, so a chain never forks.
 * Call it last in the transaction where possible: the lock is held until commit.
 */
export async function recordAudit(db: Executor, actor: Actor, event: AuditEvent, at: Date): Promise<void> {
  // The head and the event must change together, also for callers outside a transaction.
  if (!db.isTransaction) {
    await db.transaction().execute((trx) => recordAudit(trx, actor, event, at));
    return;
  }
  const chainKey = chainKeyOf(event.accountId);
  const { hashed, personal } = splitPersonal(event.changes);
  // The transaction's held-back cache notifications go with the upsert (PostgreSQL: `notesAlong`).
  const along = notesAlong(db);
  const heads = (along?.creator ?? db).insertInto("audit_chain_heads");
  const head = await (along
    ? heads
        .columns(["chain_key", "seq", "hash"])
        .expression((eb) =>
          eb
            .selectFrom(along.source)
            .select([eb.val(chainKey).as("chain_key"), eb.lit(1).as("seq"), eb.val(GENESIS_HASH).as("hash")]),
        )
    : heads.values({ chain_key: chainKey, seq: 1, hash: GENESIS_HASH })
  )
    .onConflict((oc) =>
      oc.column("chain_key").doUpdateSet((eb) => ({ seq: eb("audit_chain_heads.seq", "+", 1) })),
    )
    // `hash` is not touched by the upsert, so it is still the previous event's.
    .returning(["seq", "hash"])
    .executeTakeFirstOrThrow();

  const fields: ChainedFields = {
    id: newId("event"),
    account_id: event.accountId,
    seq: Number(head.seq),
    actor_type: actor.type,
    actor_id: actor.id,
    actor_user_id: actor.type === "api_key" ? (actor.userId ?? null) : null,
    action: event.action,
    target_type: event.targetType ?? null,
    target_id: event.targetId ?? null,
    changes: hashed ? JSON.stringify(hashed) : null,
    ip: actor.ip,
    user_agent: actor.userAgent?.slice(0, 512) ?? null,
    request_id: actor.requestId,
    created_at: at.toISOString(),
  };
  const hash = chainHash(head.hash, fields);
  const row = { ...fields, prev_hash: head.hash, hash, personal: personal ? JSON.stringify(personal) : null };
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // The event and the head's new hash in one round trip (the upsert above already holds the head).
    await db
      .with("event", (w) => w.insertInto("audit_events").values(row))
      .updateTable("audit_chain_heads")
      .set({ hash })
      .where("chain_key", "=", chainKey)
      .execute();
  } else {
    await db.insertInto("audit_events").values(row).execute();
    await db.updateTable("audit_chain_heads").set({ hash }).where("chain_key", "=", chainKey).execute();
  }
}

export async function listAuditForUser(db: Executor, userId: string, limit = 50) {
  return db
    .selectFrom("audit_events")
    .select(["id", "action", "account_id", "target_id", "created_at", "ip"])
    .where("actor_id", "=", userId)
    .orderBy("created_at", "desc")
    .limit(limit)
    .execute();
}

/** An event as the account's audit log shows it. */
export type AuditEntry = {
  id: string;
  seq: number;
  action: string;
  /** `userId`: the member who acted — the user, or the member an API key acted for. */
  actor: { type: string; id: string | null; email: string | null; userId: string | null };
  target: { type: string | null; id: string | null };
  changes: Record<string, unknown> | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  createdAt: string;
};

export type AuditFilter = {
  actorId?: string | undefined;
  action?: string | undefined;
  /** Matches actions starting with this text (e.g. "member."). */
  actionPrefix?: string | undefined;
  targetId?: string | undefined;
  /** Only the actions of one category (audit-categories.ts), or of another rule of the same shape. */
  category?: CategoryRule | undefined;
  /** Only events by these kinds of actor ("user", "api_key", "system"). */
  actorTypes?: readonly string[] | undefined;
  /** Inclusive, ISO 8601 UTC. */
  from?: string | undefined;
  /** Inclusive, ISO 8601 UTC. */
  to?: string | undefined;
  /** Only events older (lower seq) than this; the page cursor. */
  beforeSeq?: number | undefined;
  limit: number;
};

/** One account's events, newest (highest seq) first. */
export async function listAccountEvents(
  db: Executor,
  accountId: string,
  filter: AuditFilter,
): Promise<AuditEntry[]> {
  let query = db
    .selectFrom("audit_events as e")
    // A key's events show the email of the member it acted for.
    .leftJoin("users as u", (join) =>
      join.on((eb) => eb("u.id", "=", eb.fn.coalesce("e.actor_user_id", "e.actor_id"))),
    )
    // Someone who left the account and whose personal data there retention has anonymised.
    .leftJoin("retention_departures as gone", (join) =>
      join
        .onRef("gone.account_id", "=", "e.account_id")
        .onRef("gone.user_id", "=", "u.id")
        .on("gone.anonymised_at", "is not", null),
    )
    .select([
      "e.id",
      "e.seq",
      "e.action",
      "e.actor_type",
      "e.actor_id",
      "e.actor_user_id",
      "u.email as actor_email",
      "gone.user_id as anonymised_user",
      "e.target_type",
      "e.target_id",
      "e.changes",
      "e.personal",
      "e.ip",
      "e.user_agent",
      "e.request_id",
      "e.created_at",
    ])
    .where("e.account_id", "=", accountId);
  if (filter.actorId !== undefined) query = query.where("e.actor_id", "=", filter.actorId);
  if (filter.action !== undefined) query = query.where("e.action", "=", filter.action);
  if (filter.actionPrefix !== undefined) {
    // substr, not LIKE: "_" in an action name is not a wildcard, and SQLite's LIKE ignores case.
    const prefix = filter.actionPrefix;
    query = query.where((eb) =>
      eb(eb.fn("substr", ["e.action", eb.val(1), eb.val(prefix.length)]), "=", prefix),
    );
  }
  if (filter.targetId !== undefined) query = query.where("e.target_id", "=", filter.targetId);
  if (filter.actorTypes !== undefined) query = query.where("e.actor_type", "in", [...filter.actorTypes]);
  if (filter.category !== undefined) {
    const rule = filter.category;
    query = query.where((eb) => categoryCondition(eb, rule));
  }
  if (filter.from !== undefined) query = query.where("e.created_at", ">=", filter.from);
  if (filter.to !== undefined) query = query.where("e.created_at", "<=", filter.to);
  if (filter.beforeSeq !== undefined) query = query.where("e.seq", "<", filter.beforeSeq);
  const rows = await query.orderBy("e.seq", "desc").limit(filter.limit).execute();
  return rows.map((row) => ({
    id: row.id,
    seq: Number(row.seq),
    action: row.action,
    actor: {
      type: row.actor_type,
      id: row.actor_id,
      email: row.anonymised_user ? null : row.actor_email,
      userId: row.actor_user_id ?? (row.actor_type === "user" ? row.actor_id : null),
    },
    target: { type: row.target_type, id: row.target_id },
    changes: withPersonal(parseChanges(row.changes), parseChanges(row.personal)),
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    createdAt: row.created_at,
  }));
}

type EventsBuilder = ExpressionBuilder<Database & { e: Database["audit_events"] }, "e">;

/** substr, not LIKE: "_" in an action name is not a wildcard, and SQLite's LIKE ignores case. */
function startsWith(eb: EventsBuilder, prefix: string): Expression<SqlBool> {
  return eb(eb.fn("substr", ["e.action", eb.val(1), eb.val(prefix.length)]), "=", prefix);
}

function ruleCondition(eb: EventsBuilder, rule: CategoryRule): Expression<SqlBool> {
  const byPrefix = rule.prefixes.map((prefix) => startsWith(eb, prefix));
  const prefixed =
    byPrefix.length === 0
      ? eb.lit(false)
      : rule.except.length === 0
        ? eb.or(byPrefix)
        : eb.and([eb.or(byPrefix), eb("e.action", "not in", rule.except)]);
  return rule.exact.length === 0 ? prefixed : eb.or([eb("e.action", "in", rule.exact), prefixed]);
}

/** The category's actions; the catch-all is every action no other category takes. */
function categoryCondition(eb: EventsBuilder, rule: CategoryRule): Expression<SqlBool> {
  if (!rule.rest) return ruleCondition(eb, rule);
  const others = AUDIT_CATEGORIES.map(categoryRule).filter((r) => !r.rest);
  return eb.not(eb.or(others.map((other) => ruleCondition(eb, other))));
}

/** The event's changes as recorded: the hashed part with the personal part (while kept) back in. */
export function withPersonal(
  hashed: Record<string, unknown> | null,
  personal: Record<string, unknown> | null,
): Record<string, unknown> | null {
  return personal ? { ...hashed, ...personal } : hashed;
}

export function parseChanges(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** A stored event with its links, as the chain verifier reads it. */
export type StoredChainEvent = ChainedFields & { prev_hash: string; hash: string };

/** Every chain that has a head or an event; "" is the installation chain. */
export async function listChainKeys(db: Executor): Promise<string[]> {
  const heads = await db.selectFrom("audit_chain_heads").select("chain_key").execute();
  const events = await db.selectFrom("audit_events").select("account_id").distinct().execute();
  const cuts = await db.selectFrom("audit_checkpoints").select("account_id").execute();
  const keys = new Set([
    ...heads.map((h) => h.chain_key),
    ...events.map((e) => chainKeyOf(e.account_id)),
    ...cuts.map((c) => c.account_id),
  ]);
  return [...keys].sort();
}

export async function findChainHead(
  db: Executor,
  chainKey: string,
): Promise<{ seq: number; hash: string } | undefined> {
  const head = await db
    .selectFrom("audit_chain_heads")
    .select(["seq", "hash"])
    .where("chain_key", "=", chainKey)
    .executeTakeFirst();
  return head && { seq: Number(head.seq), hash: head.hash };
}

/** One batch of a chain in (seq, id) order, after the given position. */
/** What verifying an audit event needs: every hashed field, and the hashes. */
export const CHAIN_EVENT_COLUMNS = [
  "id",
  "account_id",
  "seq",
  "actor_type",
  "actor_id",
  "actor_user_id",
  "action",
  "target_type",
  "target_id",
  "changes",
  "ip",
  "user_agent",
  "request_id",
  "created_at",
  "prev_hash",
  "hash",
] as const;

export async function listChainEvents(
  db: Executor,
  chainKey: string,
  after: { seq: number; id: string } | undefined,
  limit: number,
): Promise<StoredChainEvent[]> {
  let query = db
    .selectFrom("audit_events")
    .select(CHAIN_EVENT_COLUMNS)
    .where(
      "account_id",
      chainKey === INSTALLATION_CHAIN ? "is" : "=",
      chainKey === INSTALLATION_CHAIN ? null : chainKey,
    );
  if (after) {
    const { seq, id } = after;
    query = query.where((eb) =>
      eb.or([eb("seq", ">", seq), eb.and([eb("seq", "=", seq), eb("id", ">", id)])]),
    );
  }
  const rows = await query.orderBy("seq").orderBy("id").limit(limit).execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}
