import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { FactorThrottle } from "../auth/factor-throttle.js";
import type { Session } from "../auth/sessions.repository.js";
import { type Db, transact } from "../db/database.js";
import { AppError, invalidFields, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { addSeconds } from "../lib/clock.js";
import { safeEqual } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import {
  CHALLENGE_ATTEMPTS,
  EMAIL_CODE_RESEND_SECONDS,
  EMAIL_CODE_SECONDS,
  newNumericCode,
  SMS_PER_DAY,
  sentCodeHash,
} from "../mfa/mfa.service.js";
import { maskPhone, type SmsSender } from "../sms/sms.js";
import type { UsersRepository } from "../users/users.repository.js";
import type { NotificationCursor, NotificationsRepository } from "./notifications.repository.js";
import {
  applyUpdate,
  type CategoryPreference,
  DEFAULT_CHANNELS,
  effectivePreferences,
  NOTIFICATION_CATEGORIES,
  type PreferencesUpdate,
} from "./preferences.js";
import { readUnsubscribeToken } from "./unsubscribe-tokens.js";

function decodeCursor(value: string): NotificationCursor {
  try {
    const parsed = JSON.parse(
      Buffer.from(value, "base64url").toString("utf8"),
    ) as Partial<NotificationCursor>;
    if (typeof parsed.createdAt === "string" && typeof parsed.id === "string")
      return { createdAt: parsed.createdAt, id: parsed.id };
  } catch {}
  throw invalidFields([
    { path: "cursor", code: "invalid", message: "This cursor is not one a previous page gave" },
  ]);
}

const encodeCursor = (cursor: NotificationCursor) =>
  Buffer.from(JSON.stringify(cursor)).toString("base64url");

/** A person's notification preferences, their in-app notifications and the proof of their mobile number. */
export function createNotificationsService(deps: {
  db: Db;
  clock: Clock;
  secretKey: Buffer;
  repository: NotificationsRepository;
  users: UsersRepository;
  sms: SmsSender;
  factorThrottle: FactorThrottle;
}) {
  const { db, clock, repository, users } = deps;
  const now = () => clock.now().toISOString();

  async function userOf(userId: string) {
    const user = await users.findById(db, userId);
    if (!user) throw notFound("User");
    return { user, mobileVerified: user.mobile !== null && user.mobileVerifiedAt !== null };
  }

  async function preferencesOf(userId: string): Promise<CategoryPreference[]> {
    const { mobileVerified } = await userOf(userId);
    const stored = (await repository.preferencesOf(db, [userId])).get(userId) ?? new Map();
    return effectivePreferences(stored, mobileVerified);
  }

  return {
    preferencesOf,

    async putPreferences(
      actor: Actor & { id: string },
      accountId: string | null,
      update: PreferencesUpdate,
    ): Promise<CategoryPreference[]> {
      const { mobileVerified } = await userOf(actor.id);
      const current = await preferencesOf(actor.id);
      const { next, problems } = applyUpdate(current, update, mobileVerified);
      if (problems.length) throw invalidFields(problems);
      await transact(db, async (trx) => {
        for (const key of NOTIFICATION_CATEGORIES) {
          const channels = next.get(key);
          const isDefault =
            !channels ||
            (channels.email === DEFAULT_CHANNELS.email &&
              channels.in_app === DEFAULT_CHANNELS.in_app &&
              channels.sms === DEFAULT_CHANNELS.sms);
          await repository.savePreference(trx, actor.id, key, isDefault ? undefined : channels, now());
        }
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "user.notification_preferences_updated",
            targetType: "user",
            targetId: actor.id,
            changes: Object.fromEntries(next),
          },
          clock.now(),
        );
      });
      return preferencesOf(actor.id);
    },

    /** RFC 8058 one-click: the signed token's category stops coming by mail. */
    async unsubscribe(token: string): Promise<void> {
      const subject = readUnsubscribeToken(deps.secretKey, token);
      if (!subject || subject.category === "security")
        throw new AppError("invalid_token", "This unsubscribe link is not valid");
      const user = await users.findById(db, subject.userId);
      if (!user) return;
      const current = await preferencesOf(user.id);
      const channels = current.find((c) => c.key === subject.category)?.channels ?? DEFAULT_CHANNELS;
      await transact(db, async (trx) => {
        await repository.savePreference(trx, user.id, subject.category, { ...channels, email: false }, now());
        await recordAudit(
          trx,
          { type: "user", id: user.id, ip: null, userAgent: null, requestId: null },
          {
            accountId: null,
            action: "user.notification_unsubscribed",
            targetType: "user",
            targetId: user.id,
            changes: { category: subject.category, email: false },
          },
          clock.now(),
        );
      });
    },

    async list(userId: string, options: { unread: boolean; limit: number; cursor?: string | undefined }) {
      const after = options.cursor ? decodeCursor(options.cursor) : undefined;
      const [rows, unreadCount] = await Promise.all([
        repository.list(db, userId, { unread: options.unread, limit: options.limit + 1, after }),
        repository.unreadCount(db, userId),
      ]);
      const page = rows.slice(0, options.limit);
      const last = page.at(-1);
      return {
        notifications: page,
        nextCursor:
          rows.length > options.limit && last
            ? encodeCursor({ createdAt: last.createdAt, id: last.id })
            : null,
        unreadCount,
      };
    },

    /** Marks the user's own notifications read; ids of others' (or unknown) ones change nothing. */
    async markRead(userId: string, ids: readonly string[] | "all") {
      const marked = await repository.markRead(db, userId, ids, now());
      return { marked, unreadCount: await repository.unreadCount(db, userId) };
    },

    /** Texts a code to the profile's mobile number (throttled like the SMS factor's codes). */
    async startMobileVerification(session: Session, actor: Actor) {
      const { user, mobileVerified } = await userOf(session.userId);
      if (!user.mobile)
        throw new AppError("validation_failed", "Add a mobile number to your profile first", {
          errors: [{ path: "mobile", code: "missing", message: "Add a mobile number to your profile first" }],
        });
      if (mobileVerified) throw new AppError("conflict", "This mobile number is verified already");
      const last = await repository.latestMobileCode(db, user.id);
      const since = last
        ? (clock.now().getTime() - Date.parse(last.createdAt)) / 1000
        : Number.POSITIVE_INFINITY;
      if (since < EMAIL_CODE_RESEND_SECONDS) {
        const wait = Math.ceil(EMAIL_CODE_RESEND_SECONDS - since);
        throw new AppError("rate_limited", `A code was sent moments ago; try again in ${wait} seconds`, {
          headers: { "retry-after": String(wait) },
        });
      }
      const dayAgo = addSeconds(clock.now(), -86_400).toISOString();
      if ((await repository.mobileCodesSentSince(db, user.id, dayAgo)) >= SMS_PER_DAY)
        throw new AppError("rate_limited", "Too many text messages today; try again tomorrow", {
          headers: { "retry-after": "3600" },
        });
      const mobile = user.mobile;
      const code = newNumericCode();
      await transact(db, async (trx, effects) => {
        await repository.insertMobileCode(trx, {
          id: newId("code"),
          userId: user.id,
          mobile,
          hash: sentCodeHash(user.id, code),
          expiresAt: addSeconds(clock.now(), EMAIL_CODE_SECONDS).toISOString(),
          now: now(),
        });
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "user.mobile_verification_sent",
            targetType: "user",
            targetId: user.id,
          },
          clock.now(),
        );
        effects.afterCommit(() =>
          deps.sms.send({
            to: mobile,
            text: `${code} is your Gatehouse code to verify this number. It expires in 10 minutes. Never share it.`,
          }),
        );
      });
      return { mobile: maskPhone(mobile), expires_in: EMAIL_CODE_SECONDS };
    },

    /** Checks the texted code (a guess, on the factor throttle); a right one proves the number. */
    async confirmMobile(session: Session, code: string, actor: Actor) {
      const ok = await deps.factorThrottle.attempt({ userId: session.userId, actor, session }, () =>
        transact(db, async (trx) => {
          const user = await users.findById(trx, session.userId);
          const latest = await repository.latestMobileCode(trx, session.userId);
          if (
            !user?.mobile ||
            !latest ||
            latest.usedAt ||
            latest.mobile !== user.mobile ||
            latest.expiresAt <= now() ||
            latest.attempts >= CHALLENGE_ATTEMPTS
          )
            return false;
          if (!safeEqual(latest.hash, sentCodeHash(user.id, code))) {
            await repository.failMobileCode(trx, latest.id);
            return false;
          }
          if (!(await repository.spendMobileCode(trx, latest.id, now()))) return false;
          await users.update(trx, user.id, { mobileVerifiedAt: now() }, now());
          await recordAudit(
            trx,
            actor,
            {
              accountId: session.accountId,
              action: "user.mobile_verified",
              targetType: "user",
              targetId: user.id,
            },
            clock.now(),
          );
          return true;
        }),
      );
      if (!ok)
        throw new AppError("invalid_code", "That code is not right. Check it, or ask for a new one.", {
          errors: [{ path: "code", code: "invalid_code", message: "That code is not right" }],
        });
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
