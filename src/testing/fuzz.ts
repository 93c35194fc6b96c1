import { newApiKeySecret } from "../api-keys/secrets.js";

/**
 * Malformed requests generated from the served OpenAPI document, for the fuzz test. Deterministic: a
 * seeded generator picks which variants each operation gets, so a failure reproduces run after run.
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  $ref?: string;
};

type Parameter = { name: string; in: "path" | "query" | "header" | "cookie"; schema?: Schema };

export type Operation = {
  method: string;
  /** The OpenAPI template, `/api/v1/accounts/{account_id}`. */
  path: string;
  parameters: Parameter[];
  body: Schema | undefined;
  /** Methods the path does not answer to, for wrong-method variants. */
  otherMethods: string[];
};

export type FuzzRequest = {
  /** What was varied, for the failure report. */
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** Leave the x-csrf-token header out even for a logged-in caller. */
  withoutCsrf?: boolean;
};

type OpenApiDocument = {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: unknown }>>;
};

const METHODS = ["get", "post", "put", "patch", "delete"];

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const otherMethods = METHODS.filter((m) => !(m in item)).map((m) => m.toUpperCase());
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      // An event stream never ends: inject would wait for it forever (its tests open real connections).
      const ok = (op as { responses?: Record<string, { content?: Record<string, unknown> }> }).responses?.[
        "200"
      ];
      if (ok?.content?.["text/event-stream"]) continue;
      const body = (op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)
        ?.content?.["application/json"]?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body,
        otherMethods,
      });
    }
  }
  return operations;
}

/** mulberry32: small, fast and good enough to pick test cases. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** Up to `count` of `items`, in a shuffled order. */
    sample: <T>(items: readonly T[], count: number): T[] => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
      }
      return copy.slice(0, count);
    },
  };
}

export type Random = ReturnType<typeof seededRandom>;

const PATTERN_CANDIDATES = [
  "fuzz",
  "members:read",
  "a",
  "#336699",
  "+15555550100",
  "123456",
  "fuzz.example.com",
];

function typeOf(schema: Schema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t) => t !== "null");
  return schema.type;
}

/** A value the schema accepts, as far as a simple reading of it goes (patterns are guessed). */
export function sampleOf(schema: Schema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.anyOf?.length) {
    const usable = schema.anyOf.find((s) => s.type !== "null") ?? schema.anyOf[0];
    return usable ? sampleOf(usable) : null;
  }
  switch (typeOf(schema)) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(schema.properties ?? {})) out[key] = sampleOf(property);
      return out;
    }
    case "array":
      return schema.items ? [sampleOf(schema.items)] : [];
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return false;
    case "null":
      return null;
    case "string":
      return sampleString(schema);
    default:
      return "fuzz";
  }
}

function sampleString(schema: Schema): string {
  switch (schema.format) {
    case "email":
      return "fuzz-sample@example.com";
    case "date-time":
      return "2030-01-01T00:00:00.000Z";
    case "uri":
      return "https://fuzz.example.com/";
    case "uuid":
      return "00000000-0000-4000-8000-000000000000";
  }
  let value = "fuzz";
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern, "u");
    value = PATTERN_CANDIDATES.find((c) => pattern.test(c)) ?? value;
  }
  if (schema.minLength && value.length < schema.minLength) value = value.padEnd(schema.minLength, "z");
  if (schema.maxLength !== undefined && value.length > schema.maxLength)
    value = value.slice(0, schema.maxLength);
  return value;
}

/** Paths to every value inside a sample, with the schema that describes it. */
function leavesOf(schema: Schema, value: unknown, path: (string | number)[] = []) {
  const out: Array<{ path: (string | number)[]; schema: Schema }> = [];
  if (path.length > 0) out.push({ path, schema });
  if (value && typeof value === "object" && !Array.isArray(value) && schema.properties) {
    for (const [key, property] of Object.entries(schema.properties))
      out.push(...leavesOf(property, (value as Record<string, unknown>)[key], [...path, key]));
  } else if (Array.isArray(value) && schema.items && value.length > 0) {
    out.push(...leavesOf(schema.items, value[0], [...path, 0]));
  }
  return out;
}

function withValue(base: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  let cursor = copy;
  for (const key of path.slice(0, -1)) cursor = cursor[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === REMOVE) delete cursor[last];
  else cursor[last] = value;
  return copy;
}

const REMOVE = Symbol("remove");

