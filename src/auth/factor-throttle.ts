import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, transact } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import type { UsersRepository } from "../users/users.repository.js";
import { type Lock, type LoginThrottle, rateLimited } from "./login-throttle.js";
import type { Session } from "./sessions.repository.js";
import type { SessionsService } from "./sessions.service.js";

/** Who is guessing: the user whose secret is tried, the request's actor and, inside a session, it. */
export type Guesser = { userId: string; actor: Actor; session?: Session | undefined };

/**
 * Every secret tried after the password step or inside a session — second factors at log-in,
 * re-authentication, password confirmations, enrollment codes — goes through here, on the login
 * throttle's per-user and per-IP second-factor lanes. When a wrong answer locks the user's lane, the
 * user is mailed (once per lock) and the session that guessed, if any, is ended: it must log in again.
 */
export function createFactorThrottle(deps: {
  db: Db;
  clock: Clock;
  throttle: LoginThrottle;
  users: UsersRepository;
  mailQueue: MailQueue;
  sessions: SessionsService;
}) {
  const { db, clock, throttle, users, mailQueue, sessions } = deps;
  const keys = (guesser: Guesser) => ({ userId: guesser.userId, ip: guesser.actor.ip ?? "unknown" });

  async function userLocked(guesser: Guesser, lock: Lock) {
    await transact(db, async (trx, effects) => {
      const user = await users.findById(trx, guesser.userId);
      if (!user) return;
      const { session } = guesser;
      if (session) await sessions.revoke(trx, effects, user.id, session.id);
      await recordAudit(
        trx,
        { ...guesser.actor, type: "user", id: user.id },
        {
          accountId: session?.accountId ?? user.lastAccountId,
          action: "auth.guessing_locked",
          targetType: "user",
          targetId: user.id,
          changes: { lock_seconds: lock.retryAfter, ...(session ? { ended_session: session.id } : {}) },
        },
        clock.now(),
      );
      const minutes = Math.ceil(lock.retryAfter / 60);
      await mailQueue.enqueue(trx, effects, mails.guessingLocked(user.email, user.firstName, minutes));
    });
  }

  const check = async (guesser: Guesser): Promise<void> => {
    const lock = await throttle.factorLock(keys(guesser));
    if (lock) throw rateLimited(lock, "wrong codes or passwords");
  };

  /** Counts a wrong answer; throws 429 when it started a lock. */
  const fail = async (guesser: Guesser): Promise<void> => {
    const started = await throttle.failFactor(keys(guesser));
    if (started.length === 0) return;
    const userLock = started.find((l) => l.scope === "factorUser");
    if (userLock) await userLocked(guesser, userLock);
    const longest = started.reduce((a, b) => (b.retryAfter > a.retryAfter ? b : a));
    if (userLock && guesser.session) {
      throw rateLimited(longest, "wrong codes or passwords: this session has ended", "Log in again");
    }
    throw rateLimited(longest, "wrong codes or passwords");
  };

  const succeed = (guesser: Guesser): Promise<void> => throttle.succeedFactor(guesser.userId);

  return {
    /** 429 while the user's or the IP's second-factor lane is locked. */
    check,
    fail,
    /** A right answer clears the user's counter (not the IP's). */
    succeed,

    /** `verify` under the throttle: refused while locked, counted when wrong (429 if that locks). */
    async attempt(guesser: Guesser, verify: () => Promise<boolean>): Promise<boolean> {
      await check(guesser);
      const ok = await verify();
      await (ok ? succeed(guesser) : fail(guesser));
      return ok;
    },
  };
}

export type FactorThrottle = ReturnType<typeof createFactorThrottle>;
