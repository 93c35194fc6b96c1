import {
  type AccountSettings,
  DEFAULT_SESSION_POLICY,
  type SessionPolicy,
} from "../accounts/account-settings.js";
import type { AccountsRepository, LoginMembership } from "../accounts/accounts.repository.js";
import type { AccountsService } from "../accounts/accounts.service.js";
import {
  clientIp,
  compileAllowlist,
  type IpAllowlistGuard,
  IpNotAllowedError,
} from "../accounts/ip-allowlist.js";
import { type Actor, type AuditEvent, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import { AppError, type FieldError, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { MailLimits } from "../mail/mail-limits.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import {
  CHALLENGE_ATTEMPTS,
  type FactorVerifier,
  type MfaService,
  type SecondFactorMethod,
} from "../mfa/mfa.service.js";
import { normalizeEmail, type User, type UsersRepository } from "../users/users.repository.js";
import type { Me } from "../users/users.service.js";
import { recognizeDevice } from "./devices.js";
import type { DevicesRepository } from "./devices.repository.js";
import type { EmailChangeRepository } from "./email-change.repository.js";
import type { EmailTokensRepository } from "./email-tokens.repository.js";
import type { FactorThrottle } from "./factor-throttle.js";
import type { AttemptCounters, AttemptKeys, LoginThrottle } from "./login-throttle.js";
import {
  checkPassword,
  type PasswordPolicy,
  passwordPolicyError,
  ruleError,
  strictestPolicy,
} from "./password-policy.js";
import type { PasswordHasher } from "./passwords.js";
import type { Session } from "./sessions.repository.js";
import type { SessionsService } from "./sessions.service.js";

/** `me`: what GET /me shows right after the log-in, from what the log-in read (its answer reads nothing more). */
export type LoginResult = { user: User; accountId: string | null; token: string; session: Session; me: Me };
export type MfaRequired = { mfaRequired: true; mfaToken: string; methods: SecondFactorMethod[] };

/**
 * What a log-in has read about its user before the closing transaction, read once and passed down:
 * the user, every membership with its account's settings, and whether the user is known to have no
 * second factor (a password log-in that needed none).
 */
type LoginSubject = {
  user: User;
  mfaRequiredSince: string | null;
  memberships: LoginMembership[];
  noFactors: boolean;
  /** A confirmed second factor, as read with the user (a password log-in that needed none: false). */
  hasFactor: boolean;
};

export type AuthDeps = {
  db: Db;
  clock: Clock;
  publicUrl: string;
  hasher: PasswordHasher;
  mailQueue: MailQueue;
  mailLimits: MailLimits;
  users: UsersRepository;
  accounts: AccountsRepository;
  accountsService: AccountsService;
  emailTokens: EmailTokensRepository;
  emailChanges: EmailChangeRepository;
  devices: DevicesRepository;
  sessions: SessionsService;
  throttle: LoginThrottle;
  /** Second factors and passwords typed inside a session, per user and IP. */
  factorThrottle: FactorThrottle;
  mfa: MfaService;
  ipAllowlist: IpAllowlistGuard;
};

/** A log-in refused by IP allowlists, with what `finishLogin` audits once the transaction is rolled back. */
class LoginRefusedByIp extends IpNotAllowedError {
  constructor(
    readonly actor: Actor & { id: string },
    readonly accountIds: string[],
    what: string,
  ) {
    super(actor.ip, what);
  }
}

export function splitName(name: string): { firstName: string; lastName: string } {
  const trimmed = name.trim().replace(/\s+/g, " ");
  const space = trimmed.indexOf(" ");
  return space < 0
    ? { firstName: trimmed, lastName: "" }
    : { firstName: trimmed.slice(0, space), lastName: trimmed.slice(space + 1) };
}

export function createAuthService(deps: AuthDeps) {
  const { db, clock, hasher, mailQueue, users, accounts, emailTokens, sessions, throttle, factorThrottle } =
    deps;
  const link = (page: string, token: string) =>
    `${deps.publicUrl}/${page}?token=${encodeURIComponent(token)}`;

  async function policyFor(executor: Executor, userId: string): Promise<PasswordPolicy> {
    const settings = await accounts.settingsOfUserAccounts(executor, userId);
    return strictestPolicy(settings.map((s) => s.password_policy));
  }

  /** Policy rules plus history; throws 422 password_policy listing every failed rule. */
  async function assertAcceptable(
    executor: Executor,
    user: Pick<User, "id" | "email" | "firstName" | "lastName">,
    password: string,
    path: string,
    policy: PasswordPolicy,
  ) {
    const accountNames = (await accounts.membershipsOfUser(executor, user.id)).map((m) => m.accountName);
    const errors: FieldError[] = await checkPassword(
      password,
      policy,
      { email: user.email, firstName: user.firstName, lastName: user.lastName, accountNames },
      path,
    );
    if (errors.length === 0 && policy.history > 0) {
      for (const old of await users.recentPasswordHashes(executor, user.id, policy.history)) {
        if (await hasher.verify(old, password)) {
          errors.push(ruleError(policy, "reused", path));
          break;
        }
      }
    }
    if (errors.length) throw passwordPolicyError(errors);
  }

  async function setPassword(executor: Executor, userId: string, password: string) {
    const now = clock.now().toISOString();
    const hash = await hasher.hash(password);
    await users.update(
      executor,
      userId,
      { passwordHash: hash, passwordChangedAt: now, mustChangePassword: false },
      now,
    );
    await users.addPasswordHistory(executor, { id: newId("history"), userId, hash, now });
    // Links mailed before the change must not outlive it: reset links, and confirmations of a new login
    // address (which whoever knew the old password may have asked for).
    await emailTokens.spendAll(executor, userId, "password_reset", now);
    await deps.emailChanges.cancelPending(executor, userId, now);
  }

  /** A password typed again inside a session: guessing it counts like a wrong second factor. */
  async function confirmPassword(
    session: Session,
    actor: Actor,
    password: string,
    field: { path: string; message: string },
  ): Promise<User> {
    const user = (await users.findById(db, session.userId)) as User;
    const hash = user.passwordHash;
    const right = await factorThrottle.attempt(
      { userId: user.id, actor, session },
      async () => hash !== null && (await hasher.verify(hash, password)),
    );
    if (!right) {
      throw new AppError("incorrect_password", field.message, {
        errors: [{ path: field.path, code: "incorrect", message: field.message }],
      });
    }
    return user;
  }

  function passwordExpired(user: User, policy: PasswordPolicy): boolean {
    if (user.mustChangePassword) return true;
    if (policy.expiry_days === null || !user.passwordChangedAt) return false;
    return Date.parse(user.passwordChangedAt) + policy.expiry_days * 86_400_000 <= clock.now().getTime();
  }

  /**
   * The audit event of an anonymous request naming an address: in the user's account when the address
   * has a login, otherwise in the installation's log (without the address, which may be anyone's typo).
   * One write either way, so its time says nothing about the address.
   */
  function aboutAddress(user: User | undefined, action: string): AuditEvent {
    return user
      ? { accountId: user.lastAccountId, action, targetType: "user", targetId: user.id }
      : { accountId: null, action, changes: { unknown_email: true } };
  }

  function sessionPolicyOf(settings: AccountSettings | undefined): SessionPolicy {
    return settings?.session ?? DEFAULT_SESSION_POLICY;
  }

  /**
   * Where the session starts, decided before anything is written: an explicitly requested account must
   * allow the client's IP address; otherwise the first of the last-used and the other accounts that does.
   * When none does, the log-in is refused (and `finishLogin` audits it in each refusing account). The
   * allowlists are the settings read for this log-in, never a cached copy.
   */
  function allowedAccount(
    user: User,
    memberships: LoginMembership[],
    requestedAccountId: string | undefined,
    actor: Actor,
  ): LoginMembership | undefined {
    const requested = memberships.find((m) => m.accountId === requestedAccountId);
    const candidates = requested
      ? [requested]
      : [
          ...memberships.filter((m) => m.accountId === user.lastAccountId),
          ...memberships.filter((m) => m.accountId !== user.lastAccountId),
        ];
    if (candidates.length === 0) return undefined;
    const allowed = candidates.find((m) => compileAllowlist(m.settings.ip_allowlist).allows(actor.ip));
    if (allowed) return allowed;
    throw new LoginRefusedByIp(
      { ...actor, type: "user", id: user.id },
      candidates.map((m) => m.accountId),
      requested ? "this account" : "your account",
    );
  }

  /** The user and their memberships, for a log-in proven by a second factor or a passkey. */
  async function loadSubject(executor: Executor, userId: string): Promise<LoginSubject> {
    const found = await users.findForLogin(executor, { id: userId });
    if (!found) throw new AppError("invalid_credentials", "Email or password is incorrect.");
    const memberships = await accounts.loginMembershipsOfUser(executor, userId);
    return { ...found, memberships, noFactors: false };
  }

  /**
   * When the user must have enrolled a second factor (mfa.enrollmentDueAt), from what the log-in read:
   * `since` is set when this log-in is the first time an account requires one (stored with the log-in).
   */
  async function enrollmentDue(
    trx: Executor,
    subject: LoginSubject,
    active: LoginMembership[],
  ): Promise<{ dueAt: string | null; since?: string }> {
    const { user } = subject;
    if (!subject.noFactors) return { dueAt: await deps.mfa.enrollmentDueAt(trx, user.id) };
    const requiring = active.filter((m) => m.settings.mfa.required_role_ids.length > 0);
    if (requiring.length === 0) return { dueAt: null };
    // Team roles count too; they are read only when the member's own role does not already decide.
    const policies = requiring.every((m) => m.settings.mfa.required_role_ids.includes(m.roleId))
      ? requiring.map((m) => m.settings.mfa)
      : await deps.mfa.requiringPolicies(trx, user.id);
    if (policies.length === 0) return { dueAt: null };
    const since = subject.mfaRequiredSince ?? clock.now().toISOString();
    const grace = Math.min(...policies.map((p) => p.grace_days));
    const dueAt = addSeconds(new Date(since), grace * 86_400).toISOString();
    return subject.mfaRequiredSince ? { dueAt } : { dueAt, since };
  }

  /**
   * The closing transaction of every log-in (password, second factor, passkey). A refusal by IP
   * allowlists rolls everything back (no session, the code stays unused) and is then audited in each
   * refusing account. (Without this wrapper the refusal stands too, only unaudited.)
   */
  async function finishLogin<T>(work: (trx: Trx, effects: Effects) => Promise<T>): Promise<T> {
    try {
      return await transact(db, work);
    } catch (error) {
      if (error instanceof LoginRefusedByIp) {
        for (const accountId of error.accountIds) {
          await recordAudit(
            db,
            error.actor,
            {
              accountId,
              action: "auth.login_refused_ip",
              targetType: "user",
              targetId: error.actor.id,
              changes: { ip: clientIp(error.actor.ip) ?? null },
            },
            clock.now(),
          );
        }
      }
      throw error;
    }
  }

  /**
   * The end of every successful log-in: pick the account, open the session, record it, and announce a
   * device the user has not signed in from before (after the commit). `subject`: what the log-in read
   * already, or the user's id to read it here. `rehash`: the password's new hash, stored with the log-in.
   */
  async function startSession(
    trx: Executor,
    effects: Effects,
    who: LoginSubject | string,
    requestedAccountId: string | undefined,
    actor: Actor,
    how: { secondFactor?: SecondFactorMethod; method?: "password" | "passkey"; rehash?: string } = {},
  ): Promise<LoginResult> {
    const subject = typeof who === "string" ? await loadSubject(trx, who) : who;
    const { user } = subject;
    const active = subject.memberships.filter((m) => m.status === "active");
    const account = allowedAccount(user, active, requestedAccountId, actor);
    const accountId = account?.accountId ?? null;
    const policy = strictestPolicy(subject.memberships.map((m) => m.settings.password_policy));
    const enrollment = await enrollmentDue(trx, subject, active);
    const now = clock.now().toISOString();
    const { token, session, insert } = sessions.open(trx, {
      userId: user.id,
      accountId,
      policy: sessionPolicyOf(account?.settings),
      ip: actor.ip,
      userAgent: actor.userAgent,
      passwordChangeRequired: passwordExpired(user, policy),
      mfaEnrollmentDueAt: enrollment.dueAt,
    });
    // The session is stored with the login bookkeeping (one statement on PostgreSQL).
    await users.recordLoginOf(
      trx,
      user.id,
      { at: now, ip: actor.ip, accountId },
      { passwordHash: how.rehash, mfaRequiredSince: enrollment.since },
      insert,
    );
    const sighting = await recognizeDevice(trx, deps.devices, user.id, actor, clock.now());
    const changes = {
      ...(how.secondFactor ? { second_factor: how.secondFactor } : {}),
      ...(how.method === "passkey" ? { method: how.method } : {}),
      ...(sighting.newDevice
        ? { new_device: `${sighting.newDevice.browser} on ${sighting.newDevice.os}` }
        : {}),
    };
    await recordAudit(
      trx,
      { ...actor, type: "user", id: user.id },
      {
        accountId,
        action: "auth.login",
        targetType: "session",
        targetId: session.id,
        ...(Object.keys(changes).length > 0 ? { changes } : {}),
      },
      clock.now(),
    );
    if (sighting.announce && sighting.newDevice) {
      const device = sighting.newDevice;
      await mailQueue.enqueue(
        trx,
        effects,
        mails.newSignIn(user.email, user.firstName, { at: clock.now(), ...device }, user),
      );
    }
    // The row as this transaction left it, without reading it back.
    const fresh: User = {
      ...user,
      lastLoginAt: now,
      lastLoginIp: actor.ip,
      lastAccountId: accountId,
      ...(how.rehash ? { passwordHash: how.rehash } : {}),
    };
    const me = {
      user: fresh,
      memberships: subject.memberships.map((m) => m.view),
      mfaEnabled: subject.hasFactor,
    };
    return { user: fresh, accountId, token, session, me };
  }

  /** A login proven by password or passkey may still be turned off or have no active membership. */
  async function admit(user: User, memberships: Array<{ status: string }>) {
    if (user.deactivatedAt) {
      // The password (or passkey) was right, so the owner may switch the login back on — through their mailbox.
      await transact(db, async (trx, effects) => {
        const token = await emailTokens.issue(trx, user.id, "reactivate", clock.now());
        await mailQueue.enqueue(
          trx,
          effects,
          mails.reactivate(user.email, user.firstName, link("reactivate", token)),
        );
      });
      throw new AppError(
        "account_deactivated",
        "Your login is deactivated. We sent you an email with a link to reactivate it.",
      );
    }

    if (memberships.length > 0 && !memberships.some((m) => m.status === "active")) {
      throw new AppError(
        "membership_suspended",
        "Your access to your account has been suspended. Contact its administrator.",
      );
    }
  }

  /** A right password: its throttle counters cleared (those that exist), a stale hash replaced. */
  async function passwordAccepted(
    user: User,
    password: string,
    attempt: AttemptKeys,
    counters: AttemptCounters,
  ): Promise<string | undefined> {
    await throttle.succeed(attempt, counters);
    return hasher.needsRehash(user.passwordHash as string) ? await hasher.hash(password) : undefined;
  }

  return {
    policyFor,
    /** A password typed again inside a session (DELETE /me): throttled like a wrong second factor. */
    confirmPassword,

    /**
     * `hostAccountId`: the log-in happens on that account's custom domain, so it lands there; someone
     * who is not a member of it gets the same answer as for a wrong password (no enumeration).
     */
    async login(
      input: {
        email: string;
        password: string;
        accountId?: string | undefined;
        hostAccountId?: string | undefined;
      },
      actor: Actor,
    ): Promise<LoginResult | MfaRequired> {
      const email = normalizeEmail(input.email);
      const attempt = { email, ip: actor.ip ?? "unknown" };
      const found = await users.findForLogin(db, { email });
      const user = found?.user;
      const counters = await throttle.check(attempt, user !== undefined && user.lastLoginIp === actor.ip);

      const ok = user?.passwordHash ? await hasher.verify(user.passwordHash, input.password) : false;
      if (!user?.passwordHash) await hasher.verifyDummy(input.password);
      // Looked up whether or not the password was right, so the answer's timing says nothing either.
      const hostMemberships =
        user && input.hostAccountId !== undefined
          ? await accounts.loginMembershipsOfUser(db, user.id)
          : undefined;
      const hostMembership = hostMemberships?.find((m) => m.accountId === input.hostAccountId);
      const outsider = input.hostAccountId !== undefined && hostMembership === undefined;
      if (!found || !user || !ok || outsider) {
        await throttle.fail(attempt);
        await recordAudit(
          db,
          user ? { ...actor, type: "user", id: user.id } : actor,
          aboutAddress(user, "auth.login_failed"),
          clock.now(),
        );
        throw new AppError("invalid_credentials", "Email or password is incorrect.");
      }
      const rehash = await passwordAccepted(user, input.password, attempt, counters);
      const memberships = hostMemberships ?? (await accounts.loginMembershipsOfUser(db, user.id));
      await admit(user, memberships);
      if (hostMembership && hostMembership.status !== "active")
        throw new AppError(
          "membership_suspended",
          "Your access to this account has been suspended. Contact its administrator.",
        );
      const accountId = input.hostAccountId ?? input.accountId;
      // Read with the user (exists), so a log-in without second factors reads them no further.
      const methods = found.hasFactor ? await deps.mfa.methodsFor(user.id) : [];
      if (methods.length > 0) {
        if (rehash) await users.recordRehash(db, user.id, rehash);
        return {
          mfaRequired: true,
          mfaToken: await deps.mfa.createChallenge(user.id, accountId, actor.ip),
          methods,
        };
      }
      const subject = { ...found, memberships, noFactors: true, hasFactor: false };
      return finishLogin((trx, effects) =>
        startSession(trx, effects, subject, accountId, actor, { method: "password", rehash }),
      );
    },

    /** The second half of a log-in with MFA. */
    async completeMfaLogin(
      input: {
        mfaToken: string;
        method: SecondFactorMethod;
        code: string | FactorVerifier;
        /** On a custom domain: only a log-in that started there (for that account) completes. */
        hostAccountId?: string | undefined;
      },
      actor: Actor,
    ): Promise<LoginResult> {
      const pending = await deps.mfa.liveChallenge(db, input.mfaToken);
      if (input.hostAccountId !== undefined && pending.account_id !== input.hostAccountId)
        throw new AppError("invalid_token", "This sign-in attempt has expired. Enter your password again.");
      // Counted per user across mfa_tokens (a right password does not reset it) and per IP.
      const guesser = { userId: pending.user_id, actor };
      await factorThrottle.check(guesser);
      const outcome = await finishLogin(async (trx, effects) => {
        const result = await deps.mfa.completeChallenge(trx, input.mfaToken, input.method, input.code);
        if (!result.ok) return result;
        const login = await startSession(
          trx,
          effects,
          result.challenge.user_id,
          result.challenge.account_id ?? undefined,
          actor,
          { secondFactor: input.method },
        );
        return { ok: true as const, login };
      });
      if (outcome.ok) {
        await factorThrottle.succeed(guesser);
        return outcome.login;
      }
      const attempts = await deps.mfa.countFailure(outcome.challenge.id);
      await recordAudit(
        db,
        { ...actor, type: "user", id: outcome.challenge.user_id },
        {
          accountId: outcome.challenge.account_id,
          action: "auth.mfa_failed",
          targetType: "user",
          targetId: outcome.challenge.user_id,
        },
        clock.now(),
      );
      await factorThrottle.fail(guesser);
      if (attempts >= CHALLENGE_ATTEMPTS) {
        throw new AppError("rate_limited", "Too many wrong codes. Enter your password again.", {
          headers: { "retry-after": "1" },
        });
      }
      throw new AppError("invalid_code", "That code didn't work.", {
        errors: [{ path: "code", code: "invalid_code", message: "That code didn't work" }],
      });
    },

    /**
     * A passwordless log-in with a passkey of `userId`: `verify` checks the assertion (throws when it
     * fails), then the same throttling, admission rules and session start as a password log-in apply;
     * `record` stores the passkey's use in the session's transaction.
     */
    async passkeyLogin(
      userId: string,
      actor: Actor,
      verify: () => Promise<void>,
      record: (trx: Executor) => Promise<void>,
    ): Promise<LoginResult> {
      const found = await users.findForLogin(db, { id: userId });
      if (!found) throw new AppError("passkey_unknown", "This passkey is not registered.");
      const { user } = found;
      const attempt = { email: normalizeEmail(user.email), ip: actor.ip ?? "unknown" };
      const counters = await throttle.check(attempt, user.lastLoginIp === actor.ip);
      try {
        await verify();
      } catch (error) {
        await throttle.fail(attempt);
        await recordAudit(
          db,
          { ...actor, type: "user", id: user.id },
          {
            accountId: user.lastAccountId,
            action: "auth.login_failed",
            targetType: "user",
            targetId: user.id,
            changes: { method: "passkey" },
          },
          clock.now(),
        );
        throw error;
      }
      await throttle.succeed(attempt, counters);
      const memberships = await accounts.loginMembershipsOfUser(db, user.id);
      await admit(user, memberships);
      const subject = { ...found, memberships, noFactors: false };
      return finishLogin(async (trx, effects) => {
        await record(trx);
        return startSession(trx, effects, subject, undefined, actor, { method: "passkey" });
      });
    },

    async logout(session: Session, actor: Actor): Promise<void> {
      await transact(db, async (trx, effects) => {
        await sessions.revoke(trx, effects, session.userId, session.id);
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "auth.logout",
            targetType: "session",
            targetId: session.id,
          },
          clock.now(),
        );
      });
    },

    /** The user turns their own login off: every session ends; logging in again mails a reactivation link. */
    async deactivate(session: Session, password: string, actor: Actor): Promise<void> {
      sessions.requireFresh(session);
      const user = await confirmPassword(session, actor, password, {
        path: "password",
        message: "The password is incorrect.",
      });
      await transact(db, async (trx, effects) => {
        await users.update(
          trx,
          user.id,
          { deactivatedAt: clock.now().toISOString() },
          clock.now().toISOString(),
        );
        // They show as deactivated (and authz denies) in every account they belong to.
        await deps.accountsService.publishUserChange(trx, effects.afterCommit, user.id);
        await sessions.revokeAll(trx, effects, user.id);
        await recordAudit(
          trx,
          actor,
          { accountId: session.accountId, action: "user.deactivated", targetType: "user", targetId: user.id },
          clock.now(),
        );
      });
    },

    async reactivate(token: string, actor: Actor): Promise<void> {
      await transact(db, async (trx, effects) => {
        const userId = await emailTokens.consume(trx, token, "reactivate", clock.now());
        if (!userId)
          throw new AppError("invalid_token", "This reactivation link is invalid, used or expired.");
        await users.update(trx, userId, { deactivatedAt: null }, clock.now().toISOString());
        await deps.accountsService.publishUserChange(trx, effects.afterCommit, userId);
        const user = (await users.findById(trx, userId)) as User;
        await recordAudit(
          trx,
          { ...actor, type: "user", id: userId },
          { accountId: user.lastAccountId, action: "user.reactivated", targetType: "user", targetId: userId },
          clock.now(),
        );
      });
    },

    async revokeSession(current: Session, sessionId: string, actor: Actor): Promise<void> {
      await transact(db, async (trx, effects) => {
        if (!(await sessions.revoke(trx, effects, current.userId, sessionId))) throw notFound("Session");
        await recordAudit(
          trx,
          actor,
          {
            accountId: current.accountId,
            action: "session.revoked",
            targetType: "session",
            targetId: sessionId,
          },
          clock.now(),
        );
      });
    },

    async revokeOtherSessions(current: Session, actor: Actor): Promise<number> {
      return transact(db, async (trx, effects) => {
        const count = await sessions.revokeAll(trx, effects, current.userId, current.id);
        await recordAudit(
          trx,
          actor,
          {
            accountId: current.accountId,
            action: "session.revoked_others",
            targetType: "user",
            targetId: current.userId,
            changes: { count },
          },
          clock.now(),
        );
        return count;
      });
    },

    /**
     * One recorded password-reset request (src/auth/reset-requests.ts), in the job loop: the answer went
     * out before, the same for every address. Over the mail limits nothing is sent (and the link already
     * mailed stays valid).
     */
    async handleResetRequest(trx: Trx, effects: Effects, emailInput: string, actor: Actor): Promise<void> {
      // Counted whether or not the address has a login: the same writes either way.
      const allowed = await deps.mailLimits.allow(trx, emailInput, actor.ip, "password_reset");
      const user = await users.findByEmail(trx, emailInput);
      if (!allowed) return;
      const token = user && (await emailTokens.issue(trx, user.id, "password_reset", clock.now()));
      await recordAudit(trx, actor, aboutAddress(user, "auth.password_reset_requested"), clock.now());
      if (!user || !token) return;
      await mailQueue.enqueue(
        trx,
        effects,
        mails.passwordReset(user.email, user.firstName, link("reset-password", token)),
      );
    },

    /** Whether a reset link still works, without spending it: its page says so before anything is typed. */
    async checkResetToken(token: string): Promise<void> {
      if (!(await emailTokens.isLive(db, token, "password_reset", clock.now())))
        throw new AppError("invalid_token", "This reset link is invalid, used or expired.");
    },

    async resetPassword(token: string, password: string, actor: Actor): Promise<void> {
      await transact(db, async (trx, effects) => {
        const userId = await emailTokens.consume(trx, token, "password_reset", clock.now());
        if (!userId) throw new AppError("invalid_token", "This reset link is invalid, used or expired.");
        const user = (await users.findById(trx, userId)) as User;
        await assertAcceptable(trx, user, password, "password", await policyFor(trx, userId));
        await setPassword(trx, userId, password);
        // The link proved control of the mailbox; that also verifies the address.
        if (!user.emailVerifiedAt)
          await users.update(
            trx,
            userId,
            { emailVerifiedAt: clock.now().toISOString() },
            clock.now().toISOString(),
          );
        await sessions.revokeAll(trx, effects, userId);
        await recordAudit(
          trx,
          { ...actor, type: "user", id: userId },
          {
            accountId: user.lastAccountId,
            action: "user.password_reset",
            targetType: "user",
            targetId: userId,
          },
          clock.now(),
        );
        await mailQueue.enqueue(
          trx,
          effects,
          mails.passwordChanged(user.email, user.firstName, clock.now(), actor.ip, user),
        );
      });
    },

    async changePassword(session: Session, current: string, next: string, actor: Actor): Promise<void> {
      sessions.requireFresh(session);
      const user = await confirmPassword(session, actor, current, {
        path: "current_password",
        message: "The current password is incorrect.",
      });
      await transact(db, async (trx, effects) => {
        await assertAcceptable(trx, user, next, "new_password", await policyFor(trx, user.id));
        await setPassword(trx, user.id, next);
        await sessions.revokeAll(trx, effects, user.id, session.id);
        if (session.passwordChangeRequired) await sessions.clearPasswordChangeRequired(trx, effects, session);
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "user.password_changed",
            targetType: "user",
            targetId: user.id,
          },
          clock.now(),
        );
        await mailQueue.enqueue(
          trx,
          effects,
          mails.passwordChanged(user.email, user.firstName, clock.now(), actor.ip, user),
        );
      });
    },

    /** For operators (CLI): a new password without the old one; the user must change it at next login. */
    async adminResetPassword(email: string, password: string): Promise<void> {
      await transact(db, async (trx, effects) => {
        const user = await users.findByEmail(trx, email);
        if (!user) throw new AppError("not_found", `No user with email ${email}`);
        await assertAcceptable(trx, user, password, "password", await policyFor(trx, user.id));
        await setPassword(trx, user.id, password);
        await users.update(trx, user.id, { mustChangePassword: true }, clock.now().toISOString());
        await sessions.revokeAll(trx, effects, user.id);
        await recordAudit(
          trx,
          { type: "system", id: null, ip: null, userAgent: "cli", requestId: null },
          {
            accountId: user.lastAccountId,
            action: "user.password_reset_by_operator",
            targetType: "user",
            targetId: user.id,
          },
          clock.now(),
        );
      });
    },

    /** For operators (CLI): first account and its Root user, email treated as verified. */
    async createAccountWithRoot(input: {
      email: string;
      password: string;
      name: string;
      accountName: string;
    }) {
      if (await users.findByEmail(db, input.email))
        throw new AppError("conflict", "A user with this email already exists");
      const { firstName, lastName } = splitName(input.name);
      const errors = await checkPassword(input.password, strictestPolicy([]), {
        email: input.email,
        firstName,
        lastName,
        accountNames: [input.accountName],
      });
      if (errors.length) throw passwordPolicyError(errors);
      const passwordHash = await hasher.hash(input.password);
      return transact(db, async (trx) => {
        const now = clock.now().toISOString();
        const userId = newId("user");
        await users.insert(trx, {
          id: userId,
          email: input.email,
          passwordHash,
          firstName,
          lastName,
          emailVerifiedAt: now,
          now,
        });
        await users.addPasswordHistory(trx, { id: newId("history"), userId, hash: passwordHash, now });
        const actor: Actor = { type: "system", id: null, ip: null, userAgent: "cli", requestId: null };
        const accountId = await deps.accountsService.createWithRoot(trx, {
          name: input.accountName,
          ownerId: userId,
          actor,
        });
        await users.update(trx, userId, { lastAccountId: accountId }, now);
        return { userId, accountId };
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
