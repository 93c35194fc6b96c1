import { type GatehouseClaims, type VerifyOptions, verifyAccessToken } from "./tokens.js";

/** Who is calling: what the middleware puts on the request. */
export type GatehouseIdentity = {
  /** null for a backend's client credentials token: it acts for no user. */
  user: { id: string; email: string; name: string } | null;
  /** The OAuth client the access token was issued to; null for a session cookie. */
  client: { id: string } | null;
  account: { id: string; name: string } | null;
  role: { key: string; name: string } | null;
  /** Effective permissions carried by the access token; [] for a session cookie (asked of Gatehouse instead). */
  permissions: string[];
};

export type GatehouseAuthOptions = {
  /** Gatehouse's PUBLIC_URL. */
  gatehouseUrl: string;
  /** Defaults: issuer `${gatehouseUrl}/oidc`, audience `${gatehouseUrl}/api`, JWKS `${issuer}/jwks`. */
  issuer?: string;
  audience?: string;
  jwksUri?: string;
  jwksCooldownMs?: number;
  /**
   * An API key of the account (scope members:read) for `POST /authz/check`; without one, the caller's own
   * credentials ask (a user may always ask about themselves).
   */
  apiKey?: string;
  /** How long an answer of `POST /authz/check` is reused (default 30 s). */
  authzCacheMs?: number;
  /** The session cookie's name (default `gatehouse_session`). */
  sessionCookie?: string;
  fetch?: typeof fetch;
};

export type Authentication =
  | { kind: "none" }
  | { kind: "invalid"; reason: string }
  | { kind: "ok"; identity: GatehouseIdentity; credentials: Credentials; fromToken: boolean };

/** How to ask Gatehouse on behalf of the caller (authz checks without an API key). */
type Credentials = { authorization: string } | { cookie: string; csrfToken: string };

export class GatehouseError extends Error {}

/** `{user, account, role, permissions}` from an access token's claims. */
export function identityFromClaims(claims: GatehouseClaims): GatehouseIdentity {
  const client = claims.client_id ? { id: claims.client_id } : null;
  // Client credentials: the subject is the client itself (Gatehouse's own rule, docs/oidc.md).
  if (client && claims.sub === client.id) {
    return { user: null, client, account: null, role: null, permissions: [] };
  }
  return {
    user: { id: claims.sub, email: claims.email ?? "", name: claims.name ?? "" },
    client,
    account: claims.account_id ? { id: claims.account_id, name: claims.account_name ?? "" } : null,
    role: claims.role ? { key: claims.role.key, name: claims.role.name } : null,
    permissions: Array.isArray(claims.permissions) ? [...claims.permissions] : [],
  };
}

type SessionBody = {
  account_id: string | null;
  csrf_token: string;
  user: {
    id: string;
    email: string;
    full_name: string;
    memberships: Array<{ account_id: string; account_name: string; role: { key: string; name: string } }>;
  };
};

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The framework-neutral part of the middleware: who a request is (access token or Gatehouse session
 * cookie) and whether they hold a permission.
 */
export function createGatehouseAuth(options: GatehouseAuthOptions) {
  const base = options.gatehouseUrl.replace(/\/+$/, "");
  const issuer = options.issuer ?? `${base}/oidc`;
  const verify: VerifyOptions = {
    issuer,
    audience: options.audience ?? `${base}/api`,
    jwksUri: options.jwksUri ?? `${issuer}/jwks`,
    ...(options.jwksCooldownMs !== undefined ? { jwksCooldownMs: options.jwksCooldownMs } : {}),
  };
  const cookieName = options.sessionCookie ?? "gatehouse_session";
  const doFetch = options.fetch ?? fetch;
  const cacheMs = options.authzCacheMs ?? 30_000;
  const decisions = new Map<string, { allowed: boolean; until: number }>();

  async function fromSession(cookie: string): Promise<Authentication> {
    const response = await doFetch(`${base}/api/v1/session`, {
      headers: { cookie: `${cookieName}=${cookie}`, accept: "application/json" },
    });
    if (response.status === 401) return { kind: "invalid", reason: "session_expired" };
    if (!response.ok) throw new GatehouseError(`GET /api/v1/session answered ${response.status}`);
    const body = (await response.json()) as SessionBody;
    const membership = body.user.memberships.find((m) => m.account_id === body.account_id);
    return {
      kind: "ok",
      fromToken: false,
      credentials: { cookie: `${cookieName}=${cookie}`, csrfToken: body.csrf_token },
      identity: {
        user: { id: body.user.id, email: body.user.email, name: body.user.full_name },
        client: null,
        account: membership ? { id: membership.account_id, name: membership.account_name } : null,
        role: membership ? { key: membership.role.key, name: membership.role.name } : null,
        permissions: [],
      },
    };
  }

  async function askGatehouse(
    user: { id: string },
    account: { id: string },
    credentials: Credentials,
    permission: string,
  ) {
    const key = `${account.id} ${user.id} ${permission}`;
    const now = Date.now();
    const cached = decisions.get(key);
    if (cached && cached.until > now) return cached.allowed;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    else if ("authorization" in credentials) headers.authorization = credentials.authorization;
    else {
      headers.cookie = credentials.cookie;
      headers["x-csrf-token"] = credentials.csrfToken;
    }
    const response = await doFetch(`${base}/api/v1/authz/check`, {
      method: "POST",
      headers,
      body: JSON.stringify({ account_id: account.id, user_id: user.id, permission }),
    });
    if (!response.ok) throw new GatehouseError(`POST /api/v1/authz/check answered ${response.status}`);
    const { allowed } = (await response.json()) as { allowed: boolean };
    if (decisions.size >= 10_000) decisions.delete(decisions.keys().next().value as string);
    decisions.set(key, { allowed, until: now + cacheMs });
    return allowed;
  }

  return {
    verifyOptions: verify,

    /** From `authorization: Bearer <access token>`, else the session cookie; `none` when neither is sent. */
    async authenticate(headers: { authorization?: string; cookie?: string }): Promise<Authentication> {
      const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
      if (bearer) {
        try {
          const claims = await verifyAccessToken(bearer, verify);
          return {
            kind: "ok",
            fromToken: true,
            credentials: { authorization: `Bearer ${bearer}` },
            identity: identityFromClaims(claims),
          };
        } catch {
          return { kind: "invalid", reason: "invalid_token" };
        }
      }
      const cookie = cookieValue(headers.cookie, cookieName);
      return cookie ? fromSession(cookie) : { kind: "none" };
    },

    /**
     * From the token's `permissions` when it lists the permission; otherwise Gatehouse decides
     * (`POST /authz/check`, answers reused for `authzCacheMs`): session cookies, tokens without the
     * account scope, and permissions granted since the token was issued.
     */
    async can(authentication: Extract<Authentication, { kind: "ok" }>, permission: string): Promise<boolean> {
      const { user, account, permissions } = authentication.identity;
      if (!user || !account) return false;
      if (permissions.includes(permission)) return true;
      return askGatehouse(user, account, authentication.credentials, permission);
    },
  };
}

export type GatehouseAuth = ReturnType<typeof createGatehouseAuth>;
