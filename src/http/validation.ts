import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { FastifyInstance, FastifyRequest, FastifySchemaCompiler } from "fastify";
import { COUNTRIES, COUNTRY_MESSAGE } from "../accounts/organization.js";
import { normalizePhone, PHONE_MESSAGE, PHONE_NUMBER_MESSAGE } from "../lib/phone.js";
import { isTimezone, TIMEZONE_MESSAGE } from "../lib/time-zones.js";
import { PERMISSION_KEY_PATTERN } from "../roles/permissions.js";
import { type FieldError, invalidFields } from "./errors.js";

function createAjv(coerceTypes: boolean) {
  const ajv = new Ajv({
    allErrors: true,
    coerceTypes,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
  });
  addFormats.default(ajv, ["email", "date-time", "uri", "uuid"]);
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format.check);
  return ajv;
}

/**
 * Control characters no field holds: NUL (PostgreSQL refuses it in text), the other C0 controls and DEL.
 * Tab, newline and carriage return stay allowed in bodies (descriptions, messages); path segments and
 * query values are single-line, so they allow no control character at all.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_IN_LINE = /[\u0000-\u001f\u007f]/;

/**
 * JSON-pointer paths of every string (or object key) in `value` that holds a forbidden character.
 * Iterative: a body may nest thousands of levels deep.
 */
export function controlCharacterPaths(value: unknown, forbidden: RegExp): string[] {
  const found: string[] = [];
  const pending: Array<[unknown, string]> = [[value, ""]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === "string") {
      if (forbidden.test(item)) found.push(path);
    } else if (item !== null && typeof item === "object") {
      for (const [key, child] of Object.entries(item)) {
        // A key cannot be named without repeating the character: the object holding it is reported.
        if (forbidden.test(key)) found.push(path);
        else pending.push([child, `${path}/${key}`]);
      }
    }
  }
  return found.reverse();
}

const controlCharacterError = (instancePath: string): ErrorObject => ({
  instancePath,
  schemaPath: "#/controlCharacters",
  keyword: "controlCharacters",
  params: {},
  message: "Must not contain control characters",
});

/** Ajv's verdict plus the control-character rule, which applies to every string whatever its schema. */
function refusingControlCharacters(validate: ValidateFunction, forbidden: RegExp) {
  const checked = (data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const valid = validate(data, context);
    const found = controlCharacterPaths(data, forbidden).map(controlCharacterError);
    checked.errors = [...found, ...(validate.errors ?? [])];
    return valid && found.length === 0;
  };
  checked.errors = [] as ErrorObject[];
  // Fastify passes the parent object to validators that have this, so Ajv can coerce a root value.
  checked.schemaEnv = validate.schemaEnv;
  return checked;
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
  return ({ schema, httpPart }) =>
    httpPart === "body"
      ? refusingControlCharacters(bodyAjv.compile(schema as object), CONTROL_IN_TEXT)
      : refusingControlCharacters(textAjv.compile(schema as object), CONTROL_IN_LINE);
}

/**
 * Path parameters and query strings are read before validation (the session and IP-allowlist checks
 * look at `account_id`), and some routes declare no schema for them: refuse control characters there
 * as soon as the route is known.
 */
export function registerControlCharacterGuard(app: FastifyInstance) {
  // Synchronous, and nothing to walk for the usual request: no path parameter, no query string.
  app.addHook("onRequest", (request, _reply, done) => {
    if (request.is404) return done();
    const error = refusedLine(request.params, "params") ?? refusedLine(request.query, "querystring");
    done(error);
  });
}

function refusedLine(value: unknown, part: "params" | "querystring") {
  if (!hasKeys(value)) return undefined;
  const found = controlCharacterPaths(value, CONTROL_IN_LINE);
  return found.length === 0
    ? undefined
    : invalidFields(toFieldErrors(found.map(controlCharacterError), part));
}

function hasKeys(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  for (const _ in value) return true;
  return false;
}

/**
 * For a route with `attachValidation: true`, which runs its own field checks even when the schema
 * refused the request (so that one answer names every problem): what the schema found, as field
 * errors (none when it passed), and the body's own text fields, the only values fit to check further.
 */
