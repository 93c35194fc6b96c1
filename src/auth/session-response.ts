import type { FastifyReply } from "fastify";
import { closureDeleteAt } from "../closure/closure-guard.js";
import type { Config } from "../config.js";
import { csrfTokenOf, SESSION_COOKIE } from "../http/auth-hook.js";
import { meView, sessionInfoView } from "../http/views.js";
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
 */
export function sessionStateFor(
  services: Services,
  config: Config,
  session: Session,
): SessionState | Promise<SessionState> {
  const me = services.users.cachedMe(session.userId);
  const closure = session.accountId ? services.meCache.cachedClosure(session.accountId) : { deleteAt: null };
  if (me && closure) return sessionState(config, session, me, closure.deleteAt);
  return (async () =>
    sessionState(
      config,
      session,
      await services.users.getMe(session.userId),
      session.accountId ? await closureDeleteAtCached(services, session.accountId) : null,
    ))();
}

function closureDeleteAtCached(services: Services, accountId: string) {
  return services.meCache.closureDeleteAt(accountId, () => closureDeleteAt(services.db, accountId));
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
