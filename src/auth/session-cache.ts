import { sql } from "kysely";
import pg from "pg";
import type { Executor } from "../db/database.js";
import type { Session } from "./sessions.repository.js";

/**
 * Carries "this user's sessions changed" to every process. On PostgreSQL it is NOTIFY sent inside the
 * revoking transaction (so it is delivered exactly when the revocation commits) and LISTEN in every
 * process. On SQLite there is only one process, so nothing needs to travel.
 */
export type Invalidator = {
  publish(trx: Executor, userId: string): Promise<void>;
  onInvalidate(listener: (userId: string) => void): void;
  /** False while the LISTEN connection is down: then the cache must not be trusted. */
  healthy(): boolean;
  /** Tells this process's listeners at once (after a commit), without waiting for the database. */
  deliverLocally(message: string): void;
  close(): Promise<void>;
};

export function createLocalInvalidator(): Invalidator {
  const listeners: Array<(message: string) => void> = [];
  return {
    publish: async () => {},
    onInvalidate: (listener) => {
      listeners.push(listener);
    },
    healthy: () => true,
    deliverLocally: (message) => {
      for (const l of listeners) l(message);
    },
    close: async () => {},
  };
}

const CHANNEL = "gatehouse_sessions";

export async function createPostgresInvalidator(config: pg.ClientConfig, onError: (e: unknown) => void) {
  const listeners: Array<(userId: string) => void> = [];
  let client: pg.Client | undefined;
  let connected = false;
  let closed = false;

  const connect = async () => {
    const next = new pg.Client(config);
    next.on("notification", (message) => {
      if (message.channel === CHANNEL && message.payload) for (const l of listeners) l(message.payload);
    });
    next.on("error", (error) => {
      connected = false;
      onError(error);
    });
    next.on("end", () => {
      connected = false;
      // Whatever was cached may have been revoked while we were not listening.
      for (const l of listeners) l("*");
      if (!closed) setTimeout(() => connect().catch(onError), 1000).unref();
    });
    await next.connect();
    await next.query(`LISTEN ${CHANNEL}`);
    client = next;
    connected = true;
  };
  await connect();

  const invalidator: Invalidator = {
    publish: async (trx, userId) => {
      await sql`select pg_notify(${CHANNEL}, ${userId})`.execute(trx);
    },
    onInvalidate: (listener) => {
      listeners.push(listener);
    },
    healthy: () => connected,
    deliverLocally: (message) => {
      for (const l of listeners) l(message);
    },
    close: async () => {
      closed = true;
      await client?.end().catch(() => {});
    },
  };
  return invalidator;
}

type Entry = { session: Session; cachedAt: number };

/**
 * Sessions by token hash, so most authenticated requests cost no query. Entries live at most
 * `ttlMs` (a bound even if a notification were lost) and are dropped the moment any process revokes
 * a session of that user.
 */
export function createSessionCache(
  invalidator: Invalidator,
  options = { maxEntries: 50_000, ttlMs: 30_000 },
) {
  const byHash = new Map<string, Entry>();
  const hashesByUser = new Map<string, Set<string>>();
  // Bumped on every invalidation: a lookup that started before one must not be cached after it.
  let generation = 0;

  const forget = (tokenHash: string) => {
    const entry = byHash.get(tokenHash);
    if (!entry) return;
    byHash.delete(tokenHash);
    const hashes = hashesByUser.get(entry.session.userId);
    hashes?.delete(tokenHash);
    if (hashes?.size === 0) hashesByUser.delete(entry.session.userId);
  };

  const evictUser = (userId: string) => {
    generation++;
    if (userId === "*") {
      byHash.clear();
      hashesByUser.clear();
      return;
    }
    for (const hash of hashesByUser.get(userId) ?? []) byHash.delete(hash);
    hashesByUser.delete(userId);
  };
  invalidator.onInvalidate(evictUser);

  return {
    get(tokenHash: string): Session | undefined {
      if (!invalidator.healthy()) return undefined;
      const entry = byHash.get(tokenHash);
      if (!entry) return undefined;
      if (Date.now() - entry.cachedAt > options.ttlMs) {
        forget(tokenHash);
        return undefined;
      }
      return entry.session;
    },
    /** The generation to pass back to `set` for a lookup that starts now. */
    generation: () => generation,
    set(session: Session, startedAt = generation): void {
      if (!invalidator.healthy() || startedAt !== generation) return;
      if (byHash.size >= options.maxEntries) {
        const oldest = byHash.keys().next().value;
        if (oldest !== undefined) forget(oldest);
      }
      byHash.set(session.tokenHash, { session, cachedAt: Date.now() });
      const hashes = hashesByUser.get(session.userId) ?? new Set<string>();
      hashes.add(session.tokenHash);
      hashesByUser.set(session.userId, hashes);
    },
    evictUser,
    size: () => byHash.size,
  };
}

export type SessionCache = ReturnType<typeof createSessionCache>;
