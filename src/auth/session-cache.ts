import { createHash } from "node:crypto";
import pg from "pg";
import { type Executor, notifyAlong } from "../db/database.js";
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

/**
 * The NOTIFY channel of the processes sharing one schema: installations (or test workers) in other
 * schemas of the same database have their own, so they do not hear each other's changes. A channel name
 * is at most 63 bytes; a longer schema name is stood in for by its hash.
 */
export function invalidationChannel(schema?: string): string {
  if (!schema) return "gatehouse_sessions";
  const channel = `gatehouse_sessions.${schema}`;
  if (Buffer.byteLength(channel) <= 63) return channel;
  return `gatehouse_sessions.${createHash("sha256").update(schema).digest("hex").slice(0, 40)}`;
}

/** Reconnection of the LISTEN connection: 0.25 s doubling to 10 s, each delay jittered. */
export const LISTEN_RECONNECT = { initialMs: 250, maxMs: 10_000 };

/**
 * The wait before reconnection attempt `attempt` (0 = the first): a random point in the upper half of
 * 0.25 s · 2^attempt, capped at 10 s, so processes that lost the database together do not return in step.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(LISTEN_RECONNECT.maxMs, LISTEN_RECONNECT.initialMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export type InvalidatorEvents = {
  /** The LISTEN connection failed or an attempt to restore it did. */
  error(error: unknown): void;
  /** Listening again after a loss; everything cached before was dropped. */
  restored(): void;
};

/**
 * While the LISTEN connection is down this process cannot hear invalidations, so `healthy()` is false
 * (caches are bypassed) and it reconnects with backoff. Every cache is emptied when the connection is
 * lost and again once it listens again: a value loaded while deaf may predate an invalidation it missed.
 */
export async function createPostgresInvalidator(
  config: pg.ClientConfig,
  events: InvalidatorEvents,
  schema?: string,
) {
  const channel = invalidationChannel(schema);
  const listeners: Array<(userId: string) => void> = [];
  let client: pg.Client | undefined;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | undefined;
  const dropEverything = () => {
    for (const l of listeners) l("*");
  };

  const scheduleReconnect = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      listen().then(
        () => {
          if (!closed) events.restored();
        },
        (error: unknown) => {
          events.error(error);
          scheduleReconnect();
        },
      );
    }, reconnectDelayMs(attempt++));
    retry.unref();
  };

  const lost = (which: pg.Client) => {
    which.end().catch(() => {});
    if (which !== client) return;
    client = undefined;
    dropEverything();
    scheduleReconnect();
  };

  const listen = async () => {
    const next = new pg.Client({ ...config, keepAlive: true });
    next.on("notification", (message) => {
      if (message.channel === channel && message.payload) for (const l of listeners) l(message.payload);
    });
    next.on("error", (error) => {
      if (next === client) events.error(error);
      lost(next);
    });
    next.on("end", () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${next.escapeIdentifier(channel)}`);
    } catch (error) {
      lost(next);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
    attempt = 0;
    dropEverything();
  };
  await listen();

  const invalidator: Invalidator = {
    publish: async (trx, userId) => {
      // With the transaction's audit event, or just before its commit (src/db/database.ts).
      await notifyAlong(trx, channel, userId);
    },
    onInvalidate: (listener) => {
      listeners.push(listener);
    },
    healthy: () => client !== undefined,
    deliverLocally: (message) => {
      for (const l of listeners) l(message);
    },
    close: async () => {
      closed = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => {});
    },
  };
  return invalidator;
}

type Entry = { session: Session; cachedAt: number; token: string | undefined };

/**
 * Sessions by token hash, so most authenticated requests cost no query. Entries live at most
 * `ttlMs` (a bound even if a notification were lost) and are dropped the moment any process revokes
 * a session of that user, or announces a change to the account a session is in (`acct:<id>`: its
 * session limits may have changed).
 */
export function createSessionCache(
  invalidator: Invalidator,
  options = { maxEntries: 50_000, ttlMs: 30_000 },
) {
  const byHash = new Map<string, Entry>();
  // Raw cookie value → token hash, for entries whose token this process has seen: a hit then costs no
  // SHA-256. Only this process's memory holds raw tokens (every request carries them anyway); the
  // database keeps only their hashes.
  const hashByToken = new Map<string, string>();
  const hashesByUser = new Map<string, Set<string>>();
  const hashesByAccount = new Map<string, Set<string>>();
  // Bumped on every invalidation: a lookup that started before one must not be cached after it.
  let generation = 0;

  const index = (map: Map<string, Set<string>>, key: string | null, tokenHash: string) => {
    if (key === null) return;
    const hashes = map.get(key) ?? new Set<string>();
    hashes.add(tokenHash);
    map.set(key, hashes);
  };
  const unindex = (map: Map<string, Set<string>>, key: string | null, tokenHash: string) => {
    if (key === null) return;
    const hashes = map.get(key);
    hashes?.delete(tokenHash);
    if (hashes?.size === 0) map.delete(key);
  };

  const forget = (tokenHash: string) => {
    const entry = byHash.get(tokenHash);
    if (!entry) return;
    byHash.delete(tokenHash);
    if (entry.token !== undefined) hashByToken.delete(entry.token);
    unindex(hashesByUser, entry.session.userId, tokenHash);
    unindex(hashesByAccount, entry.session.accountId, tokenHash);
  };

  const evictUser = (userId: string) => {
    generation++;
    if (userId === "*") {
      byHash.clear();
      hashByToken.clear();
      hashesByUser.clear();
      hashesByAccount.clear();
      return;
    }
    for (const hash of [...(hashesByUser.get(userId) ?? [])]) forget(hash);
  };
  const evictAccount = (accountId: string) => {
    generation++;
    for (const hash of [...(hashesByAccount.get(accountId) ?? [])]) forget(hash);
  };
  // Messages are a user id, `*`, `acct:<id>`, or another cache's (`key:…`, `ntf:…`), which must not
  // evict anything here nor keep a session from being cached.
  invalidator.onInvalidate((message) => {
    if (message.startsWith("acct:")) evictAccount(message.slice(5));
    else if (!message.includes(":")) evictUser(message);
  });

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
    /** By the raw cookie value, for a session cached with its token: no hashing. */
    getByToken(token: string): Session | undefined {
      const tokenHash = hashByToken.get(token);
      return tokenHash === undefined ? undefined : this.get(tokenHash);
    },
    /** The generation to pass back to `set` for a lookup that starts now. */
    generation: () => generation,
    set(session: Session, startedAt = generation, token?: string): void {
      if (!invalidator.healthy() || startedAt !== generation) return;
      // A touched session replaces its entry (it may be in another account now).
      const previous = byHash.get(session.tokenHash);
      forget(session.tokenHash);
      const known = token ?? previous?.token;
      if (byHash.size >= options.maxEntries) {
        const oldest = byHash.keys().next().value;
        if (oldest !== undefined) forget(oldest);
      }
      byHash.set(session.tokenHash, { session, cachedAt: Date.now(), token: known });
      if (known !== undefined) hashByToken.set(known, session.tokenHash);
      index(hashesByUser, session.userId, session.tokenHash);
      index(hashesByAccount, session.accountId, session.tokenHash);
    },
    evictUser,
    evictAccount,
    size: () => byHash.size,
  };
}

export type SessionCache = ReturnType<typeof createSessionCache>;
