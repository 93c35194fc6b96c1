import type { Actor } from "../audit/audit.repository.js";
import { recordAudit } from "../audit/audit.repository.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import type { Executor, Trx } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { decryptSecret } from "../lib/crypto.js";
import type { MembersService } from "../members/members.service.js";
import type { MfaRepository } from "./mfa.repository.js";
import type { MfaService } from "./mfa.service.js";
import type { MfaEvents } from "./mfa-events.js";

/** Far enough in the past that any grace period has run out: "enroll before anything else". */
const LONG_AGO = new Date(0).toISOString();

/**
 * What an account's security admins may do about a member's second factors. A login is shared by every
 * account its owner belongs to, so these act on the person's login as a whole; that is why a Root of
 * any account is out of reach of other accounts' admins, and nobody but the owner sees a Root's codes.
 */
export function createMemberMfaService(deps: {
  clock: Clock;
  secretKey: Buffer;
  members: MembersService;
  mfa: MfaService;
  repository: MfaRepository;
  sessions: SessionsService;
  mfaEvents: MfaEvents;
}) {
  const { clock, members, mfa, repository, sessions } = deps;
  type Caller = Actor & { id: string };

  async function assertNotRootElsewhere(trx: Executor, accountId: string, userId: string) {
    const elsewhere = await trx
      .selectFrom("memberships as m")
      .innerJoin("roles as r", "r.id", "m.role_id")
      .select("m.account_id")
      .where("m.user_id", "=", userId)
      .where("m.account_id", "!=", accountId)
      .where("r.key", "=", "root")
      .where("r.builtin", "=", 1)
      .executeTakeFirst();
    if (elsewhere) {
      throw new AppError(
        "root_only",
        "This person is Root of another account: only they can change their two-factor settings",
      );
    }
  }

  async function assertEnabled(trx: Executor, userId: string) {
    if ((await repository.confirmedFactors(trx, userId)).length === 0) {
      throw new AppError("conflict", "This member has not turned on two-factor authentication");
    }
  }

  const audit = (trx: Trx, actor: Actor, accountId: string, action: string, userId: string) =>
    recordAudit(trx, actor, { accountId, action, targetType: "user", targetId: userId }, clock.now());

  return {
    /**
     * Removes every factor and recovery code and ends the member's sessions. When an account requires a
     * second factor of them, they must enroll again at their next log-in before doing anything else.
     */
    async reset(actor: Caller, session: Session, accountId: string, userId: string) {
      sessions.requireFresh(session);
      await members.act(actor, accountId, userId, "security:manage", async ({ trx, effects }) => {
        await assertNotRootElsewhere(trx, accountId, userId);
        await assertEnabled(trx, userId);
        await repository.deleteAll(trx, userId);
        const required = (await mfa.requiringPolicies(trx, userId)).length > 0;
        await trx
          .updateTable("users")
          .set({ mfa_required_since: required ? LONG_AGO : null })
          .where("id", "=", userId)
          .execute();
        await sessions.revokeAll(trx, effects, userId);
        await audit(trx, actor, accountId, "member.mfa_reset", userId);
        await deps.mfaEvents.disabled(trx, effects, actor, userId, "admin");
        await mfa.securityMail(
          trx,
          effects,
          userId,
          "Your two-factor authentication was reset",
          "An administrator removed the second factors and recovery codes of your Gatehouse login and signed you out. Set up two-factor authentication again at your next log-in.",
          accountId,
        );
      });
    },

    /** New recovery codes for a locked-out member, shown once to the admin; the old ones die. */
    async issueRecoveryCodes(actor: Caller, session: Session, accountId: string, userId: string) {
      sessions.requireFresh(session);
      return members.act(actor, accountId, userId, "security:manage", async ({ trx, effects }) => {
        await assertNotRootElsewhere(trx, accountId, userId);
        await assertEnabled(trx, userId);
        const codes = await mfa.issueRecoveryCodes(trx, userId);
        await audit(trx, actor, accountId, "member.recovery_codes_issued", userId);
        await mfa.securityMail(
          trx,
          effects,
          userId,
          "New recovery codes were issued for you",
          "An administrator made new recovery codes for your Gatehouse login; your old ones no longer work.",
          accountId,
        );
        return codes;
      });
    },

    /** The member's unused recovery codes. They are told by mail; Root users' codes are never shown. */
    async viewRecoveryCodes(actor: Caller, session: Session, accountId: string, userId: string) {
      sessions.requireFresh(session);
      return members.act(actor, accountId, userId, "security:manage", async ({ trx, effects, caller }) => {
        if (await mfa.isRootAnywhere(trx, userId)) {
          throw new AppError(
            "root_only",
            "The recovery codes of a Root user can never be viewed by anyone else",
          );
        }
        await assertEnabled(trx, userId);
        const sealed = await repository.unusedSealedCodes(trx, userId);
        if (sealed.some((code) => code === null)) {
          throw new AppError(
            "conflict",
            "These recovery codes were made while this person was Root and cannot be shown: issue new ones",
          );
        }
        await audit(trx, actor, accountId, "member.recovery_codes_viewed", userId);
        const viewer = await trx
          .selectFrom("users")
          .select("email")
          .where("id", "=", caller.userId)
          .executeTakeFirstOrThrow();
        await mfa.securityMail(
          trx,
          effects,
          userId,
          "Security codes viewed",
          `An administrator (${viewer.email}) viewed the recovery codes of your Gatehouse login. Anyone holding them can pass your second step once per code: ask for new ones if you did not expect this.`,
          accountId,
        );
        return sealed.map((code) => decryptSecret(deps.secretKey, code as string));
      });
    },
  };
}

export type MemberMfaService = ReturnType<typeof createMemberMfaService>;
