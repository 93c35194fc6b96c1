import pino from "pino";
import { buildApp, loggerOptions } from "./app.js";
import { drainOnPrimaryShutdown, isClusterPrimary, isClusterWorker, runClusterPrimary } from "./cluster.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { createClock } from "./lib/clock.js";
import { createServices } from "./services.js";

async function main() {
  const config = loadConfig();
  // Synchronous writes: pino's asynchronous stream flushes at exit and, when stdout is a closed pipe
  // (the parent went away), retries that flush forever, so the process could never exit.
  const log = pino(loggerOptions(config) as pino.LoggerOptions, pino.destination({ dest: 1, sync: true }));
  // WORKERS > 1: this process migrates, then forks the servers and watches them (src/cluster.ts).
  if (isClusterPrimary(config)) return runClusterPrimary(config, log);
  const database = openDatabase(config.databaseUrl);
  const applied = isClusterWorker() ? [] : await migrateToLatest(database);
  if (applied.length) log.info({ migrations: applied }, "migrations applied");
  const services = await createServices({ config, database, clock: createClock(), log });
  const app = await buildApp(config, services, { logger: log });

  // The job loop (renewals, payment retries, purge, reset requests, mail delivery): every process runs
  // it; each run is claimed by one of them in the `jobs` table.
  services.jobs.start();
  // Buffered facts (API keys' last use…) go to the database every few seconds, and at shutdown.
  services.writeBehind.start();

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting without finishing");
      process.exit(1);
    }
    stopping = true;
    setTimeout(() => {
      log.error(
        { signal, timeout_seconds: config.shutdownTimeoutSeconds },
        "shutdown deadline passed: exiting without finishing",
      );
      process.exit(1);
    }, config.shutdownTimeoutSeconds * 1000).unref();
    app.log.info({ signal }, "shutting down: finishing in-flight requests and running jobs");
    // Fastify stops accepting, answers 503 to new requests and waits for in-flight ones; the job loop
    // starts nothing new and waits for the runs going on. Mail queued meanwhile stays in the queue.
    await Promise.all([app.close(), services.jobs.stop()]);
    await services.close();
    await database.close();
    app.log.info("stopped");
    process.exit(0);
  };
  const onSignal = (signal: NodeJS.Signals) =>
    shutdown(signal).catch((error: unknown) => {
      log.error({ err: error }, "shutdown failed");
      process.exit(1);
    });
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  drainOnPrimaryShutdown((signal) => {
    if (!stopping) void onSignal(signal);
  });

  const address = await app.listen({ port: config.port, host: config.host });
  app.log.info(`Gatehouse is ready at ${config.port === 0 ? address : config.publicUrl}`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
