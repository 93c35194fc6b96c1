import { hmac, safeEqual } from "../lib/crypto.js";
import { NOTIFICATION_CATEGORIES, type NotificationCategory } from "./preferences.js";

/**
 * The token of a mail's one-click unsubscribe link (RFC 8058): it names a user and a category, signed
 * with SECRET_KEY, so it needs no storage and no log-in, and cannot be made for anyone else.
 */
export function unsubscribeToken(secretKey: Buffer, userId: string, category: NotificationCategory): string {
  const subject = `${userId}.${category}`;
  return `${Buffer.from(subject).toString("base64url")}.${hmac(secretKey, `unsubscribe:${subject}`)}`;
}

/** The user and category a token names, or undefined when it is not one Gatehouse signed. */
export function readUnsubscribeToken(
  secretKey: Buffer,
  token: string,
): { userId: string; category: NotificationCategory } | undefined {
  const [encoded, signature, ...rest] = token.split(".");
  if (!encoded || !signature || rest.length > 0) return undefined;
  const subject = Buffer.from(encoded, "base64url").toString("utf8");
  if (!safeEqual(signature, hmac(secretKey, `unsubscribe:${subject}`))) return undefined;
  const dot = subject.lastIndexOf(".");
  const userId = subject.slice(0, dot);
  const category = subject.slice(dot + 1) as NotificationCategory;
  if (dot < 1 || !NOTIFICATION_CATEGORIES.includes(category)) return undefined;
  return { userId, category };
}

export function unsubscribeUrl(publicUrl: string, token: string): string {
  return `${publicUrl}/api/v1/notifications/unsubscribe?token=${token}`;
}
