import pino from "pino";
import { buildApp, loggerOptions } from "./app.js";
import { SYSTEM_ACTOR } from "./audit/audit.repository.js";
import { ConfigError, loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { createClock } from "./lib/clock.js";
import { createServices } from "./services.js";

async function main() {
  const config = loadConfig();
  const log = pino(loggerOptions(config) as pino.LoggerOptions);
  const database = openDatabase(config.databaseUrl);
  const applied = await migrateToLatest(database);
  if (applied.length) log.info({ migrations: applied }, "migrations applied");
  const services = await createServices({ config, database, clock: createClock(), log });
  const app = await buildApp(config, services, { logger: log });

  // Scheduled jobs: billing renewals (several instances may run them; each renewal locks its account).
  const jobs = setInterval(() => {
    services.billing
      .renewDue(SYSTEM_ACTOR)
      .catch((error: unknown) => log.error({ err: error }, "billing renewals"));
  }, 60_000);
  jobs.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(jobs);
    app.log.info({ signal }, "shutting down: finishing in-flight requests");
    // Fastify stops accepting, answers 503 to new requests and waits for in-flight ones.
    await app.close();
    await services.close();
    await database.close();
    app.log.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

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
