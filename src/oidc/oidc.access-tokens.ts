import { createLocalJWKSet, type JWK, jwtVerify } from "jose";
import { AppError } from "../http/errors.js";
import { SIGNING_ALG } from "./oidc.keys.js";

/** 401 `invalid_token` (RFC 6750): an access token that does not verify or has expired. */
export class InvalidAccessToken extends AppError {
  override readonly status = 401;
  constructor(detail: string) {
    super("invalid_token", detail, { headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
  }
}

export type VerifiedAccessToken =
  /** A user's token: acts as that user in that account (null: the client asked for no account). */
  | {
      kind: "user";
      userId: string;
      accountId: string | null;
      clientId: string;
      jti: string;
      scopes: string[];
    }
  /** A client credentials token: the client itself, no user. */
  | { kind: "client"; clientId: string; jti: string; scopes: string[] };

/**
 * Verifies Gatehouse access tokens (JWTs for `${PUBLIC_URL}/api`) locally against the keys the provider
 * publishes, so an API call costs no query for the token itself.
 */
export function createAccessTokenVerifier(deps: { issuer: string; audience: string; keys: readonly JWK[] }) {
  const publicKeys = deps.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest }) => rest);
  const jwks = createLocalJWKSet({ keys: publicKeys });
  return {
    async verify(token: string): Promise<VerifiedAccessToken> {
      let payload: Record<string, unknown>;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: deps.issuer,
          audience: deps.audience,
          typ: "at+jwt",
          algorithms: [SIGNING_ALG],
        }));
      } catch {
        throw new InvalidAccessToken("The access token is invalid or has expired");
      }
      const clientId = String(payload.client_id ?? "");
      const sub = String(payload.sub ?? "");
      const jti = String(payload.jti ?? "");
      const scopes = String(payload.scope ?? "")
        .split(" ")
        .filter(Boolean);
      if (!clientId || !sub || !jti) throw new InvalidAccessToken("The access token is incomplete");
      if (sub === clientId) return { kind: "client", clientId, jti, scopes };
      const accountId = typeof payload.account_id === "string" ? payload.account_id : null;
      return { kind: "user", userId: sub, accountId, clientId, jti, scopes };
    },
  };
}

export type AccessTokenVerifier = ReturnType<typeof createAccessTokenVerifier>;
