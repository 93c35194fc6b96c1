import type { FastifySchemaCompiler } from "fastify";
import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
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
export function toFieldErrors(errors: ErrorObject[], part: string): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const error of errors) {
    let path = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
    const params = error.params as Record<string, unknown>;
    if (error.keyword === "required") path = [path, params.missingProperty].filter(Boolean).join(".");
    if (error.keyword === "additionalProperties") path = [path, params.additionalProperty].filter(Boolean).join(".");
    // A union's members each complain; the "anyOf" summary is the one worth showing.
    if (error.schemaPath.includes("/anyOf/") && errors.some((e) => e.keyword === "anyOf" && e.instancePath === error.instancePath)) continue;
    const code = CODES[error.keyword] ?? "invalid";
    const key = `${path}:${code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: path || part, code, message: messageFor(error, code) });
  }
  return out;
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
      return Number(params.limit) === 1 ? "Must not be empty" : `Must be at least ${String(params.limit)} characters`;
    case "invalid_type":
      return `Must be ${String(params.type)}`;
    case "invalid_format":
      return params.format === "email" ? "Not a valid email address" : `Not a valid ${String(params.format ?? "value")}`;
    case "invalid_value":
      return "Not one of the allowed values";
    default:
      return error.message ?? "Invalid value";
  }
}
