import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

/** The claims of a Gatehouse access token (see docs/oidc.md); the account claims need scope gatehouse:account. */
export type GatehouseClaims = JWTPayload & {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  picture?: string;
  client_id?: string;
  scope?: string;
  account_id?: string;
  account_name?: string;
  role?: { key: string; name: string };
  permissions?: string[];
  accounts?: Array<{ account_id: string; account_name: string; role: { key: string; name: string } }>;
};

export type VerifyOptions = {
  /** `${PUBLIC_URL}/oidc` */
  issuer: string;
  /** `${PUBLIC_URL}/api` */
  audience: string;
  /** The provider's JWKS (`jwks_uri` of the discovery document). */
  jwksUri: string;
  /**
   * How long after a JWKS fetch a token with an unknown key id may not fetch it again (jose's
   * cooldownDuration, default 30 s): after a key rotation the first token signed by the new key
   * refetches the set once this has passed.
   */
  jwksCooldownMs?: number;
  /** Seconds of clock skew accepted on exp/nbf/iat (default 5). */
  clockToleranceSeconds?: number;
};

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
const jwksCache = new Map<string, RemoteJwks>();

/** One remote key set per JWKS URL and cooldown, kept for the process: keys are fetched once, not per token. */
function remoteJwks(uri: string, cooldownMs: number | undefined): RemoteJwks {
  const key = `${cooldownMs ?? ""} ${uri}`;
  let jwks = jwksCache.get(key);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(uri), cooldownMs === undefined ? {} : { cooldownDuration: cooldownMs });
    jwksCache.set(key, jwks);
  }
  return jwks;
}

/**
 * Verifies a Gatehouse access token (an RFC 9068 JWT: signature against the provider's JWKS, issuer,
 * audience, expiry, `typ: at+jwt`) and returns its claims; throws (a jose error) when it does not verify.
 */
export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<GatehouseClaims> {
  const { payload } = await jwtVerify(token, remoteJwks(options.jwksUri, options.jwksCooldownMs), {
    issuer: options.issuer,
    audience: options.audience,
    typ: "at+jwt",
    requiredClaims: ["sub", "exp"],
    clockTolerance: options.clockToleranceSeconds ?? 5,
  });
  return payload as GatehouseClaims;
}
