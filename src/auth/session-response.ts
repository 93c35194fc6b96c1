import type { FastifyReply } from "fastify";
import { closureDeleteAt } from "../closure/closure-guard.js";
import type { Config } from "../config.js";
import { csrfTokenOf, SESSION_COOKIE } from "../http/auth-hook.js";
import { meView, sessionInfoView } from "../http/views.js";
import { andThen, type MaybePromise } from "../lib/maybe-async.js";
import type { Services } from "../services.js";
import type { Me } from "../users/users.service.js";
import type { Session } from "./sessions.repository.js";

function sessionState(config: Config, session: Session, me: Me, closureDeleteAt: string | null) {
  return {
    user: meView(me),
    account_id: session.accountId,
    csrf_token: csrfTokenOf(config.secretKey, session),
    session: sessionInfoView(session),
    password_change_required: session.passwordChangeRequired,
    mfa_enrollment_due_at: session.mfaEnrollmentDueAt,
    account_closure_delete_at: closureDeleteAt,
  };
}

export type SessionState = ReturnType<typeof sessionState>;

/**
 * The body of log-in, GET /session, account switch and invitation acceptance: at once when the profile
 * and the account's closure date are cached (a warm GET /session waits for nothing), else a promise.
 * `known`: the profile as the caller just read it (a log-in), instead of the cache or the database.
 */
export function sessionStateFor(
  services: Services,
  config: Config,
  session: Session,
  known?: Me,
): MaybePromise<SessionState> {
  const { accountId } = session;
  // One after the other: a second load started alongside would reject unobserved if the first failed.
  return andThen(known ?? services.users.getMe(session.userId), (me) =>
    andThen(
      accountId
        ? services.meCache.closureDeleteAt(accountId, () => closureDeleteAt(services.db, accountId))
        : null,
      (deleteAt) => sessionState(config, session, me, deleteAt),
    ),
  );
}

export function setSessionCookie(reply: FastifyReply, config: Config, token: string, session: Session) {
  reply.setCookie(SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: config.secureCookies,
    expires: new Date(session.expiresAt),
  });
}
