import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import type { Db } from "../db/database.js";
import { notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import type { MfaRepository } from "../mfa/mfa.repository.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import type { MemberDetailRepository } from "./member-detail.repository.js";
import type { MembersService } from "./members.service.js";

/**
 * Who may read what on a member's page, beyond members:read (which shows the member itself).
 * Sessions and second factors are security data (security:read); sign-ins are read from the audit log,
 * so they need what reading it needs (audit:read). Revoking a session is a piece of "log out
 * everywhere" and needs what that needs (members:suspend), under the same rules (members.act).
 */
export const MEMBER_DETAIL_PERMISSIONS = {
  sessions: "security:read",
  mfa: "security:read",
  logins: "audit:read",
  revokeSession: "members:suspend",
} as const;

export function createMemberDetailService(deps: {
  db: Db;
  clock: Clock;
  access: AccessCache;
  members: MembersService;
  detail: MemberDetailRepository;
  mfa: MfaRepository;
  sessions: SessionsService;
}) {
  const { db, clock, access, detail } = deps;

  /** The caller's permission first (403), then the member in this account (404; members:read too). */
  async function readable(callerId: string, accountId: string, userId: string, permission: string) {
    requirePermission(await access.get(db, accountId, callerId), permission);
    await deps.members.get(callerId, accountId, userId);
  }

  return {
    async sessions(callerId: string, accountId: string, userId: string) {
      await readable(callerId, accountId, userId, MEMBER_DETAIL_PERMISSIONS.sessions);
      return detail.liveSessionsInAccount(db, accountId, userId, clock.now().toISOString());
    },

    async logins(callerId: string, accountId: string, userId: string, limit: number) {
      await readable(callerId, accountId, userId, MEMBER_DETAIL_PERMISSIONS.logins);
      return detail.loginsInAccount(db, accountId, userId, limit);
    },

    async mfa(callerId: string, accountId: string, userId: string) {
      await readable(callerId, accountId, userId, MEMBER_DETAIL_PERMISSIONS.mfa);
      const factors = await deps.mfa.confirmedFactors(db, userId);
      return {
        enabled: factors.length > 0,
        factors,
        recoveryCodesRemaining: factors.length > 0 ? await deps.mfa.recoveryCodesRemaining(db, userId) : 0,
      };
    },

    /** Ends one of the member's sessions in this account; 404 for any other session. */
    async revokeSession(actor: Actor & { id: string }, accountId: string, userId: string, sessionId: string) {
      await deps.members.act(
        actor,
        accountId,
        userId,
        MEMBER_DETAIL_PERMISSIONS.revokeSession,
        async ({ trx, effects }) => {
          if (!(await detail.hasLiveSessionInAccount(trx, accountId, userId, sessionId)))
            throw notFound("Session");
          await deps.sessions.revoke(trx, effects, userId, sessionId);
          await recordAudit(
            trx,
            actor,
            {
              accountId,
              action: "member.session_revoked",
              targetType: "user",
              targetId: userId,
              changes: { session_id: sessionId },
            },
            clock.now(),
          );
        },
      );
    },
  };
}

export type MemberDetailService = ReturnType<typeof createMemberDetailService>;
