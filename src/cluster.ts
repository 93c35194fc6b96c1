import cluster, { type Worker } from "node:cluster";
import type pino from "pino";
import type { Config } from "./config.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";

/**
 * A replaced worker waits 1 s, doubling to 30 s while replacements keep dying; a worker that served for
 * a minute resets that. A worker that cannot start before any has served (port taken, database away)
 * stops the whole server instead: a loop of restarts would only hide the cause.
 */
export const WORKER_RESTART = { initialMs: 1000, maxMs: 30_000, stableMs: 60_000 };

/** The primary's word to its workers: drain and exit (see drainOnPrimaryShutdown). */
type ShutdownMessage = { gatehouse: "shutdown"; signal: NodeJS.Signals };

const isShutdownMessage = (message: unknown): message is ShutdownMessage =>
  typeof message === "object" && message !== null && (message as ShutdownMessage).gatehouse === "shutdown";

/** This process should fork WORKERS servers rather than serve (config.ts allows that on PostgreSQL only). */
export function isClusterPrimary(config: Config): boolean {
  return config.workers > 1 && cluster.isPrimary;
}

/** A cluster worker: its primary has applied the migrations before forking it. */
export const isClusterWorker = (): boolean => cluster.isWorker;

/**
 * In a worker, runs `shutdown` when the primary asks for a drain. Signals can reach a worker directly too
 * (Ctrl+C signals the whole process group), so `shutdown` must ignore a request while already stopping.
 */
export function drainOnPrimaryShutdown(shutdown: (signal: NodeJS.Signals) => void): void {
  if (!cluster.isWorker) return;
  process.on("message", (message: unknown) => {
    if (isShutdownMessage(message)) shutdown(message.signal);
  });
}

/**
 * The primary of WORKERS processes serving one port (node:cluster hands connections out round-robin):
 * applies the migrations once, closes its database connection, forks the workers, replaces one that
 * dies, and on SIGTERM/SIGINT drains them all (each a graceful shutdown within SHUTDOWN_TIMEOUT_SECONDS)
 * and exits 0, or 1 when a worker could not finish in time. A second signal ends everything at once.
 * Jobs need nothing here: every worker runs the job loop, and each run is claimed once in `jobs`.
 */
export async function runClusterPrimary(config: Config, log: pino.Logger): Promise<void> {
  const database = openDatabase(config.databaseUrl, { poolSize: 1 });
  try {
    const applied = await migrateToLatest(database);
    if (applied.length) log.info({ migrations: applied }, "migrations applied");
  } finally {
    await database.close();
  }

  const startedAt = new Map<Worker, number>();
  let served = false;
  let listening = 0;
  let failures = 0;
  let stopping = false;
  let failedToFinish = false;
  const pendingForks = new Set<NodeJS.Timeout>();

  const fork = () => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    return worker;
  };
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const killAll = () => {
    for (const worker of alive()) worker.process.kill("SIGKILL");
  };

  cluster.on("listening", (_worker, address) => {
    if (served) return;
    listening++;
    if (listening < config.workers) return;
    served = true;
    log.info({ workers: config.workers, port: address.port }, `${config.workers} workers are serving`);
  });

  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (stopping) {
      if (code !== 0) failedToFinish = true;
      if (alive().length === 0) finish();
      return;
    }
    if (!served) {
      log.error({ pid: worker.process.pid, code, signal }, "a worker could not start: stopping");
      stopping = true;
      failedToFinish = true;
      for (const other of alive()) other.process.kill("SIGTERM");
      if (alive().length === 0) finish();
      return;
    }
    failures = lived >= WORKER_RESTART.stableMs ? 1 : failures + 1;
    const delayMs = Math.min(WORKER_RESTART.maxMs, WORKER_RESTART.initialMs * 2 ** (failures - 1));
    log.error(
      { pid: worker.process.pid, code, signal, restart_in_ms: delayMs },
      "a worker died unexpectedly: replacing it",
    );
    const timer = setTimeout(() => {
      pendingForks.delete(timer);
      if (!stopping) fork();
    }, delayMs);
    pendingForks.add(timer);
  });

  const finish = () => {
    log.info({ code: failedToFinish ? 1 : 0 }, "stopped");
    process.exit(failedToFinish ? 1 : 0);
  };

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting without finishing");
      killAll();
      process.exit(1);
    }
    stopping = true;
    for (const timer of pendingForks) clearTimeout(timer);
    // Each worker keeps its own deadline; this one only catches a worker that ignores it.
    setTimeout(
      () => {
        log.error({ signal }, "workers did not stop after the shutdown deadline: killing them");
        killAll();
        process.exit(1);
      },
      (config.shutdownTimeoutSeconds + 5) * 1000,
    ).unref();
    log.info({ signal, workers: alive().length }, "shutting down: draining every worker");
    const message: ShutdownMessage = { gatehouse: "shutdown", signal };
    for (const worker of alive()) if (worker.isConnected()) worker.send(message);
    if (alive().length === 0) finish();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);

  for (let i = 0; i < config.workers; i++) fork();
}
