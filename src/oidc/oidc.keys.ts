import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { Db } from "../db/database.js";
import { decryptSecret, encryptSecret } from "../lib/crypto.js";

export const SIGNING_ALG = "ES256";

/**
 * The provider's signing keys, newest first: the current key (created on first start) signs, older
 * ones stay published until `expires_at` (after every token they signed has expired).
 */
export async function loadSigningKeys(db: Db, secretKey: Buffer, now: Date): Promise<JWK[]> {
  const rows = await db
    .selectFrom("oidc_signing_keys")
    .select(["kid", "private_jwk_sealed", "retired_at", "expires_at"])
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now.toISOString())]))
    .orderBy("created_at", "desc")
    .execute();
  if (!rows.some((r) => r.retired_at === null)) {
    await createSigningKey(db, secretKey, now);
    return loadSigningKeys(db, secretKey, now);
  }
  const current = rows.filter((r) => r.retired_at === null);
  const retired = rows.filter((r) => r.retired_at !== null);
  return [...current, ...retired].map(
    (r) => JSON.parse(decryptSecret(secretKey, r.private_jwk_sealed)) as JWK,
  );
}

/** A new current key; the previous current key is retired and published `publishSeconds` longer. */
export async function createSigningKey(
  db: Db,
  secretKey: Buffer,
  now: Date,
  publishSeconds = 0,
): Promise<string> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomBytes(12).toString("base64url");
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG, use: "sig" };
  const iso = now.toISOString();
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable("oidc_signing_keys")
      .set({ retired_at: iso, expires_at: new Date(now.getTime() + publishSeconds * 1000).toISOString() })
      .where("retired_at", "is", null)
      .execute();
    await trx
      .insertInto("oidc_signing_keys")
      .values({
        kid,
        alg: SIGNING_ALG,
        private_jwk_sealed: encryptSecret(secretKey, JSON.stringify(jwk)),
        created_at: iso,
        retired_at: null,
        expires_at: null,
      })
      .execute();
  });
  return kid;
}
