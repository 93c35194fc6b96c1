import { type Static, type TNull, type TSchema, type TUnion, type TUnsafe, Type } from "@sinclair/typebox";

/** Every string has a cap: nothing unbounded reaches the services or the database. */
export const Str = (
  maxLength: number,
  options: { minLength?: number; pattern?: string; format?: string; description?: string } = {},
) => Type.String({ maxLength, ...options });

const PRIMITIVE = new Set(["string", "integer", "number", "boolean"]);

/**
 * A value or null. A plain string, number or boolean schema becomes `type: [T, "null"]`, which
 * fast-json-stringify serialises with a typeof check; an `anyOf` would run an Ajv validation of the
 * value (with its format: a date-time regular expression) on every answer. Anything else (objects,
 * enums, literals, patterns and formats other than date-time) stays a union.
 */
export const Nullable = <T extends TSchema>(schema: T): TUnsafe<Static<T> | null> | TUnion<[T, TNull]> => {
  const { type } = schema as { type?: unknown };
  const { format } = schema as { format?: unknown };
  // A pattern or a format other than a date-time stays in a union: with all errors collected, Ajv would
  // otherwise run it on a string already too long (the uri format took 80 s on a hostile value).
  const simple = !("pattern" in schema) && (format === undefined || format === "date-time");
  if (
    typeof type === "string" &&
    PRIMITIVE.has(type) &&
    simple &&
    !("enum" in schema) &&
    !("const" in schema)
  )
    return Type.Unsafe<Static<T> | null>({ ...schema, type: [type, "null"] });
  return Type.Union([schema, Type.Null()]);
};

export const Email = Type.String({
  format: "email",
  minLength: 1,
  maxLength: 254,
  description: "Email address",
});
/** The body cap is generous; the policy decides (and reports) the real maximum. */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const Token = Type.String({ minLength: 1, maxLength: 256 });
export const Timestamp = Type.String({ format: "date-time" });

export const Body = <T extends Record<string, TSchema>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

export const FieldErrorSchema = Type.Object({
  path: Type.String(),
  message: Type.String(),
  code: Type.String(),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(FieldErrorSchema)),
    request_id: Type.Optional(Type.String()),
  },
  { $id: "Problem", description: "RFC 9457 problem details" },
);

export const problemRef = Type.Ref("Problem");

/** Standard error responses for the OpenAPI document. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, problemRef])) as Record<number, typeof problemRef>;

export const RoleSummarySchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  description: Type.String(),
});

export const MeSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    email_verified: Type.Boolean(),
    username: Nullable(Type.String()),
    first_name: Type.String(),
    last_name: Type.String(),
    full_name: Type.String(),
    mobile: Nullable(Type.String()),
    mobile_verified: Type.Boolean(),
    timezone: Type.String(),
    locale: Type.String(),
    avatar_url: Nullable(Type.String({ description: "The uploaded avatar, 256×256 (PUT /me/avatar)" })),
    avatar_thumb_url: Nullable(Type.String({ description: "The same, 64×64" })),
    mfa_enabled: Type.Boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
    last_login_at: Nullable(Timestamp),
    memberships: Type.Array(
      Type.Object({ account_id: Type.String(), account_name: Type.String(), role: RoleSummarySchema }),
    ),
  },
  { $id: "Me" },
);

export const SessionInfoSchema = Type.Object({ id: Type.String(), expires_at: Timestamp });

export const SessionStateSchema = Type.Object({
  user: Type.Ref("Me"),
  account_id: Nullable(Type.String()),
  csrf_token: Type.String(),
  session: SessionInfoSchema,
  password_change_required: Type.Boolean(),
  mfa_enrollment_due_at: Nullable(Timestamp),
  account_closure_delete_at: Nullable(
    Type.String({
      format: "date-time",
      description: "When the active account is deleted (a scheduled closure); null when none is",
    }),
  ),
});

export const PasswordPolicySchema = Type.Object(
  {
    min_length: Type.Integer(),
    max_length: Type.Integer(),
    require_upper: Type.Boolean(),
    require_lower: Type.Boolean(),
    require_digit: Type.Boolean(),
    require_special: Type.Boolean(),
    history: Type.Integer(),
    expiry_days: Nullable(Type.Integer()),
    disallow_personal_info: Type.Boolean(),
    disallow_common: Type.Boolean(),
    min_strength: Type.Integer({
      minimum: 0,
      maximum: 4,
      description: "The lowest zxcvbn strength score (0–4) a password must reach; 0 = not checked",
    }),
  },
  { $id: "PasswordPolicy" },
);
