import http from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { createTestApp, type Dialect, type TestApp } from "../../../src/testing/harness.js";

/** A real Gatehouse (createTestApp) listening on a free port of 127.0.0.1. */
export async function startGatehouse(
  dialect: Dialect,
  env: Record<string, string> = {},
): Promise<{ t: TestApp; url: string }> {
  const t = await createTestApp(dialect, env);
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, url: `http://127.0.0.1:${port}` };
}

type Key = { kid: string; privateKey: CryptoKey; jwk: JWK };

async function newKey(kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } };
}

/**
 * A provider's signing side until Gatehouse's own exists: key pairs and a node:http server publishing
 * their JWKS (counting fetches), signing RFC 9068 access tokens with the contract's claims.
 */
export async function startTokenIssuer(options: { issuer: string; audience: string }) {
  const keys: Key[] = [await newKey("key-1")];
  let fetches = 0;
  const server = http.createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/jwk-set+json" });
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    jwksUri: `http://127.0.0.1:${port}/oidc/jwks`,
    get fetches() {
      return fetches;
    },
    /** A new signing key, published next to the old ones; tokens are signed with it from now on. */
    async rotate() {
      keys.push(await newKey(`key-${keys.length + 1}`));
    },
    async sign(
      claims: Record<string, unknown> & { sub: string },
      overrides: { audience?: string; expiresAt?: number; kid?: string } = {},
    ) {
      const key = keys.find((k) => k.kid === overrides.kid) ?? (keys.at(-1) as Key);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "at+jwt" })
        .setIssuer(options.issuer)
        .setAudience(overrides.audience ?? options.audience)
        .setIssuedAt(now - 10)
        .setExpirationTime(overrides.expiresAt ?? now + 300)
        .setJti(crypto.randomUUID())
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
