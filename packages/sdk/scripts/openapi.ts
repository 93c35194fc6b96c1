import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import pino from "pino";
import { buildApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import { openDatabase } from "../../../src/db/database.js";
import { migrateToLatest } from "../../../src/db/migrate.js";
import { createClock } from "../../../src/lib/clock.js";
import { createServices } from "../../../src/services.js";

export const SCHEMA_FILE = new URL("../src/schema.d.ts", import.meta.url);

/** Gatehouse's OpenAPI document, as `GET /openapi.json` serves it, from the real app (no server, no listener). */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-openapi-"));
  // A fixed PUBLIC_URL: the document's `servers` entry is part of the generated file.
  const config = loadConfig({
    NODE_ENV: "test",
    PUBLIC_URL: "http://localhost:8080",
    DATABASE_URL: "sqlite::memory:",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DATA_DIR: dataDir,
  });
  const log = pino({ level: "silent" });
  const database = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database);
    const services = await createServices({ config, database, clock: createClock(), log });
    const app = await buildApp(config, services, { logger: log });
    try {
      await app.ready();
      return app.swagger() as unknown as Record<string, unknown>;
    } finally {
      await app.close();
      await services.close();
    }
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The text of src/schema.d.ts for this document. */
export async function schemaSource(document: Record<string, unknown>): Promise<string> {
  // biome-ignore lint/suspicious/noExplicitAny: openapi-typescript takes its own OpenAPI3 type; the document is Fastify's
  const ast = await openapiTS(document as any);
  return `/**\n * Generated from Gatehouse's OpenAPI document by \`npm run sdk:generate\`: do not edit by hand.\n */\n\n${astToString(ast)}`;
}