/** Strings no field should take quietly: controls, unusual unicode, sizes at and past the limits. */
const HOSTILE_STRINGS: Array<[string, (schema: Schema) => string]> = [
  ["NUL", () => "fu\u0000zz"],
  ["C0 control", () => "fu\u0007\u001bzz"],
  ["DEL", () => "fu\u007fzz"],
  ["newline", () => "fu\nzz"],
  ["right-to-left override", () => "\u202efuzz"],
  ["lone surrogate", () => "fu\ud800zz"],
  ["emoji at the length limit", (s) => "😀".repeat(Math.min(s.maxLength ?? 64, 2000))],
  ["one past the length limit", (s) => "é".repeat((s.maxLength ?? 255) + 1)],
  ["very long", () => "x".repeat(20_000)],
  ["empty", () => ""],
  ["sql", () => "' or 1=1; --"],
  ["percent escapes", () => "%00%E0%A4%A"],
];

const HOSTILE_NUMBERS: Array<[string, number | string]> = [
  ["negative", -1],
  ["zero", 0],
  ["fraction", 1.5],
  ["huge", 1e308],
  ["past 2^53", Number.MAX_SAFE_INTEGER + 2],
  ["past 64 bits", 2 ** 64],
  ["numeric string", "12"],
];

function wrongTypeOf(schema: Schema): unknown[] {
  switch (typeOf(schema)) {
    case "string":
      return [42, true, ["fuzz"], { fuzz: 1 }];
    case "integer":
    case "number":
      return ["fuzz", true, [1], {}];
    case "boolean":
      return ["true", 1, {}];
    case "array":
      return ["fuzz", { 0: "fuzz" }, 1];
    case "object":
      return ["fuzz", [], 1];
    default:
      return [42, "fuzz", {}];
  }
}

function leafVariants(schema: Schema): Array<[string, unknown]> {
  const variants: Array<[string, unknown]> = wrongTypeOf(schema).map((v) => [
    `wrong type ${JSON.stringify(v)}`,
    v,
  ]);
  variants.push(["null", null], ["missing", REMOVE]);
  const type = typeOf(schema) ?? (schema.anyOf ? typeOf(schema.anyOf[0] ?? {}) : undefined);
  if (type === "string" || type === undefined)
    for (const [name, make] of HOSTILE_STRINGS) variants.push([name, make(schema)]);
  if (type === "integer" || type === "number")
    for (const [name, value] of HOSTILE_NUMBERS) variants.push([name, value]);
  if (type === "array") variants.push(["10,000 items", Array.from({ length: 10_000 }, () => "fuzz")]);
  if (type === "object") variants.push(["NUL in a key", { "fu\u0000zz": 1 }]);
  return variants;
}

const HOSTILE_PATH_IDS: Array<[string, string]> = [
  ["unknown id", "zz_0000000000000000000000"],
  ["over-long id", "a".repeat(150)],
  ["NUL", "fu%00zz"],
  ["newline", "fu%0Azz"],
  ["bad percent-escape", "%E0%A4%A"],
  ["lone percent", "fu%zz"],
  ["emoji", "%F0%9F%98%80"],
  ["dot segments", "..%2F..%2Fetc"],
  ["negative number", "-1"],
  ["huge number", "9".repeat(40)],
  ["sql", "'%20or%201=1--"],
];

const HOSTILE_QUERY_VALUES: Array<[string, string]> = [
  ["NUL", "fu%00zz"],
  ["control", "%07%1B"],
  ["very long", "x".repeat(5000)],
  ["bad percent-escape", "%E0%A4%A"],
  ["negative", "-1"],
  ["huge", "1e308"],
  ["past 64 bits", "18446744073709551616"],
  ["fraction", "1.5"],
  ["empty", ""],
  ["emoji", "%F0%9F%98%80"],
  ["lone surrogate", "%ED%A0%80"],
];

const JSON_HEADERS = { "content-type": "application/json" };

/** Credentials and negotiation headers a caller may get wrong, on any operation. */
const HOSTILE_HEADERS: Array<[string, Record<string, string>]> = [
  ["session cookie with a NUL escape", { cookie: "gatehouse_session=fu%00zz" }],
  ["over-long session cookie", { cookie: `gatehouse_session=${"x".repeat(8000)}` }],
  ["session cookie with a bad escape", { cookie: "gatehouse_session=%E0%A4%A" }],
  ["unknown bearer key", { authorization: "Bearer gh_0000000000000000000000000000" }],
  ["well-formed bearer key that does not exist", { authorization: `Bearer ${newApiKeySecret()}` }],
  ["empty bearer", { authorization: "Bearer" }],
  ["bearer token that is no key", { authorization: "Bearer not-a-key" }],
  ["basic credentials", { authorization: "Basic Zm9vOmJhcg==" }],
  ["a browser's accept header", { accept: "text/html,application/xhtml+xml" }],
  ["forged csrf token", { "x-csrf-token": "forged" }],
];