export function attachedValidation(request: FastifyRequest): {
  found: FieldError[];
  text: (field: string) => string | undefined;
} {
  const failure = request.validationError as
    | (Error & { validation?: ErrorObject[]; validationContext?: string })
    | undefined;
  const found = failure?.validation
    ? toFieldErrors(failure.validation, failure.validationContext ?? "body")
    : [];
  const body: Record<string, unknown> =
    typeof request.body === "object" && request.body !== null
      ? (request.body as Record<string, unknown>)
      : {};
  return {
    found,
    text: (field) => {
      const value = Object.hasOwn(body, field) ? body[field] : undefined;
      return typeof value === "string" ? value : undefined;
    },
  };
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
  uniqueItems: "duplicate",
  maximum: "too_large",
  controlCharacters: "invalid_characters",
};

/** Ajv's findings → field errors a form can place next to the right input. */
export function toFieldErrors(all: ErrorObject[], part: string): FieldError[] {
  const seen = new Set<string>();
  const out: FieldError[] = [];
  // Paths whose value is missing or empty: a complaint about its form would say nothing more.
  const empty = new Set<string>();
  for (const error of preferSpecific(all.map(asUnion))) {
    let path = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
    const params = error.params as Record<string, unknown>;
    if (error.keyword === "required") path = [path, params.missingProperty].filter(Boolean).join(".");
    if (error.keyword === "additionalProperties")
      path = [path, params.additionalProperty].filter(Boolean).join(".");
    const code = (error.keyword === "format" && FORMATS[String(params.format)]?.code) || CODES[error.keyword];
    if (error.keyword === "required" || (error.keyword === "minLength" && Number(params.limit) === 1))
      empty.add(path || part);
    const key = `${path}:${code ?? error.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path: path || part, code: code ?? "invalid", message: messageFor(error, path || part) });
  }
  // "Enter a time zone" says all there is to say about an empty one.
  return out.filter((e) => !(empty.has(e.path) && FORM_CODES.has(e.code)));
}

/**
 * A nullable string, number or boolean is `type: [T, "null"]` (see Nullable in schemas.ts): a value of
 * another type fails it as the union it stands for did, so the answer stays the same
 * (`invalid_value`, "… is not one of the allowed values").
 */
function asUnion(error: ErrorObject): ErrorObject {
  return error.keyword === "type" && Array.isArray((error.params as { type?: unknown }).type)
    ? { ...error, keyword: "anyOf" }
    : error;
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

/**
 * Formats of our own, checked with the schema so that they come back with every other field problem
 * of the request. `code` overrides `invalid_format` where the contract names another.
 */
export const FORMATS: Record<string, { check: (value: string) => boolean; message: string; code?: string }> =
  {
    phone: {
      check: (value) => normalizePhone(value) !== undefined,
      message: PHONE_MESSAGE,
    },
    /** Any phone (an organization's), said without "mobile". */
    phone_number: {
      check: (value) => normalizePhone(value) !== undefined,
      message: PHONE_NUMBER_MESSAGE,
    },
    country: {
      check: (value) => COUNTRIES.has(value.toUpperCase()),
      message: COUNTRY_MESSAGE,
      code: "invalid_country",
    },
    timezone: {
      check: isTimezone,
      message: TIMEZONE_MESSAGE,
      code: "invalid_timezone",
    },
  };

/** Complaints about the form of a value, which say nothing more when the value is empty. */
const FORM_CODES = new Set([
  "invalid_format",
  ...Object.values(FORMATS).map((f) => f.code ?? "invalid_format"),
]);

/** What a value matching each pattern looks like, said to a person. Keyed by the pattern itself. */
const PATTERN_MESSAGES: Record<string, (label: string) => string> = {
  "^[A-Za-z0-9_.-]+$": (label) => `${label} can contain only letters, digits, dots, dashes and underscores`,
  "^https?://": (label) => `${label} must start with http:// or https://`,
  "^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$": (label) => `${label} must be a language tag like en or fr-FR`,
  "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*(\\.\\*)?$": (label) =>
    `${label} must be an event name like member.invited, or a prefix like member.*`,
  [PERMISSION_KEY_PATTERN]: (label) => `${label} must be a permission like members:read`,
};

const FORMAT_MESSAGES: Record<string, (label: string) => string> = {
  email: () => "Enter an email address like name@example.com",
  uri: (label) => `${label} must be a web address like https://example.com/picture.png`,
  "date-time": (label) => `${label} must be a date and time like 2026-03-01T09:00:00Z`,
  uuid: (label) => `${label} must be a UUID`,
};

const TYPE_NAMES: Record<string, string> = {
  string: "text",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  null: "null",
};

/** Words in field names that are written in capitals. */
const ACRONYMS: Record<string, string> = {
  api: "API",
  id: "ID",
  ids: "IDs",
  ip: "IP",
  mfa: "MFA",
  sms: "SMS",
  totp: "TOTP",
  url: "URL",
  uri: "URI",
};
/** Field names whose plain words say less than they should. */
const LABELS: Record<string, string> = {
  email: "Email address",
  new_email: "New email address",
  body: "The request body",
  querystring: "The query string",
  params: "The path",
};

/**
 * The name a person would give the field at `path`: its last segment, in words ("account_name" →
 * "Account name"); an item of a list is named by its position ("emails.3" → "Item 4 of emails").
 */
export function fieldLabel(path: string): string {
  const segments = path.split(".").filter(Boolean);
  const leaf = segments.at(-1) ?? "body";
  if (/^\d+$/.test(leaf) && segments.length > 1) {
    return `Item ${Number(leaf) + 1} of ${lowerFirst(fieldLabel(segments.slice(0, -1).join(".")))}`;
  }
  if (LABELS[leaf]) return LABELS[leaf];
  const words = leaf
    .split(/[_\s-]+/)
    .filter(Boolean)
    .map((word) => ACRONYMS[word.toLowerCase()] ?? word.toLowerCase());
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Empty fields whose "Enter a …" would not read well. */
const ENTER: Record<string, string> = {
  current_password: "Enter your current password",
  name: "Enter a name",
  code: "Enter the code",
};

/** "Account name" → "account name"; "IP allowlist" stays. */
function lowerFirst(label: string): string {
  return /^[A-Z]{2}/.test(label) ? label : label.charAt(0).toLowerCase() + label.slice(1);
}

/** "Enter an email address", "Enter a name": a lower-case label with its article. */
function enter(path: string, label: string): string {
  const leaf = path.split(".").at(-1) ?? "";
  if (ENTER[leaf]) return ENTER[leaf];
  const lower = lowerFirst(label);
  return `Enter ${/^[aeiou]/i.test(lower) ? "an" : "a"} ${lower}`;
}

/** A sentence about one field, naming it as a person would, never by its path. */
function messageFor(error: ErrorObject, path: string): string {
  const params = error.params as Record<string, unknown>;
  const label = fieldLabel(path);
  const limit = Number(params.limit);
  switch (error.keyword) {
    case "required":
      return `${fieldLabel(String(params.missingProperty))} is required`;
    case "additionalProperties":
      return `This request has no field "${String(params.additionalProperty)}"`;
    case "minLength":
      return limit === 1 ? enter(path, label) : `${label} must be at least ${limit} characters`;
    case "maxLength":
      return `${label} must be at most ${limit} characters`;
    case "minItems":
      return limit === 1
        ? `${label} must list at least one item`
        : `${label} must list at least ${limit} items`;
    case "maxItems":
      return `${label} must list at most ${limit} items`;
    case "uniqueItems":
      return `${label} must not list an item twice`;
    case "minimum":
      return `${label} must be ${limit} or more`;
    case "maximum":
      return `${label} must be ${limit} or less`;
    case "type":
      return `${label} must be ${TYPE_NAMES[String(params.type)] ?? String(params.type)}`;
    case "format": {
      const format = String(params.format);
      return FORMATS[format]?.message ?? FORMAT_MESSAGES[format]?.(label) ?? `${label} is not valid`;
    }
    case "pattern":
      return PATTERN_MESSAGES[String(params.pattern)]?.(label) ?? `${label} is not in the expected form`;
    case "enum":
    case "const":
    case "anyOf":
      return `${label} is not one of the allowed values`;
    case "controlCharacters":
      return `${label} must not contain control characters`;
    default:
      return `${label} is not valid`;
  }
}
