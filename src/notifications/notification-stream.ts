import type { FastifyBaseLogger } from "fastify";
import type { Invalidator } from "../auth/session-cache.js";
import type { Db, Effects, Executor } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import type {
  Notification,
  NotificationCursor,
  NotificationsRepository,
} from "./notifications.repository.js";

/** Messages on the cache invalidation channel that mean "this user has new notifications". */
const PREFIX = "ntf:";

/** Comment lines keep idle streams open through proxies that drop silent connections. */
export const HEARTBEAT_SECONDS = 25;

export type StreamSink = {
  send(notification: Notification): void;
  end(): void;
};

type Stream = StreamSink & { userId: string; cursor: NotificationCursor; chain: Promise<void> };

/**
 * Live notifications for open `GET /me/notifications/stream` requests. The writer says "user X has new
 * ones" on the invalidation channel (PostgreSQL NOTIFY inside the fan-out transaction, so it is heard
 * exactly when it commits, by every process; on SQLite in this process after the commit), and each
 * process reads what its open streams have not sent yet from the database. A lost or doubled message
 * costs nothing: every stream keeps its own place, and a reconnected LISTEN (`*`) makes them all look.
 */
export function createNotificationHub(deps: {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  invalidator: Invalidator;
  repository: NotificationsRepository;
}) {
  const { db, log, invalidator, repository } = deps;
  const streams = new Map<string, Set<Stream>>();

  const pull = (stream: Stream) => {
    stream.chain = stream.chain.then(async () => {
      try {
        for (;;) {
          const fresh = await repository.listNewer(db, stream.userId, stream.cursor);
          for (const notification of fresh) {
            stream.cursor = { createdAt: notification.createdAt, id: notification.id };
            stream.send(notification);
          }
          if (fresh.length < 100) return;
        }
      } catch (error) {
        log.warn(
          { err: error, user_id: stream.userId },
          "notification stream could not read new notifications",
        );
      }
    });
  };

  invalidator.onInvalidate((message) => {
    if (message === "*") {
      for (const set of streams.values()) for (const stream of set) pull(stream);
      return;
    }
    if (!message.startsWith(PREFIX)) return;
    for (const stream of streams.get(message.slice(PREFIX.length)) ?? []) pull(stream);
  });

  return {
    /** In the transaction that wrote the users' notifications: tells every process once it commits. */
    async publish(trx: Executor, effects: Effects, userIds: Iterable<string>): Promise<void> {
      for (const userId of new Set(userIds)) {
        await invalidator.publish(trx, `${PREFIX}${userId}`);
        effects.afterCommit(() => invalidator.deliverLocally(`${PREFIX}${userId}`));
      }
    },

    /** Opens a stream of the user's notifications created from now on. */
    open(userId: string, sink: StreamSink): () => void {
      const stream: Stream = {
        ...sink,
        userId,
        cursor: { createdAt: deps.clock.now().toISOString(), id: "" },
        chain: Promise.resolve(),
      };
      const set = streams.get(userId) ?? new Set<Stream>();
      set.add(stream);
      streams.set(userId, set);
      return () => {
        set.delete(stream);
        if (set.size === 0 && streams.get(userId) === set) streams.delete(userId);
      };
    },

    /** Open streams (tests, benchmarks). */
    openCount: () => [...streams.values()].reduce((n, set) => n + set.size, 0),

    /** Ends every open stream (server shutdown), so the process can exit. */
    closeAll(): void {
      for (const set of streams.values()) for (const stream of set) stream.end();
      streams.clear();
    },
  };
}

export type NotificationHub = ReturnType<typeof createNotificationHub>;
