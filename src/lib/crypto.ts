import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

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
