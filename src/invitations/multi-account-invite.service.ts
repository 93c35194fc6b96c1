import { type IpAllowlistGuard, IpNotAllowedError } from "../accounts/ip-allowlist.js";
import type { Actor } from "../audit/audit.repository.js";
import type { Db } from "../db/database.js";
import { AppError, invalidFields, notFound } from "../http/errors.js";
import type { AccessCache } from "../roles/access.js";
import type { InvitationRecord } from "./invitations.repository.js";
import type { InvitationsService } from "./invitations.service.js";

export type AccountInvite = { accountId: string; roleId: string; teamIds?: string[] };

export type MultiAccountInviteInput = {
  emails: string[];
  invites: AccountInvite[];
  firstName?: string;
  lastName?: string;
};

export type MultiAccountInviteResult = {
  email: string;
  accountId: string;
  invitation?: InvitationRecord;
  error?: { code: string; detail: string };
};

/**
 * Invites addresses to several accounts at once, each with its own role. Each account is exactly the
 * bulk invitation of that account (`invitations.invite`: its permission, grant, seat and closure rules,
 * mails and audit events), in its own transaction: one account's refusal never undoes another's
 * invitations. A refusal of a whole account becomes that account's rows' error.
 */
export function createMultiAccountInviteService(deps: {
  db: Db;
  access: AccessCache;
  ipAllowlist: Pick<IpAllowlistGuard, "allows">;
  invitations: Pick<InvitationsService, "invite">;
}) {
  return {
    async invite(
      actor: Actor & { id: string },
      input: MultiAccountInviteInput,
    ): Promise<MultiAccountInviteResult[]> {
      const seen = new Map<string, number>();
      const repeated = input.invites.flatMap((invite, index) => {
        const first = seen.get(invite.accountId);
        if (first === undefined) {
          seen.set(invite.accountId, index);
          return [];
        }
        return [
          {
            path: `invites.${index}.account_id`,
            code: "duplicate",
            message: `Account ${index + 1} of the list is already account ${first + 1}: give each account once`,
          },
        ];
      });
      if (repeated.length) throw invalidFields(repeated);

      const results: MultiAccountInviteResult[] = [];
      for (const invite of input.invites) {
        try {
          // Outside the account, or inside it from a refused network: as its own endpoint answers.
          const held = await deps.access.get(deps.db, invite.accountId, actor.id);
          if (held?.status !== "active") throw notFound("Account");
          if (!(await deps.ipAllowlist.allows(invite.accountId, actor.ip)))
            throw new IpNotAllowedError(actor.ip);
          const answers = await deps.invitations.invite(actor, invite.accountId, {
            emails: input.emails,
            roleId: invite.roleId,
            ...(invite.teamIds ? { teamIds: invite.teamIds } : {}),
            ...(input.firstName !== undefined ? { firstName: input.firstName } : {}),
            ...(input.lastName !== undefined ? { lastName: input.lastName } : {}),
          });
          for (const answer of answers) {
            results.push({
              email: answer.email,
              accountId: invite.accountId,
              ...(answer.invitation ? { invitation: answer.invitation } : {}),
              ...(answer.error ? { error: answer.error } : {}),
            });
          }
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          const detail =
            error.code === "validation_failed" && error.errors?.length
              ? error.errors.map((e) => e.message).join(". ")
              : error.message;
          for (const email of input.emails)
            results.push({ email, accountId: invite.accountId, error: { code: error.code, detail } });
        }
      }
      return results;
    },
  };
}

export type MultiAccountInviteService = ReturnType<typeof createMultiAccountInviteService>;
