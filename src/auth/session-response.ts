import type { FastifyReply } from "fastify";
import { closureDeleteAt } from "../closure/closure-guard.js";
import type { Config } from "../config.js";
import { csrfTokenOf, SESSION_COOKIE } from "../http/auth-hook.js";
import { meView, sessionInfoView } from "../http/views.js";
import type { Services } from "../services.js";
import type { Session } from "./sessions.repository.js";

/** The body of log-in, GET /session, account switch and invitation acceptance. */
export async function sessionStateFor(services: Services, config: Config, session: Session) {
  return {
    user: meView(await services.users.getMe(session.userId)),
    account_id: session.accountId,
    csrf_token: csrfTokenOf(config.secretKey, session),
    session: sessionInfoView(session),
    password_change_required: session.passwordChangeRequired,
    mfa_enrollment_due_at: session.mfaEnrollmentDueAt,
    account_closure_delete_at: session.accountId
      ? await closureDeleteAtCached(services, session.accountId)
      : null,
  };
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
