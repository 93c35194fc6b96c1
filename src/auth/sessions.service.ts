import { DEFAULT_SESSION_POLICY, type SessionPolicy } from "../accounts/account-settings.js";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { Db, Effects, Executor } from "../db/database.js";
import { AppError } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import type { Invalidator, SessionCache } from "./session-cache.js";
import type { Session, SessionsRepository } from "./sessions.repository.js";

/** How stale last_seen_at may get before a request writes it: one write a minute, not one per request. */
const TOUCH_INTERVAL_MS = 60_000;
const MAX_TOKEN_LENGTH = 128;
/** How long a password or second factor entered again unlocks sensitive actions. */
export const REAUTH_SECONDS = 10 * 60;

/**
 * A session's limits under an account's policy: idle time counted from its last activity, its lifetime
 * from the log-in. A lifetime is only ever shortened: the browser's cookie keeps the expiry it got.
 */
function limitsUnder(session: Session, policy: SessionPolicy) {
  const lifetimeEnd = addSeconds(new Date(session.createdAt), policy.absolute_hours * 3600).toISOString();
  return {
    idleMinutes: policy.idle_minutes,
    idleExpiresAt: addSeconds(new Date(session.lastSeenAt), policy.idle_minutes * 60).toISOString(),
    expiresAt: lifetimeEnd < session.expiresAt ? lifetimeEnd : session.expiresAt,
  };
}

