import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { Db, Trx } from "../db/database.js";
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

/** A new key pair, its private JWK sealed with `secretKey`. */
async function generateSigningKey(secretKey: Buffer): Promise<{ kid: string; sealed: string }> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const kid = randomBytes(12).toString("base64url");
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG, use: "sig" };
  return { kid, sealed: encryptSecret(secretKey, JSON.stringify(jwk)) };
}

async function insertCurrentKey(executor: Db | Trx, key: { kid: string; sealed: string }, now: Date) {
  await executor
    .insertInto("oidc_signing_keys")
    .values({
      kid: key.kid,
      alg: SIGNING_ALG,
      private_jwk_sealed: key.sealed,
      created_at: now.toISOString(),
      retired_at: null,
      expires_at: null,
    })
    .execute();
}

/** The first current key (there is none yet). */
export async function createSigningKey(db: Db, secretKey: Buffer, now: Date): Promise<string> {
  const key = await generateSigningKey(secretKey);
  await insertCurrentKey(db, key, now);
  return key.kid;
}

export type KeyRotation = {
  /** The new current key's kid; null when no current key was created at or before `rotateBefore`. */
  rotated: string | null;
  /** Retired keys deleted because their `expires_at` passed. */
  deleted: number;
};

/**
 * In one transaction: retires the current key when it was created at or before `rotateBefore` (it stays
 * published `publishSeconds` longer) and makes a new one current, and deletes retired keys whose
 * publication is over (nothing can verify with them any more, so their sealed private halves go too).
 * `changed` runs in that transaction when the key set changed (to tell every process).
 *
 * The retirement is a conditional update, so of two rotations running at once only the one that
 * retired the key creates its successor: the other finds no current key old enough and does nothing.
 */
export async function rotateSigningKeys(
  db: Db,
  secretKey: Buffer,
  now: Date,
  options: {
    rotateBefore: Date;
    publishSeconds: number;
    changed: (trx: Trx, rotation: KeyRotation) => Promise<void>;
  },
): Promise<KeyRotation> {
  // Generated before the transaction, so no lock is held while it is made (also when no rotation is due:
  // a P-256 key pair costs well under a millisecond).
  const next = await generateSigningKey(secretKey);
  const iso = now.toISOString();
  return db.transaction().execute(async (trx) => {
    const retired = await trx
      .updateTable("oidc_signing_keys")
      .set({
        retired_at: iso,
        expires_at: new Date(now.getTime() + options.publishSeconds * 1000).toISOString(),
      })
      .where("retired_at", "is", null)
      .where("created_at", "<=", options.rotateBefore.toISOString())
      .executeTakeFirst();
    const rotated = Number(retired.numUpdatedRows) > 0;
    if (rotated) await insertCurrentKey(trx, next, now);
    const deleted = await trx
      .deleteFrom("oidc_signing_keys")
      .where("expires_at", "is not", null)
      .where("expires_at", "<=", iso)
      .executeTakeFirst();
    const outcome = { rotated: rotated ? next.kid : null, deleted: Number(deleted.numDeletedRows) };
    if (outcome.rotated || outcome.deleted > 0) await options.changed(trx, outcome);
    return outcome;
  });
}
