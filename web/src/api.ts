// Fetch wrapper for the Gatehouse API: JSON in and out, the session cookie rides along,
// unsafe methods carry the CSRF token, and problem+json becomes an ApiError.

export type FieldError = { path: string; message: string; code: string };

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: FieldError[];
  /** Seconds from a `retry-after` header (429), when the server sent one. */
  readonly retryAfter: number | undefined;
  /** The problem document as sent, with its extension members (`accounts` of `sole_root`…). */
  readonly body: Record<string, unknown> | undefined;

  constructor(init: {
    status: number;
    code: string;
    detail: string;
    errors?: FieldError[];
    retryAfter?: number | undefined;
    body?: Record<string, unknown> | undefined;
  }) {
    super(init.detail);
    this.name = "ApiError";
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.retryAfter = init.retryAfter;
    this.body = init.body;
  }

  /** Messages keyed by body field, for showing next to form inputs. */
  fieldErrors(): Record<string, string> {
    const byPath: Record<string, string> = {};
    for (const error of this.errors) {
      const field = normalizePath(error.path);
      byPath[field] ??= error.message;
    }
    return byPath;
  }
}

// Validators may report JSON-pointer ("/username") or dotted ("body.username") paths;
// forms only care about the field name.
function normalizePath(path: string): string {
  return path.replace(/^\/+/, "").replace(/^body[./]/, "");
}

export type ApiClient = {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  patch<T>(path: string, body?: unknown): Promise<T>;
  /** DELETE may carry a body: a team's deletion says where its members and resources go. */
  delete<T>(path: string, body?: unknown): Promise<T>;
  /** PUT of a multipart form with one file in `field` (logo, avatar uploads), CSRF header included. */
  upload<T>(path: string, file: Blob, options?: { field?: string; filename?: string }): Promise<T>;
  setCsrfToken(token: string | null): void;
  /** Called when an authenticated call answers 401, i.e. the session ended elsewhere. */
  onUnauthenticated(listener: () => void): () => void;
  /** Called when a call answers 403 `mfa_enrollment_required`: the second-factor deadline has passed. */
  onMfaEnrollmentRequired(listener: () => void): () => void;
};

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// A 401 from these is an expected answer (logged out, bad password), not a lost session.
const EXPECTED_401 = [/^\/session$/, /^\/auth\//, /^\/me\/password$/, /^\/invitations\//];

export function createApiClient(basePath = "/api/v1"): ApiClient {
  let csrfToken: string | null = null;
  const unauthenticatedListeners = new Set<() => void>();
  const mfaEnrollmentListeners = new Set<() => void>();

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    // A FormData body is multipart: the browser writes its content-type with the boundary.
    const form = body instanceof FormData;
    if (body !== undefined && !form) headers["content-type"] = "application/json";
    if (UNSAFE_METHODS.has(method) && csrfToken) headers["x-csrf-token"] = csrfToken;

    let response: Response;
    try {
      response = await fetch(basePath + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      });
    } catch {
      throw new ApiError({
        status: 0,
        code: "network_error",
        detail: "Could not reach the server. Check your connection and try again.",
      });
    }

    if (response.ok) {
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    }

    const error = await toApiError(response);
    if (error.status === 401 && !EXPECTED_401.some((pattern) => pattern.test(path))) {
      for (const listener of unauthenticatedListeners) listener();
    }
    if (error.status === 403 && error.code === "mfa_enrollment_required") {
      for (const listener of mfaEnrollmentListeners) listener();
    }
    throw error;
  }

  return {
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
    patch: (path, body) => request("PATCH", path, body),
    delete: (path, body) => request("DELETE", path, body),
    upload: (path, file, options = {}) => {
      const form = new FormData();
      form.append(options.field ?? "file", file, options.filename ?? "upload");
      return request("PUT", path, form);
    },
    setCsrfToken(token) {
      csrfToken = token;
    },
    onUnauthenticated(listener) {
      unauthenticatedListeners.add(listener);
      return () => unauthenticatedListeners.delete(listener);
    },
    onMfaEnrollmentRequired(listener) {
      mfaEnrollmentListeners.add(listener);
      return () => mfaEnrollmentListeners.delete(listener);
    },
  };
}

/** Appends the defined, non-empty parameters as a query string: `withQuery("/x", { q: "a" })` → `/x?q=a`. */
export function withQuery(path: string, params: Record<string, string | number | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  if (!text) return path;
  return `${path}${path.includes("?") ? "&" : "?"}${text}`;
}

type ProblemBody = {
  title?: unknown;
  detail?: unknown;
  code?: unknown;
  errors?: unknown;
};

async function toApiError(response: Response): Promise<ApiError> {
  let problem: ProblemBody = {};
  try {
    const parsed: unknown = await response.json();
    if (parsed && typeof parsed === "object") problem = parsed as ProblemBody;
  } catch {
    // Not JSON (a proxy error page, say): fall back to the status line below.
  }
  const retryAfterHeader = response.headers.get("retry-after");
  const retryAfter = retryAfterHeader ? Number.parseInt(retryAfterHeader, 10) : Number.NaN;
  return new ApiError({
    status: response.status,
    code: typeof problem.code === "string" ? problem.code : `http_${response.status}`,
    detail:
      typeof problem.detail === "string"
        ? problem.detail
        : typeof problem.title === "string"
          ? problem.title
          : `The server answered ${response.status} ${response.statusText}`.trim(),
    errors: Array.isArray(problem.errors) ? problem.errors.flatMap(toFieldError) : [],
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
    body: problem as Record<string, unknown>,
  });
}

function toFieldError(value: unknown): FieldError[] {
  if (!value || typeof value !== "object") return [];
  const { path, message, code } = value as Record<string, unknown>;
  if (typeof path !== "string") return [];
  return [
    {
      path,
      message: typeof message === "string" ? message : "This value is not valid.",
      code: typeof code === "string" ? code : "invalid",
    },
  ];
}

/** Turns any thrown value into a message fit for a form-level alert. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong. Please try again.";
  if (error.status === 429) return rateLimitMessage(error);
  return error.detail;
}

export function rateLimitMessage(error: ApiError): string {
  if (error.retryAfter === undefined) return "Too many attempts. Please wait a moment and try again.";
  const seconds = error.retryAfter;
  return `Too many attempts. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`;
}