export function createSessionsService(deps: {
  db: Db;
  clock: Clock;
  sessions: SessionsRepository;
  accounts: AccountsRepository;
  cache: SessionCache;
  invalidator: Invalidator;
}) {
  const { db, clock, sessions, cache, invalidator } = deps;

  function isLive(session: Session, now: Date): boolean {
    const iso = now.toISOString();
    return session.revokedAt === null && iso < session.expiresAt && iso < session.idleExpiresAt;
  }

  async function publishRevocation(trx: Executor, effects: Effects, userId: string) {
    await invalidator.publish(trx, userId);
    effects.afterCommit(() => cache.evictUser(userId));
  }

  return {
    async create(
      trx: Executor,
      input: {
        userId: string;
        accountId: string | null;
        policy: SessionPolicy;
        ip: string | null;
        userAgent: string | null;
        passwordChangeRequired: boolean;
        mfaEnrollmentDueAt?: string | null;
      },
    ): Promise<{ token: string; session: Session }> {
      const now = clock.now();
      const token = newSecretToken();
      const session: Session = {
        id: newId("session"),
        tokenHash: hashToken(token),
        userId: input.userId,
        accountId: input.accountId,
        createdAt: now.toISOString(),
        lastSeenAt: now.toISOString(),
        idleExpiresAt: addSeconds(now, input.policy.idle_minutes * 60).toISOString(),
        expiresAt: addSeconds(now, input.policy.absolute_hours * 3600).toISOString(),
        idleMinutes: input.policy.idle_minutes,
        ip: input.ip,
        userAgent: input.userAgent?.slice(0, 512) ?? null,
        passwordChangeRequired: input.passwordChangeRequired,
        // Logging in is itself a fresh authentication (for ten minutes).
        reauthUntil: addSeconds(now, REAUTH_SECONDS).toISOString(),
        mfaEnrollmentDueAt: input.mfaEnrollmentDueAt ?? null,
        revokedAt: null,
      };
      await sessions.insert(trx, session);
      return { token, session };
    },

    /** Token → live session, from the cache when possible, else one indexed query. */
    async authenticate(token: string): Promise<Session | undefined> {
      if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
      const tokenHash = hashToken(token);
      const startedAt = cache.generation();
      let session = cache.get(tokenHash);
      if (!session) {
        session = await sessions.findActiveByTokenHash(db, tokenHash);
        if (!session) return undefined;
        cache.set(session, startedAt);
      }
      const now = clock.now();
      if (!isLive(session, now)) return undefined;
      if (now.getTime() - Date.parse(session.lastSeenAt) >= TOUCH_INTERVAL_MS) {
        const touched = {
          ...session,
          lastSeenAt: now.toISOString(),
          idleExpiresAt: addSeconds(now, session.idleMinutes * 60).toISOString(),
        };
        if (await sessions.touch(db, session.id, touched)) {
          cache.set(touched, startedAt);
          return touched;
        }
        // Revoked or put under other limits since this copy was read (its invalidation may still be on
        // the way): the stored session decides.
        const stored = await sessions.findActiveByTokenHash(db, tokenHash);
        return stored && isLive(stored, now) ? stored : undefined;
      }
      return session;
    },

    list(userId: string): Promise<Session[]> {
      return sessions.listActiveForUser(db, userId, clock.now().toISOString());
    },

    async revoke(trx: Executor, effects: Effects, userId: string, sessionId: string): Promise<boolean> {
      const revoked = await sessions.revoke(trx, userId, sessionId, clock.now().toISOString());
      if (revoked) await publishRevocation(trx, effects, userId);
      return revoked;
    },

    async revokeAll(
      trx: Executor,
      effects: Effects,
      userId: string,
      exceptSessionId?: string,
    ): Promise<number> {
      const count = await sessions.revokeAllForUser(trx, userId, clock.now().toISOString(), exceptSessionId);
      await publishRevocation(trx, effects, userId);
      return count;
    },

    async revokeInAccount(
      trx: Executor,
      effects: Effects,
      userId: string,
      accountId: string,
    ): Promise<number> {
      const count = await sessions.revokeAllInAccount(trx, userId, accountId, clock.now().toISOString());
      await publishRevocation(trx, effects, userId);
      return count;
    },

    async clearMfaEnrollmentDue(trx: Executor, effects: Effects, userId: string): Promise<void> {
      await sessions.clearMfaEnrollmentDue(trx, userId);
      await publishRevocation(trx, effects, userId);
    },

    async markReauthenticated(trx: Executor, effects: Effects, session: Session): Promise<string> {
      const until = addSeconds(clock.now(), REAUTH_SECONDS).toISOString();
      await sessions.setReauthUntil(trx, session.id, until);
      await publishRevocation(trx, effects, session.userId);
      return until;
    },

    /** 403 reauth_required unless the session authenticated within the last ten minutes. */
    requireFresh(session: Session): void {
      if (!session.reauthUntil || session.reauthUntil <= clock.now().toISOString()) {
        throw new AppError("reauth_required", "Confirm it's you: enter your password or a code again");
      }
    },

    /**
     * Points a session at another account (the account switcher, joining an account): from now on it
     * lives under that account's limits, and it counts as a visit there (the member list's last log-in).
     * Undefined when those limits have ended it already (it is older than the account allows).
     */
    async switchAccount(
      trx: Executor,
      effects: Effects,
      session: Session,
      accountId: string,
    ): Promise<Session | undefined> {
      const now = clock.now();
      const account = await deps.accounts.findById(trx, accountId);
      const active = { ...session, accountId, lastSeenAt: now.toISOString() };
      const moved = {
        ...active,
        ...limitsUnder(active, account?.settings.session ?? DEFAULT_SESSION_POLICY),
      };
      await sessions.setAccount(trx, session.id, accountId, moved);
      await publishRevocation(trx, effects, session.userId);
      if (!isLive(moved, now)) return undefined;
      await deps.accounts.recordMemberLogin(trx, accountId, session.userId, now.toISOString());
      return moved;
    },

    /**
     * Puts every live session in the account under its (changed) session policy at once; every process
     * drops those sessions from its cache when the change commits.
     */
    async applyPolicy(trx: Executor, effects: Effects, accountId: string, policy: SessionPolicy) {
      const live = await sessions.listLiveInAccount(trx, accountId, clock.now().toISOString());
      await sessions.setLimits(
        trx,
        policy.idle_minutes,
        live.map((session) => ({ id: session.id, ...limitsUnder(session, policy) })),
      );
      await invalidator.publish(trx, `acct:${accountId}`);
      effects.afterCommit(() => invalidator.deliverLocally(`acct:${accountId}`));
    },

    async clearPasswordChangeRequired(trx: Executor, effects: Effects, session: Session) {
      await sessions.clearPasswordChangeRequired(trx, session.id);
      await publishRevocation(trx, effects, session.userId);
    },
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
