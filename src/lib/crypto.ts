import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";

/** 32 random bytes: the secret half of sessions and email links. */
export function newSecretToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Tokens are high-entropy, so one SHA-256 is enough to make the stored value useless to a thief. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export function hmac(key: Buffer, value: string): string {
  return createHmac("sha256", key).update(value).digest("base64url");
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** AES-256-GCM with a key derived from SECRET_KEY: for secrets that must be read back (TOTP seeds). */
export function encryptSecret(secretKey: Buffer, plaintext: string): string {
  const key = createHash("sha256").update(secretKey).digest();
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

export function decryptSecret(secretKey: Buffer, sealed: string): string {
  const key = createHash("sha256").update(secretKey).digest();
  const raw = Buffer.from(sealed, "base64url");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}
