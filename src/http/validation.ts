import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";
import type { FieldError } from "./errors.js";

function createAjv(coerceTypes: boolean) {
  const ajv = new Ajv({
    allErrors: true,
    coerceTypes,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats.default(ajv, ["email", "date-time", "uri", "uuid"]);
  return ajv;
}

/**
 * One Ajv per app (never shared between apps in a process). Bodies are JSON and must arrive with the
 * right types; query strings and path params are always text, so they are coerced.
 */
export function createValidatorCompiler(sharedSchemas: readonly object[]): FastifySchemaCompiler<unknown> {
  const bodyAjv = createAjv(false);
  const textAjv = createAjv(true);
  for (const schema of sharedSchemas) {
    bodyAjv.addSchema(schema);
    textAjv.addSchema(schema);
  }
  return ({ schema, httpPart }) => (httpPart === "body" ? bodyAjv : textAjv).compile(schema as object);
}

const CODES: Record<string, string> = {
  required: "required",
  type: "invalid_type",
  maxLength: "too_long",
  minLength: "too_short",
  additionalProperties: "unknown_field",
  format: "invalid_format",
  pattern: "invalid_format",
  enum: "invalid_value",
  const: "invalid_value",
  anyOf: "invalid_value",
  minimum: "too_small",
  maximum: "too_large",
};

/** Ajv's findings → field errors a form can place next to the right input. */
export function toFieldErrors(all: ErrorObject[], part: string): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of preferSpecific(all)) {
    let path = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
    const params = error.params as Record<string, unknown>;
    if (error.keyword === "required") path = [path, params.missingProperty].filter(Boolean).join(".");
    if (error.keyword === "additionalProperties")
      path = [path, params.additionalProperty].filter(Boolean).join(".");
    const code = CODES[error.keyword] ?? "invalid";
    const key = `${path}:${code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: path || part, code, message: messageFor(error, code) });
  }
  return out;
}

/**
 * A union (nullable field, enum of literals) fails with one complaint per member plus an "anyOf"
 * summary. When a member got past the type check its complaint is the useful one ("too short");
 * otherwise the summary ("not one of the allowed values") is.
 */
function preferSpecific(errors: ErrorObject[]): ErrorObject[] {
  const unionPaths = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  const specific = (e: ErrorObject) =>
    e.schemaPath.includes("/anyOf/") &&
    unionPaths.has(e.instancePath) &&
    e.keyword !== "type" &&
    e.keyword !== "const";
  return errors.filter((e) => {
    if (!unionPaths.has(e.instancePath)) return true;
    const hasSpecific = errors.some((o) => o.instancePath === e.instancePath && specific(o));
    return hasSpecific ? specific(e) : e.keyword === "anyOf";
  });
}

function messageFor(error: ErrorObject, code: string): string {
  const params = error.params as Record<string, unknown>;
  switch (code) {
    case "required":
      return "This field is required";
    case "unknown_field":
      return `Unknown field "${String(params.additionalProperty)}"`;
    case "too_long":
      return `Must be at most ${String(params.limit)} characters`;
    case "too_short":
      return Number(params.limit) === 1
        ? "Must not be empty"
        : `Must be at least ${String(params.limit)} characters`;
    case "invalid_type":
      return `Must be ${String(params.type)}`;
    case "invalid_format":
      return params.format === "email"
        ? "Not a valid email address"
        : `Not a valid ${String(params.format ?? "value")}`;
    case "invalid_value":
      return "Not one of the allowed values";
    default:
      return error.message ?? "Invalid value";
  }
}
