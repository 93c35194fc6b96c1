import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildOpenApiDocument, SCHEMA_FILE, schemaSource } from "./openapi.js";

const source = await schemaSource(await buildOpenApiDocument());
writeFileSync(SCHEMA_FILE, source);
console.log(`wrote ${fileURLToPath(SCHEMA_FILE)} (${source.length} characters)`);
