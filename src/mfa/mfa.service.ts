import { randomInt } from "node:crypto";
import QRCode from "qrcode";
import { type MfaMethod, parseAccountSettings } from "../accounts/account-settings.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { FactorThrottle } from "../auth/factor-throttle.js";
import type { PasswordHasher } from "../auth/passwords.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import type { MailBrandingLoader } from "../branding/mail-branding.js";
import { type Db, type Effects, type Executor, transact } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { decryptSecret, encryptSecret, hashToken, newSecretToken, safeEqual } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import { normalizePhone, PHONE_MESSAGE } from "../lib/phone.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import { maskPhone, type SmsSender } from "../sms/sms.js";
import type { User, UsersRepository } from "../users/users.repository.js";
import type { Factor, MfaRepository } from "./mfa.repository.js";
import type { MfaEvents } from "./mfa-events.js";
import { matchingStep, newTotp, newTotpSecret } from "./totp.js";

export type SecondFactorMethod = "totp" | "email" | "sms" | "recovery_code" | "passkey";
/** Second factors that work by sending a one-time code. */
export type CodeMethod = "email" | "sms";
/** Checks a second factor that is not a typed code (a passkey assertion) within the log-in's transaction. */
export type FactorVerifier = (trx: Executor, challenge: { id: string; user_id: string }) => Promise<boolean>;
export const EMAIL_CODE_SECONDS = 10 * 60;
export const EMAIL_CODE_RESEND_SECONDS = 30;
/** Text messages cost money and invite toll fraud: at most this many per user a day. */
export const SMS_PER_DAY = 10;

export function maskEmail(email: string): string {
  const [local = "", domain = ""] = email.split("@");
  return `${local.slice(0, 1)}…@${domain}`;
}
/** A 6-digit one-time code, as texted or mailed (second factors, the profile's mobile number). */
export function newNumericCode(): string {
  return String(randomInt(1_000_000)).padStart(6, "0");
}

/** How a sent code is stored: bound to its user, so a code hash proves nothing for anyone else. */
export function sentCodeHash(userId: string, code: string): string {
  return hashToken(`${userId}:${code.replace(/\s/g, "")}`);
}

export const CHALLENGE_SECONDS = 5 * 60;
export const CHALLENGE_ATTEMPTS = 5;
const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

