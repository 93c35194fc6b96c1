import type { FastifyBaseLogger } from "fastify";
import { Redis } from "ioredis";
import { sql } from "kysely";
import type { Db } from "../db/database.js";

/**
 * Where API keys' per-minute counters live. `hit` counts one request of `keyId` in minute `minute`
 * (minutes since the epoch) and returns the count including it, atomically across everything that
 * shares the store.
 */
export type RateLimitStore = {
  readonly name: "redis" | "database" | "memory";
  hit(keyId: string, minute: number): Promise<number>;
};

/** One process's counters (SQLite: the embedded mode is one process). */
export function createMemoryStore(): RateLimitStore {
  const counters = new Map<string, { minute: number; count: number }>();
  return {
    name: "memory",
    async hit(keyId, minute) {
      const counter = counters.get(keyId);
      if (counter?.minute === minute) return ++counter.count;
      // Past windows are dropped as keys come back; a sweep keeps keys that went quiet from piling up.
      if (counters.size >= 100_000) {
        for (const [id, c] of counters) if (c.minute < minute) counters.delete(id);
      }
      counters.set(keyId, { minute, count: 1 });
      return 1;
    },
  };
}

/** PostgreSQL's counters without Redis: one atomic upsert a request; `purgeRateWindows` deletes old ones. */
export function createDatabaseStore(db: Db): RateLimitStore {
  return {
    name: "database",
    async hit(keyId, minute) {
      const row = await db
        .insertInto("api_rate_windows")
        .values({ key_id: keyId, minute, count: 1 })
        .onConflict((oc) =>
          oc.columns(["key_id", "minute"]).doUpdateSet({ count: sql<number>`api_rate_windows.count + 1` }),
        )
        .returning("count")
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}

/** Deletes the counters of windows that closed before `minute` (the job loop's `api-rate-windows` job). */
export async function purgeRateWindows(db: Db, minute: number): Promise<{ deleted: number }> {
  const result = await db.deleteFrom("api_rate_windows").where("minute", "<", minute).executeTakeFirst();
  return { deleted: Number(result.numDeletedRows) };
}

// INCR and its expiry in one step: a crash between them cannot leave a counter that never expires.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

/** A counter outlives its minute by another: enough for clocks that differ a little between processes. */
const REDIS_COUNTER_TTL_MS = 120_000;

/** Redis's counters: one script call a request, no database query; `<prefix>rl:<key id>:<minute>`. */
export function createRedisStore(redis: Redis, prefix: string): RateLimitStore {
  return {
    name: "redis",
    async hit(keyId, minute) {
      const count = await redis.eval(HIT_SCRIPT, 1, `${prefix}rl:${keyId}:${minute}`, REDIS_COUNTER_TTL_MS);
      return Number(count);
    },
  };
}

/**
 * A Redis connection for the counters that never queues: while Redis is unreachable, commands fail at
 * once (and the fallback store answers) and ioredis reconnects in the background.
 */
export async function connectRedis(url: string, log: FastifyBaseLogger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  // Every failed attempt is an `error` event; the fallback store logs the outage once instead.
  redis.on("error", (error) => log.debug({ err: error }, "Redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    log.warn(
      { err: error },
      "Redis unreachable at start: API rate limits count in the database until it is back",
    );
  }
  return redis;
}

/**
 * `primary` (Redis) while it answers, else `fallback` (the database, or memory on SQLite): an identity
 * service does not stop limiting because a cache is down, nor stop serving. The switch is logged once
 * each way. Counts made meanwhile stay in the fallback, so a window that spans the switch may let a
 * key make up to twice its limit.
 */
export function createFallbackStore(
  primary: RateLimitStore,
  fallback: RateLimitStore,
  log: FastifyBaseLogger,
): RateLimitStore & { degraded(): boolean } {
  let degraded = false;
  return {
    get name() {
      return degraded ? fallback.name : primary.name;
    },
    degraded: () => degraded,
    async hit(keyId, minute) {
      try {
        const count = await primary.hit(keyId, minute);
        if (degraded) {
          degraded = false;
          log.info(`API rate limits count in ${primary.name} again`);
        }
        return count;
      } catch (error) {
        if (!degraded) {
          degraded = true;
          log.warn(
            { err: error },
            `${primary.name} unreachable: API rate limits count in ${fallback.name} meanwhile`,
          );
        }
        return fallback.hit(keyId, minute);
      }
    },
  };
}
