export const ERROR_CODES = {
  validation_failed: { status: 400, title: "Invalid request" },
  invalid_json: { status: 400, title: "Malformed JSON" },
  invalid_url: { status: 400, title: "Malformed URL" },
  bad_request: { status: 400, title: "Malformed request" },
  invalid_token: { status: 400, title: "Invalid or expired link" },
  invalid_code: { status: 400, title: "Invalid code" },
  invalid_image: { status: 400, title: "Image not accepted" },
  passkey_unknown: { status: 400, title: "Unknown passkey" },
  passkey_invalid: { status: 400, title: "Passkey not accepted" },
  passkey_counter_regressed: { status: 400, title: "Passkey signature counter went back" },
  passkey_challenge_invalid: { status: 400, title: "Passkey request expired or used" },
  invalid_credentials: { status: 401, title: "Invalid credentials" },
  seat_limit_reached: { status: 402, title: "Seat limit reached" },
  plan_limit_reached: { status: 402, title: "Plan limit reached" },
  incorrect_password: { status: 400, title: "Incorrect password" },
  unauthenticated: { status: 401, title: "Not signed in" },
  invalid_api_key: { status: 401, title: "Invalid API key" },
  payment_failed: { status: 402, title: "Payment failed" },
  csrf_failed: { status: 403, title: "CSRF check failed" },
  forbidden: { status: 403, title: "Forbidden" },
  reauth_required: { status: 403, title: "Confirm it's you" },
  session_required: { status: 403, title: "Sign in as a person for this" },
  password_change_required: { status: 403, title: "Password change required" },
  mfa_enrollment_required: { status: 403, title: "Set up two-factor authentication first" },
  privilege_escalation: { status: 403, title: "Cannot grant what you do not hold" },
  root_only: { status: 403, title: "Only Root may do this" },
  self_change: { status: 403, title: "You cannot change your own role or status" },
  wrong_user: { status: 403, title: "Log in as the invited address" },
  membership_suspended: { status: 403, title: "Membership suspended" },
  account_deactivated: { status: 403, title: "Login deactivated" },
  ip_not_allowed: { status: 403, title: "Not allowed from this IP address" },
  not_found: { status: 404, title: "Not found" },
  interaction_not_found: { status: 404, title: "Sign-in request not found or expired" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  request_timeout: { status: 408, title: "Request timeout" },
  conflict: { status: 409, title: "Conflict" },
  payment_method_required: { status: 402, title: "Add a payment method first" },
  builtin_role: { status: 409, title: "Built-in roles cannot be changed" },
  role_in_use: { status: 409, title: "Role in use" },
  last_root: { status: 409, title: "An account needs an active Root" },
  account_closing: { status: 409, title: "The account is scheduled for deletion" },
  sole_root: { status: 409, title: "You are the only Root of an account" },
  payload_too_large: { status: 413, title: "Payload too large" },
  uri_too_long: { status: 414, title: "URI too long" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  invalid_fields: { status: 422, title: "Missing or invalid fields" },
  password_policy: { status: 422, title: "Password does not meet the policy" },
  out_of_range: { status: 422, title: "Outside the allowed range" },
  confirmation_mismatch: { status: 422, title: "The confirmation does not match" },
  rate_limited: { status: 429, title: "Too many requests" },
  headers_too_large: { status: 431, title: "Request headers too large" },
  internal_error: { status: 500, title: "Internal server error" },
  unavailable: { status: 503, title: "Service unavailable" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export type FieldError = { path: string; message: string; code: string };

/** The one error type of the application; rendered as problem+json by the error handler. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;
  /** Extension members of the problem (RFC 9457 §3.2), e.g. `accounts` of `sole_root`. */
  readonly extensions: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      extensions?: Record<string, unknown>;
    } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.errors = options.errors;
    this.headers = options.headers;
    this.extensions = options.extensions;
  }
}

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  request_id?: string;
};

export function toProblem(error: AppError, requestId: string): Problem {
  const problem: Problem = {
    ...error.extensions,
    type: `/docs/errors#${error.code}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    request_id: requestId,
  };
  if (error.errors?.length) problem.errors = error.errors;
  return problem;
}

/**
 * 400 `validation_failed` naming every field problem at once. The detail is their messages, as
 * sentences: it must read well on its own, without the field paths that `errors[]` carries.
 */
export function invalidFields(errors: readonly FieldError[]): AppError {
  return new AppError("validation_failed", detailOf(errors) || "Invalid request", { errors: [...errors] });
}

/** The distinct messages of `errors` as one text: "Enter an email address. Enter a name". */
export function detailOf(errors: readonly FieldError[]): string {
  return [...new Set(errors.map((e) => e.message.replace(/\.$/, "")))].join(". ");
}

export function notFound(what = "Resource"): AppError {
  return new AppError("not_found", `${what} not found`);
}