export function newRecoveryCode(): string {
  const chars = Array.from({ length: 12 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]).join(
    "",
  );
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** Case, spaces and dashes do not matter when a person types a recovery code. */
export function recoveryCodeHash(code: string): string {
  return hashToken(code.toLowerCase().replace(/[\s-]/g, ""));
}

export function createMfaService(deps: {
  db: Db;
  clock: Clock;
  secretKey: Buffer;
  hasher: PasswordHasher;
  mailQueue: MailQueue;
  sms: SmsSender;
  mfa: MfaRepository;
  users: UsersRepository;
  sessions: SessionsService;
  factorThrottle: FactorThrottle;
  mfaEvents: MfaEvents;
  /** A notice about an administrator's action in an account comes in that account's branding. */
  mailBranding?: MailBrandingLoader;
}) {
  const { db, clock, mfa, users, sessions, factorThrottle } = deps;
  const now = () => clock.now().toISOString();

  /** The password typed again inside a session; wrong ones count on the second-factor throttle. */
  async function confirmPassword(session: Session, password: string, actor: Actor) {
    const user = (await users.findById(db, session.userId)) as User;
    const hash = user.passwordHash;
    const right = await factorThrottle.attempt(
      { userId: user.id, actor, session },
      async () => hash !== null && (await deps.hasher.verify(hash, password)),
    );
    if (!right) {
      throw new AppError("incorrect_password", "The password is incorrect.", {
        errors: [{ path: "password", code: "incorrect", message: "The password is incorrect." }],
      });
    }
    return user;
  }

  /** The log-in attempt behind an mfa_token; 400 invalid_token when unknown, used or expired. */
  async function liveChallenge(executor: Executor, token: string) {
    const challenge = token.length <= 128 ? await mfa.findChallenge(executor, hashToken(token)) : undefined;
    if (!challenge || challenge.used_at || challenge.expires_at <= now()) {
      throw new AppError("invalid_token", "This sign-in attempt has expired. Enter your password again.");
    }
    return challenge;
  }

  /**
   * Ten new codes; the old ones die. Besides the hash that checks them, a sealed copy is kept so an
   * account admin can show them to a locked-out member, except for Root users: nobody may see theirs.
   */
  async function issueRecoveryCodes(trx: Executor, userId: string): Promise<string[]> {
    const codes = Array.from({ length: 10 }, newRecoveryCode);
    const viewable = !(await isRootAnywhere(trx, userId));
    await mfa.replaceRecoveryCodes(
      trx,
      userId,
      codes.map((code) => ({
        id: newId("recovery"),
        hash: recoveryCodeHash(code),
        sealed: viewable ? encryptSecret(deps.secretKey, code) : null,
      })),
      now(),
    );
    return codes;
  }

  async function isRootAnywhere(executor: Executor, userId: string): Promise<boolean> {
    const row = await executor
      .selectFrom("memberships as m")
      .innerJoin("roles as r", "r.id", "m.role_id")
      .select("m.account_id")
      .where("m.user_id", "=", userId)
      .where("r.key", "=", "root")
      .where("r.builtin", "=", 1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Checks a second factor and spends it (a TOTP step or a recovery code works once). */
  async function verifySecondFactor(
    executor: Executor,
    userId: string,
    method: SecondFactorMethod,
    code: string,
  ): Promise<boolean> {
    const at = clock.now();
    if (method === "email" || method === "sms") {
      const factors = (await mfa.confirmedFactors(executor, userId)).filter((f) => f.type === method);
      return (
        factors.length > 0 &&
        checkCode(
          executor,
          userId,
          code,
          factors.map((f) => f.id),
        )
      );
    }
    if (method === "recovery_code")
      return mfa.spendRecoveryCode(executor, userId, recoveryCodeHash(code), at.toISOString());
    for (const factor of await mfa.confirmedFactors(executor, userId)) {
      if (factor.type !== "totp" || !factor.secretEnc) continue;
      const step = matchingStep(decryptSecret(deps.secretKey, factor.secretEnc), code.replace(/\s/g, ""), at);
      if (step !== undefined) return mfa.spendStep(executor, userId, factor.id, step, at.toISOString());
    }
    return false;
  }

  /** 429 when a code went out less than 30 s ago, or (SMS) the day's allowance is used up. */
  async function assertCanSend(userId: string, method: CodeMethod) {
    const last = await mfa.latestCode(db, userId);
    const since = last
      ? (clock.now().getTime() - Date.parse(last.created_at)) / 1000
      : Number.POSITIVE_INFINITY;
    if (since < EMAIL_CODE_RESEND_SECONDS) {
      const wait = Math.ceil(EMAIL_CODE_RESEND_SECONDS - since);
      throw new AppError("rate_limited", `A code was sent moments ago; try again in ${wait} seconds`, {
        headers: { "retry-after": String(wait) },
      });
    }
    if (
      method === "sms" &&
      (await mfa.codesSentSince(db, userId, "sms", addSeconds(clock.now(), -86_400).toISOString())) >=
        SMS_PER_DAY
    ) {
      throw new AppError("rate_limited", "Too many text messages today; use another method or try tomorrow", {
        headers: { "retry-after": "3600" },
      });
    }
  }

  /** Stores a new 6-digit code for the factor and delivers it by mail or text message. */
  async function sendCode(
    trx: Executor,
    effects: Effects,
    userId: string,
    factor: Pick<Factor, "id" | "type" | "secretEnc">,
  ) {
    const code = newNumericCode();
    await mfa.insertCode(trx, {
      id: newId("code"),
      userId,
      factorId: factor.id,
      hash: sentCodeHash(userId, code),
      expiresAt: addSeconds(clock.now(), EMAIL_CODE_SECONDS).toISOString(),
      now: now(),
    });
    if (factor.type === "sms") {
      const phone = decryptSecret(deps.secretKey, factor.secretEnc as string);
      effects.afterCommit(() =>
        deps.sms.send({
          to: phone,
          text: `${code} is your Gatehouse sign-in code. It expires in 10 minutes. Never share it.`,
        }),
      );
      return;
    }
    const user = (await users.findById(trx, userId)) as User;
    await deps.mailQueue.enqueue(trx, effects, mails.signInCode(user.email, user.firstName, code));
  }

  /**
   * The newest code sent for these factors, unexpired, unused, fewer than 5 wrong tries; a wrong try
   * counts, a right one is spent and marks its factor used.
   */
  async function checkCode(
    executor: Executor,
    userId: string,
    code: string,
    factorIds: string[],
  ): Promise<boolean> {
    const latest = await mfa.latestCode(executor, userId, factorIds);
    if (
      !latest ||
      latest.used_at ||
      latest.expires_at <= now() ||
      Number(latest.attempts) >= CHALLENGE_ATTEMPTS
    )
      return false;
    if (!safeEqual(latest.code_hash, sentCodeHash(userId, code))) {
      await mfa.failCode(executor, latest.id);
      return false;
    }
    if (!(await mfa.spendCode(executor, latest.id, now()))) return false;
    await mfa.markUsed(executor, userId, latest.factor_id, now());
    return true;
  }

  const FACTOR_ADDED: Record<string, string> = {
    totp: "An authenticator app was added to your Gatehouse login.",
    email: "Email codes were added to your Gatehouse login.",
    sms: "Text message codes were added to your Gatehouse login.",
    passkey: "A passkey was added to your Gatehouse login.",
  };

  /**
   * Marks a pending factor confirmed in `trx`: the user's first factor also gets recovery codes and
   * clears a forced enrollment; audited and mailed.
   */
  async function activateFactor(
    trx: Executor,
    effects: Effects,
    session: Session,
    factorId: string,
    type: string,
    actor: Actor,
  ): Promise<string[] | undefined> {
    const first = (await mfa.confirmedFactors(trx, session.userId)).length === 0;
    await mfa.confirm(trx, session.userId, factorId, now());
    const codes = first ? await issueRecoveryCodes(trx, session.userId) : undefined;
    if (first) {
      await trx
        .updateTable("users")
        .set({ mfa_required_since: null })
        .where("id", "=", session.userId)
        .execute();
      await sessions.clearMfaEnrollmentDue(trx, effects, session.userId);
    }
    if (first) await deps.mfaEvents.enabled(trx, effects, actor, session.userId, type);
    await recordAudit(
      trx,
      actor,
      {
        accountId: session.accountId,
        action: first ? "mfa.enabled" : "mfa.factor_added",
        targetType: "mfa_factor",
        targetId: factorId,
        changes: { type },
      },
      clock.now(),
    );
    await securityMail(
      trx,
      effects,
      session.userId,
      type === "passkey" ? "A passkey was added" : "Two-factor authentication is on",
      FACTOR_ADDED[type] ?? "A second factor was added to your Gatehouse login.",
    );
    return codes;
  }

  /** Confirms a pending factor with `check`; the user's first factor also gets recovery codes. */
  async function confirmFactor(
    session: Session,
    factorId: string,
    type: "totp" | "email" | "sms",
    actor: Actor,
    check: (trx: Executor, factor: Factor) => Promise<boolean>,
  ) {
    // An enrollment code is a guess too; a right one proves the new factor, not the user, so it
    // does not clear the counter.
    const guesser = { userId: session.userId, actor };
    await factorThrottle.check(guesser);
    const outcome = await transact(db, async (trx, effects) => {
      const factor = await mfa.find(trx, session.userId, factorId);
      if (factor?.type !== type || (type === "totp" && !factor.secretEnc)) throw notFound("Factor");
      if (factor.confirmedAt) throw new AppError("conflict", "This factor is already confirmed");
      // A wrong code is returned, not thrown, so its counted attempt is kept.
      if (!(await check(trx, factor))) return undefined;
      const codes = await activateFactor(trx, effects, session, factorId, type, actor);
      return { factor: (await mfa.find(trx, session.userId, factorId)) as Factor, codes };
    });
    if (!outcome) {
      await factorThrottle.fail(guesser);
      throw new AppError("invalid_code", "That code is not right. Check it and try the current code.", {
        errors: [{ path: "code", code: "invalid_code", message: "That code is not right" }],
      });
    }
    return {
      factor: factorView(outcome.factor),
      ...(outcome.codes ? { recovery_codes: outcome.codes } : {}),
    };
  }

  /** The policies of the user's active accounts that require them to use a second factor. */
  async function requiringPolicies(executor: Executor, userId: string) {
    const rows = await executor
      .selectFrom("memberships as m")
      .innerJoin("accounts as a", "a.id", "m.account_id")
      .select(["m.account_id", "m.role_id", "a.settings"])
      .where("m.user_id", "=", userId)
      .where("m.status", "=", "active")
      .execute();
    const teamRoles = await executor
      .selectFrom("team_members as tm")
      .innerJoin("teams as t", (j) =>
        j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
      )
      .select(["tm.account_id", "t.role_id"])
      .where("tm.user_id", "=", userId)
      .execute();
    return rows
      .map((r) => ({
        accountId: r.account_id,
        roleIds: [r.role_id, ...teamRoles.filter((t) => t.account_id === r.account_id).map((t) => t.role_id)],
        mfa: parseAccountSettings(r.settings).mfa,
      }))
      .filter((r) => r.roleIds.some((id) => id !== null && r.mfa.required_role_ids.includes(id)))
      .map((r) => r.mfa);
  }

  const factorView = (f: Factor) => ({
    id: f.id,
    type: f.type,
    label: f.label,
    created_at: f.createdAt,
    last_used_at: f.lastUsedAt,
  });

  /**
   * A notice to the user about a change to their login's security, queued in the change's transaction.
   * `accountId`: the change was made by an administrator of that account (the mail carries its branding).
   */
  async function securityMail(
    trx: Executor,
    effects: Effects,
    userId: string,
    subject: string,
    line: string,
    accountId?: string,
  ) {
    const user = await users.findById(trx, userId);
    if (!user) return;
    const branding = accountId ? await deps.mailBranding?.load(trx, accountId) : undefined;
    await deps.mailQueue.enqueue(
      trx,
      effects,
      mails.securityNotice(user.email, user.firstName, subject, line, branding ? { branding } : {}),
    );
  }

  return {
    verifySecondFactor,
    liveChallenge,
    factorView,
    issueRecoveryCodes,
    isRootAnywhere,
    securityMail,
    requiringPolicies,
    activateFactor,

    /**
     * When the user must have enrolled a second factor (their grace period counts from the first time
     * an account required it), or null when nothing requires it or they already have one.
     */
    async enrollmentDueAt(trx: Executor, userId: string): Promise<string | null> {
      if ((await mfa.confirmedFactors(trx, userId)).length > 0) return null;
      const policies = await requiringPolicies(trx, userId);
      if (policies.length === 0) return null;
      const row = await trx
        .selectFrom("users")
        .select("mfa_required_since")
        .where("id", "=", userId)
        .executeTakeFirstOrThrow();
      const since = row.mfa_required_since ?? now();
      if (!row.mfa_required_since)
        await trx.updateTable("users").set({ mfa_required_since: since }).where("id", "=", userId).execute();
      const grace = Math.min(...policies.map((p) => p.grace_days));
      return addSeconds(new Date(since), grace * 86_400).toISOString();
    },

    /** The methods the user may enroll: those every requiring account allows. */
    async assertMethodAllowed(userId: string, method: MfaMethod) {
      const policies = await requiringPolicies(db, userId);
      if (policies.some((p) => !p.allowed_methods.includes(method))) {
        throw new AppError(
          "forbidden",
          `Your account's security policy does not allow ${method} as a second factor`,
        );
      }
    },

    /** The second factors a log-in may use, or none when MFA is off. */
    async methodsFor(userId: string): Promise<SecondFactorMethod[]> {
      const types = new Set((await mfa.confirmedFactors(db, userId)).map((f) => f.type));
      if (types.size === 0) return [];
      return [...(["totp", "email", "sms", "passkey"] as const).filter((t) => types.has(t)), "recovery_code"];
    },

    async status(userId: string) {
      const factors = await mfa.confirmedFactors(db, userId);
      return {
        enabled: factors.length > 0,
        factors: factors.map(factorView),
        recovery_codes_remaining: await mfa.recoveryCodesRemaining(db, userId),
      };
    },

    async startTotp(session: Session, label: string | undefined, actor: Actor) {
      // Even the first factor: one added through a stolen session would let its holder re-authenticate.
      sessions.requireFresh(session);
      await this.assertMethodAllowed(session.userId, "totp");
      const user = (await users.findById(db, session.userId)) as User;
      const secret = newTotpSecret();
      const id = newId("factor");
      await transact(db, async (trx) => {
        await mfa.insert(trx, {
          id,
          userId: user.id,
          type: "totp",
          label: label?.trim() || "Authenticator app",
          secretEnc: encryptSecret(deps.secretKey, secret),
          now: now(),
        });
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "mfa.totp_enrollment_started",
            targetType: "mfa_factor",
            targetId: id,
          },
          clock.now(),
        );
      });
      const uri = newTotp(secret, user.email).toString();
      return {
        factor_id: id,
        secret,
        otpauth_uri: uri,
        qr_svg: await QRCode.toString(uri, { type: "svg", margin: 1 }),
      };
    },

    async verifyTotp(session: Session, factorId: string, code: string, actor: Actor) {
      return confirmFactor(session, factorId, "totp", actor, async (trx, factor) => {
        const step = matchingStep(
          decryptSecret(deps.secretKey, factor.secretEnc as string),
          code.replace(/\s/g, ""),
          clock.now(),
        );
        return step !== undefined && (await mfa.spendStep(trx, session.userId, factor.id, step, now()));
      });
    },

    /** Email codes as a factor: the address must be verified; a code is sent to confirm it. */
    async startEmail(session: Session, actor: Actor) {
      // Even the first factor: one added through a stolen session would let its holder re-authenticate.
      sessions.requireFresh(session);
      await this.assertMethodAllowed(session.userId, "email");
      const user = (await users.findById(db, session.userId)) as User;
      if (!user.emailVerifiedAt) throw new AppError("conflict", "Verify your email address first");
      await assertCanSend(user.id, "email");
      const id = newId("factor");
      await transact(db, async (trx, effects) => {
        await mfa.insert(trx, {
          id,
          userId: user.id,
          type: "email",
          label: `Email (${maskEmail(user.email)})`,
          secretEnc: null,
          now: now(),
        });
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "mfa.email_enrollment_started",
            targetType: "mfa_factor",
            targetId: id,
          },
          clock.now(),
        );
        await sendCode(trx, effects, user.id, { id, type: "email", secretEnc: null });
      });
      return { factor_id: id };
    },

    async verifyEmail(session: Session, factorId: string, code: string, actor: Actor) {
      return confirmFactor(session, factorId, "email", actor, (trx) =>
        checkCode(trx, session.userId, code, [factorId]),
      );
    },

    /**
     * Text-message codes as a factor. The number is proven by the code sent to it: only a confirmed
     * number becomes a factor. It is stored sealed with SECRET_KEY and shown masked.
     */
    async startSms(session: Session, phoneInput: string, actor: Actor) {
      // Even the first factor: one added through a stolen session would let its holder re-authenticate.
      sessions.requireFresh(session);
      await this.assertMethodAllowed(session.userId, "sms");
      const phone = normalizePhone(phoneInput);
      if (!phone) {
        throw new AppError("validation_failed", PHONE_MESSAGE, {
          errors: [{ path: "phone", code: "invalid_phone", message: PHONE_MESSAGE }],
        });
      }
      if ((await mfa.confirmedFactors(db, session.userId)).some((f) => f.type === "sms")) {
        throw new AppError("conflict", "Text message codes are already on: remove that number first");
      }
      await assertCanSend(session.userId, "sms");
      const factor = { id: newId("factor"), type: "sms", secretEnc: encryptSecret(deps.secretKey, phone) };
      await transact(db, async (trx, effects) => {
        await mfa.insert(trx, {
          ...factor,
          userId: session.userId,
          label: `Text message (${maskPhone(phone)})`,
          now: now(),
        });
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "mfa.sms_enrollment_started",
            targetType: "mfa_factor",
            targetId: factor.id,
          },
          clock.now(),
        );
        await sendCode(trx, effects, session.userId, factor);
      });
      return { factor_id: factor.id, phone: maskPhone(phone) };
    },

    async verifySms(session: Session, factorId: string, code: string, actor: Actor) {
      return confirmFactor(session, factorId, "sms", actor, (trx) =>
        checkCode(trx, session.userId, code, [factorId]),
      );
    },

    /** Sends a code by mail or text to one of the user's confirmed factors of that kind. */
    async sendCodeTo(userId: string, method: CodeMethod) {
      const factor = (await mfa.confirmedFactors(db, userId)).find((f) => f.type === method);
      if (!factor) {
        throw new AppError(
          "validation_failed",
          `${method === "sms" ? "Text message" : "Email"} codes are not set up for this login`,
        );
      }
      await assertCanSend(userId, method);
      await transact(db, (trx, effects) => sendCode(trx, effects, userId, factor));
    },

    /** During log-in: mail or text a code to the user behind a valid challenge. */
    async sendLoginCode(token: string, method: CodeMethod) {
      const challenge = await liveChallenge(db, token);
      await this.sendCodeTo(challenge.user_id, method);
    },

    async regenerateRecoveryCodes(session: Session, actor: Actor): Promise<string[]> {
      sessions.requireFresh(session);
      return transact(db, async (trx, effects) => {
        if ((await mfa.confirmedFactors(trx, session.userId)).length === 0) {
          throw new AppError("conflict", "Turn on two-factor authentication first");
        }
        const codes = await issueRecoveryCodes(trx, session.userId);
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "mfa.recovery_codes_regenerated",
            targetType: "user",
            targetId: session.userId,
          },
          clock.now(),
        );
        await securityMail(
          trx,
          effects,
          session.userId,
          "New recovery codes",
          "New recovery codes were made for your Gatehouse login; the old ones no longer work.",
        );
        return codes;
      });
    },

    async removeFactor(session: Session, factorId: string, password: string, actor: Actor) {
      sessions.requireFresh(session);
      await confirmPassword(session, password, actor);
      await transact(db, async (trx, effects) => {
        const factor = await mfa.find(trx, session.userId, factorId);
        if (!factor) throw notFound("Factor");
        const hadFactors = (await mfa.confirmedFactors(trx, session.userId)).length > 0;
        await mfa.deleteFactor(trx, session.userId, factorId);
        const last = (await mfa.confirmedFactors(trx, session.userId)).length === 0;
        if (last) await mfa.deleteAll(trx, session.userId);
        // Dropping an unconfirmed factor of someone without MFA turns nothing off.
        if (last && hadFactors) await deps.mfaEvents.disabled(trx, effects, actor, session.userId, "user");
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: last ? "mfa.disabled" : "mfa.factor_removed",
            targetType: "mfa_factor",
            targetId: factorId,
            changes: { type: factor.type },
          },
          clock.now(),
        );
        if (last)
          await securityMail(
            trx,
            effects,
            session.userId,
            "Two-factor authentication is off",
            "The last second factor was removed from your Gatehouse login.",
          );
      });
    },

    async disable(session: Session, password: string, actor: Actor) {
      sessions.requireFresh(session);
      await confirmPassword(session, password, actor);
      await transact(db, async (trx, effects) => {
        const hadFactors = (await mfa.confirmedFactors(trx, session.userId)).length > 0;
        await mfa.deleteAll(trx, session.userId);
        if (hadFactors) await deps.mfaEvents.disabled(trx, effects, actor, session.userId, "user");
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "mfa.disabled",
            targetType: "user",
            targetId: session.userId,
          },
          clock.now(),
        );
        await securityMail(
          trx,
          effects,
          session.userId,
          "Two-factor authentication is off",
          "Two-factor authentication was turned off for your Gatehouse login.",
        );
      });
    },

    /** The first half of a log-in: the password was right; the token stands for it for 5 minutes. */
    async createChallenge(userId: string, accountId: string | undefined, ip: string | null): Promise<string> {
      const token = newSecretToken();
      await mfa.insertChallenge(db, {
        id: newId("challenge"),
        userId,
        tokenHash: hashToken(token),
        accountId: accountId ?? null,
        ip,
        expiresAt: addSeconds(clock.now(), CHALLENGE_SECONDS).toISOString(),
        now: now(),
      });
      return token;
    },

    /**
     * Completes the second half. Wrong codes are counted on the challenge: after 5 it is dead. The
     * winning code and the challenge are spent in the caller's transaction.
     */
    async completeChallenge(
      trx: Executor,
      token: string,
      method: SecondFactorMethod,
      code: string | FactorVerifier,
    ) {
      const challenge = await liveChallenge(trx, token);
      if (Number(challenge.attempts) >= CHALLENGE_ATTEMPTS) {
        throw new AppError("rate_limited", "Too many wrong codes. Enter your password again.", {
          headers: { "retry-after": "1" },
        });
      }
      const ok =
        typeof code === "function"
          ? await code(trx, challenge)
          : await verifySecondFactor(trx, challenge.user_id, method, code);
      if (!ok) return { ok: false as const, challenge };
      if (!(await mfa.spendChallenge(trx, challenge.id, now())))
        throw new AppError("invalid_token", "This sign-in attempt was already completed.");
      return { ok: true as const, challenge };
    },

    /** Counts a wrong code outside the rolled-back transaction, so the limit holds. */
    async countFailure(challengeId: string): Promise<number> {
      return mfa.failChallenge(db, challengeId);
    },

    /** Re-authentication with a code that must first be sent (`email`; SMS joins the same way). */
    /** For POST /auth/reauth: a code by mail or text to the user's confirmed factor of that kind. */
    async sendReauthCode(session: Session, method: CodeMethod) {
      await this.sendCodeTo(session.userId, method);
    },

    async reauthenticate(
      session: Session,
      input: { password?: string; method?: SecondFactorMethod; code?: string },
      actor: Actor,
    ) {
      if (input.password !== undefined) {
        await confirmPassword(session, input.password, actor);
      } else if (input.method && input.code) {
        const { method, code } = input;
        // Only the user's own confirmed methods: a pending enrollment code must not count.
        if (!(await this.methodsFor(session.userId)).includes(method)) {
          throw new AppError("validation_failed", `${method} is not set up for your login`, {
            errors: [{ path: "method", code: "not_enrolled", message: "This method is not set up" }],
          });
        }
        const right = await factorThrottle.attempt({ userId: session.userId, actor, session }, () =>
          verifySecondFactor(db, session.userId, method, code),
        );
        if (!right) {
          throw new AppError("invalid_code", "That code is not right", {
            errors: [{ path: "code", code: "invalid_code", message: "That code is not right" }],
          });
        }
      } else {
        throw new AppError("validation_failed", "Give your password, or a method and code");
      }
      return this.markFresh(
        session,
        actor,
        input.password !== undefined ? "password" : (input.method as SecondFactorMethod),
      );
    },

    /**
     * Marks the session freshly authenticated once a method was checked (`within` runs in the same
     * transaction, e.g. a passkey's counter), with the audit event naming the method.
     */
    async markFresh(
      session: Session,
      actor: Actor,
      method: SecondFactorMethod | "password",
      within?: (trx: Executor) => Promise<void>,
    ): Promise<string> {
      return transact(db, async (trx, effects) => {
        await within?.(trx);
        const until = await sessions.markReauthenticated(trx, effects, session);
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "auth.reauthenticated",
            targetType: "session",
            targetId: session.id,
            changes: { method },
          },
          clock.now(),
        );
        return until;
      });
    },
  };
}

export type MfaService = ReturnType<typeof createMfaService>;
