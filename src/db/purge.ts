import type { Db } from "./database.js";

/** How long rows stay once they can no longer be used. */
export const RETENTION_SECONDS = {
  /** Throttle and rate-limit counters: untouched this long (longer than every window and lock) and unlocked. */
  idleThrottle: 24 * 3600,
  /** Mailed and texted sign-in codes, past their expiry: the daily SMS allowance counts a day of them. */
  expiredCode: 24 * 3600,
  /** Delivered or failed mail (the bodies of mail sent over SMTP are erased on delivery already). */
  settledMail: 30 * 24 * 3600,
} as const;

export type PurgeCounts = {
  throttles: number;
  email_tokens: number;
  email_change_requests: number;
  mfa_challenges: number;
  mfa_codes: number;
  webauthn_challenges: number;
  mail: number;
};

/**
 * Deletes what can no longer be used: expired links (reset, verification, reactivation, email change),
 * log-in and WebAuthn challenges, sign-in codes, idle throttle counters, and delivered or failed mail
 * past its retention. Idempotent. The job loop's `purge-expired` job.
 */
export async function purgeExpired(db: Db, now: Date): Promise<PurgeCounts> {
  const iso = now.toISOString();
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
  const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);

  const throttles = await db
    .deleteFrom("throttles")
    .where("updated_at", "<", ago(RETENTION_SECONDS.idleThrottle))
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", iso)]))
    .executeTakeFirst();
  const emailTokens = await db.deleteFrom("email_tokens").where("expires_at", "<=", iso).executeTakeFirst();
  const emailChanges = await db
    .deleteFrom("email_change_requests")
    .where("expires_at", "<=", iso)
    .executeTakeFirst();
  const webauthn = await db
    .deleteFrom("webauthn_challenges")
    .where("expires_at", "<=", iso)
    .executeTakeFirst();
  const mfaChallenges = await db
    .deleteFrom("mfa_challenges")
    .where("expires_at", "<=", iso)
    .executeTakeFirst();
  const codes = await db
    .deleteFrom("mfa_codes")
    .where("expires_at", "<=", ago(RETENTION_SECONDS.expiredCode))
    .executeTakeFirst();
  const mail = await db
    .deleteFrom("mail_queue")
    .where("status", "in", ["sent", "failed"])
    .where("created_at", "<", ago(RETENTION_SECONDS.settledMail))
    .executeTakeFirst();
  return {
    throttles: count(throttles),
    email_tokens: count(emailTokens),
    email_change_requests: count(emailChanges),
    mfa_challenges: count(mfaChallenges),
    mfa_codes: count(codes),
    webauthn_challenges: count(webauthn),
    mail: count(mail),
  };
}
