import { DEFAULT_SESSION_POLICY, type SessionPolicy } from "../accounts/account-settings.js";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { Db, Effects, Executor } from "../db/database.js";
import { csrfTokenFor } from "../http/auth-hook.js";
import { AppError } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import type { MaybePromise } from "../lib/maybe-async.js";
import type { Invalidator, SessionCache } from "./session-cache.js";
import type { Session, SessionsRepository } from "./sessions.repository.js";

/** How stale last_seen_at may get before a request records a visit: one a minute, not one per request. */
const TOUCH_INTERVAL_MS = 60_000;
/**
 * Visits are written behind (src/lib/write-behind.ts, every 5 s and at shutdown), so the stored
 * idle_expires_at of a session in use may lag the one its process holds by a flush interval (more while
 * flushes fail). A process that loads a session from the database (another worker, or after its entry
 * was dropped) therefore still accepts it up to this long after its stored idle deadline: an idle
 * session ends at most 10 s late there (visits are recorded once a minute, so the stored deadline is at
 * most 60 s + 10 s behind the last request, as before at most 60 s). Cached entries are exact; the
 * absolute lifetime, revocations and policy changes (applyPolicy) are never relaxed and drop caches at once.
 */
export const STORED_IDLE_GRACE_MS = 10_000;
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

type NewSession = {
  userId: string;
  accountId: string | null;
  policy: SessionPolicy;
  ip: string | null;
  userAgent: string | null;
  passwordChangeRequired: boolean;
  mfaEnrollmentDueAt?: string | null;
};

/** The session after a visit now: idle time counted again from now. */
function visited(session: Session, now: Date): Session {
  return {
    ...session,
    lastSeenAt: now.toISOString(),
    idleExpiresAt: addSeconds(now, session.idleMinutes * 60).toISOString(),
  };
}

export function createSessionsService(deps: {
  db: Db;
  clock: Clock;
  sessions: SessionsRepository;
  accounts: AccountsRepository;
  cache: SessionCache;
  invalidator: Invalidator;
  /** Keys the CSRF token each session carries (see Session.csrfToken). */
  secretKey: Buffer;
}) {
  const { db, clock, sessions, cache, invalidator } = deps;
  type Touch = { lastSeenAt: string; idleExpiresAt: string; idleMinutes: number };
  // Visits waiting for the next write-behind flush, by session id (the latest wins).
  const pendingTouches = new Map<string, Touch>();

  /**
   * A session's instants in milliseconds, parsed once per session object (a cached entry is never
   * changed: a visit or a policy change makes a new one), so a warm request formats and parses no date.
   */
  const instants = new WeakMap<Session, { expires: number; idleExpires: number; lastSeen: number }>();
  function instantsOf(session: Session) {
    let found = instants.get(session);
    if (!found) {
      found = {
        expires: Date.parse(session.expiresAt),
        idleExpires: Date.parse(session.idleExpiresAt),
        lastSeen: Date.parse(session.lastSeenAt),
      };
      instants.set(session, found);
    }
    return found;
  }

  /** `idleGraceMs`: for a copy just read from the database, whose idle deadline may lag (see above). */
  function isLive(session: Session, now: Date, idleGraceMs = 0): boolean {
    const at = now.getTime();
    const { expires, idleExpires } = instantsOf(session);
    return session.revokedAt === null && at < expires && at < idleExpires + idleGraceMs;
  }

  /**
   * `authenticate`'s warm path: the live session cached under this cookie value, null when the token is
   * refused, undefined when only the database can tell. Records a visit alike.
   */
  function fromCache(token: string): Session | null | undefined {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return null;
    const session = cache.getByToken(token);
    if (!session) return undefined;
    const now = clock.now();
    if (!isLive(session, now)) return null;
    if (now.getTime() - instantsOf(session).lastSeen >= TOUCH_INTERVAL_MS)
      return touch(session, now, cache.generation(), token);
    return session;
  }

  const withCsrf = (session: Session): Session => ({
    ...session,
    csrfToken: csrfTokenFor(deps.secretKey, session.tokenHash),
  });

  /**
   * Writes the visits recorded since the last flush, in one transaction. Each only where the session is
   * still unrevoked, under the idle limit the visit was computed with, and not seen later already: a
   * revocation or policy change that came in between wins. A failed flush keeps them for the next one.
   */
  async function flushTouches(): Promise<void> {
    if (pendingTouches.size === 0) return;
    const batch = [...pendingTouches];
    pendingTouches.clear();
    try {
      await db.transaction().execute(async (trx) => {
        for (const [id, touch] of batch) await sessions.touch(trx, id, touch);
      });
    } catch (error) {
      for (const [id, touch] of batch) if (!pendingTouches.has(id)) pendingTouches.set(id, touch);
      throw error;
    }
  }

  function touch(session: Session, now: Date, startedAt: number, token: string): Session {
    const touched = visited(session, now);
    cache.set(touched, startedAt, token);
    pendingTouches.set(session.id, {
      lastSeenAt: touched.lastSeenAt,
      idleExpiresAt: touched.idleExpiresAt,
      idleMinutes: touched.idleMinutes,
    });
    return touched;
  }

  async function publishRevocation(trx: Executor, effects: Effects, userId: string) {
    await invalidator.publish(trx, userId);
    effects.afterCommit(() => {
      cache.evictUser(userId);
      // This process's other listeners (back-channel logout) hear it too, on SQLite as on PostgreSQL.
      invalidator.deliverLocally(userId);
    });
  }

  /** `authenticate` when the cache cannot tell: by the token's hash, from the cache or one indexed query. */
  async function load(token: string): Promise<Session | undefined> {
    const now = clock.now();
    let startedAt = cache.generation();
    const tokenHash = hashToken(token);
    let session = cache.get(tokenHash);
    if (session) cache.set(session, startedAt, token);
    else {
      const stored = await sessions.findActiveByTokenHash(db, tokenHash);
      if (!stored || !isLive(stored, now, STORED_IDLE_GRACE_MS)) return undefined;
      session = withCsrf(stored);
      cache.set(session, startedAt, token);
      // Judged with the grace once; from here on the entry's own deadline counts.
      if (now.toISOString() >= session.idleExpiresAt) return touch(session, now, startedAt, token);
    }
    if (!isLive(session, now)) return undefined;
    if (now.getTime() - instantsOf(session).lastSeen >= TOUCH_INTERVAL_MS) {
      startedAt = cache.generation();
      return touch(session, now, startedAt, token);
    }
    return session;
  }

  /** A new session for `input` and the statement that stores it (not yet run). */
  function open(trx: Executor, input: NewSession) {
    const now = clock.now();
    const token = newSecretToken();
    const session: Session = withCsrf({
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
    });
    return { token, session, insert: sessions.insertion(trx, session) };
  }

  return {
    /** See `open`: a log-in stores the session with its own bookkeeping (users.recordLoginOf). */
    open,

    /**
     * Token → live session: from the cache by the raw cookie value (no hashing, no promise: the warm path
     * of every cookie request), else one indexed query. A visit a minute is recorded in the cached entry
     * at once and written behind (flushTouches).
     */
    authenticate(token: string): MaybePromise<Session | undefined> {
      const cached = fromCache(token);
      return cached === undefined ? load(token) : (cached ?? undefined);
    },

    flushTouches,

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
