import type { FastifyBaseLogger } from "fastify";

/**
 * Facts gathered in memory on the request path (an API key's last use…) and written to the database
 * every few seconds and at shutdown, so no request waits for a write of its own. A process killed
 * without shutdown loses at most one interval of them. Each buffer registers its flush here; main.ts
 * starts the timer, and `stop` (from services.close) writes what is left.
 */
export function createWriteBehind(deps: { log: FastifyBaseLogger; intervalMs?: number }) {
  const flushes = new Map<string, () => Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function flushAll(): Promise<void> {
    for (const [name, flush] of flushes) {
      try {
        await flush();
      } catch (error) {
        // Kept in memory by the buffer and tried again at the next flush.
        deps.log.warn({ err: error, buffer: name }, "write-behind flush failed");
      }
    }
  }

  /** One flush at a time: a tick that comes while one runs waits for it and then runs again. */
  async function flush(): Promise<void> {
    while (running) await running;
    running = flushAll().finally(() => {
      running = undefined;
    });
    return running;
  }

  return {
    register(name: string, flushBuffer: () => Promise<void>) {
      flushes.set(name, flushBuffer);
    },
    flush,
    start() {
      if (timer) return;
      timer = setInterval(() => void flush(), deps.intervalMs ?? 5000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await flush();
    },
  };
}

export type WriteBehind = ReturnType<typeof createWriteBehind>;