/**
 * Every malformed variant of one operation, then at most `budget` of them picked by `random` (always
 * keeping a well-formed one, so deeper code sees the odd values the leaf variants put in).
 */
export function variantsOf(
  operation: Operation,
  ids: { valid: Record<string, string>; foreign: Record<string, string> },
  random: Random,
  budget: number,
): FuzzRequest[] {
  const pathParams = operation.parameters.filter((p) => p.in === "path");
  const queryParams = operation.parameters.filter((p) => p.in === "query");
  const urlWith = (overrides: Record<string, string> = {}, query = "") => {
    let url = operation.path;
    for (const p of pathParams) {
      const value = overrides[p.name] ?? ids.valid[p.name] ?? "zz_0000000000000000000000";
      url = url.replace(`{${p.name}}`, value);
    }
    return query ? `${url}?${query}` : url;
  };
  const sample = operation.body ? sampleOf(operation.body) : undefined;
  const bodyHeaders = operation.body ? JSON_HEADERS : ({} as Record<string, string>);
  const base = (label: string, extra: Partial<FuzzRequest> = {}): FuzzRequest => ({
    label,
    method: operation.method,
    url: urlWith(),
    headers: bodyHeaders,
    ...(sample !== undefined ? { payload: JSON.stringify(sample) } : {}),
    ...extra,
  });

  const all: FuzzRequest[] = [];
  for (const p of pathParams) {
    const foreign = ids.foreign[p.name];
    if (foreign) all.push(base(`${p.name}: another account's`, { url: urlWith({ [p.name]: foreign }) }));
    for (const [name, value] of HOSTILE_PATH_IDS)
      all.push(base(`${p.name}: ${name}`, { url: urlWith({ [p.name]: value }) }));
  }
  for (const p of queryParams) {
    for (const [name, value] of HOSTILE_QUERY_VALUES)
      all.push(base(`?${p.name}: ${name}`, { url: urlWith({}, `${p.name}=${value}`) }));
    all.push(base(`?${p.name}: twice`, { url: urlWith({}, `${p.name}=1&${p.name}=2`) }));
  }
  all.push(base("unknown query parameter", { url: urlWith({}, "fuzz=1&%zz=%") }));
  for (const [name, headers] of HOSTILE_HEADERS)
    all.push(base(`header: ${name}`, { headers: { ...bodyHeaders, ...headers } }));
  for (const method of [
    ...operation.otherMethods,
    "OPTIONS",
    ...(operation.method === "GET" ? ["HEAD"] : []),
  ])
    all.push(base(`method ${method}`, { method }));

  const unsafe = operation.method !== "GET";
  if (unsafe) {
    all.push(base("no CSRF token", { withoutCsrf: true }));
    for (const [label, payload] of [
      ["malformed JSON", "{"],
      ["truncated JSON", '{"a":'],
      ["JSON with a NUL escape", '{"fuzz":"\\u0000"}'],
      ["raw NUL byte", "\u0000"],
      ["top-level array", "[]"],
      ["top-level null", "null"],
      ["top-level string", '"fuzz"'],
      ["top-level number", "1e999"],
      ["empty object", "{}"],
      ["prototype pollution", '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}'],
      ["deep nesting", `${"[".repeat(5000)}${"]".repeat(5000)}`],
    ] as const)
      all.push(base(label, { headers: JSON_HEADERS, payload }));
    all.push(base("text/plain body", { headers: { "content-type": "text/plain" }, payload: "fuzz" }));
    all.push(
      base("form body", { headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "a=b" }),
    );
    all.push(
      base("json content type, charset junk", {
        headers: { "content-type": "application/json; charset=ebcdic" },
      }),
    );
    if (sample && typeof sample === "object" && !Array.isArray(sample))
      all.push(base("unknown field", { payload: JSON.stringify({ ...sample, fuzz_extra: 1 }) }));
    if (operation.body && sample !== undefined) {
      for (const leaf of leavesOf(operation.body, sample)) {
        for (const [name, value] of leafVariants(leaf.schema)) {
          const payload = JSON.stringify(withValue(sample, leaf.path, value));
          all.push(base(`body.${leaf.path.join(".")}: ${name}`, { payload }));
        }
      }
    }
  }

  const picked = random.sample(all, budget);
  if (operation.body) picked.unshift(base("well-formed sample"));
  return picked;
}
