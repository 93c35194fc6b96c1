import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument, SCHEMA_FILE, schemaSource } from "../scripts/openapi.js";

describe("generated schema", () => {
  it("src/schema.d.ts matches the app's OpenAPI document (run `npm run sdk:generate` when this fails)", async () => {
    const fresh = await schemaSource(await buildOpenApiDocument());
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    // Not toEqual on 480 kB: a short message that says what to do.
    expect(committed === fresh, "packages/sdk/src/schema.d.ts is stale: run `npm run sdk:generate`").toBe(
      true,
    );
  }, 120_000);
});
