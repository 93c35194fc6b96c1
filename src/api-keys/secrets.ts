import { randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";

/**
 * API key secrets look like GitHub's tokens: `gh_`, 256 random bits in base62 (43 characters), and a
 * 6-character base62 CRC32 of those characters. Secret scanners recognise the shape, and a mistyped or
 * truncated secret is refused without a database read (the checksum catches every single-character
 * typo). The random part alone carries the strength; the checksum only guards against accidents.
 */
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const SECRET_PREFIX = "gh_";
const RANDOM_BYTES = 32;
/** 62^43 > 2^256: every 32-byte value fits. */
const BODY_LENGTH = 43;
/** 62^6 > 2^32: every CRC32 fits. */
const CHECKSUM_LENGTH = 6;
export const SECRET_LENGTH = SECRET_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const SHAPE = new RegExp(`^${SECRET_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

function base62(value: bigint, width: number): string {
  let text = "";
  for (let rest = value; rest > 0n; rest /= 62n) text = ALPHABET[Number(rest % 62n)] + text;
  return text.padStart(width, ALPHABET[0]);
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_LENGTH);
}

export function newApiKeySecret(): string {
  const body = base62(BigInt(`0x${randomBytes(RANDOM_BYTES).toString("hex")}`), BODY_LENGTH);
  return `${SECRET_PREFIX}${body}${checksum(body)}`;
}

/** Whether the text has the shape and checksum of a secret we issue (not whether one exists). */
export function isWellFormedSecret(secret: string): boolean {
  if (!SHAPE.test(secret)) return false;
  const body = secret.slice(SECRET_PREFIX.length, SECRET_PREFIX.length + BODY_LENGTH);
  return checksum(body) === secret.slice(-CHECKSUM_LENGTH);
}

/** What a key's record shows to tell keys apart: `gh_…` and the secret's last four characters. */
export function displayPrefix(secret: string): string {
  return `${SECRET_PREFIX}…${secret.slice(-4)}`;
}
