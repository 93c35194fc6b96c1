import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { ApiKeysService } from "../api-keys/api-keys.service.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { AuthService } from "../auth/auth.service.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { type Db, transact } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import type { MembersRepository } from "../members/members.repository.js";
import type { AccessCache } from "../roles/access.js";
import type { FileStorage } from "../storage/storage.js";

/**
 * DELETE /me: a person deletes their own login for good (deactivation is the reversible option).
 * Refused with 409 `sole_root` while they are the only active Root of an account that is not scheduled
 * for closure. Otherwise their memberships, sessions, second factors, passkeys, recovery codes, API keys,
 * preferences, notifications, avatar and the user row itself go in one transaction; audit events keep
 * the `usr_` id as a pseudonymous actor (their hashed fields are never rewritten).
 */
export function createSelfDeletion(deps: {
  db: Db;
  clock: Clock;
  auth: Pick<AuthService, "confirmPassword">;
  sessions: SessionsService;
  accounts: AccountsRepository;
  members: MembersRepository;
  access: AccessCache;
  apiKeys: Pick<ApiKeysService, "deleteForMember">;
  mailQueue: MailQueue;
  storage: FileStorage;
  log: { warn(object: unknown, message: string): void };
}) {
  const { db, clock } = deps;

  return {
    async deleteMe(session: Session, password: string, actor: Actor): Promise<void> {
      deps.sessions.requireFresh(session);
      const user = await deps.auth.confirmPassword(session, actor, password, {
        path: "password",
        message: "The password is incorrect.",
      });
      const files = await transact(db, async (trx, effects) => {
        const memberships = await deps.accounts.membershipsOfUser(trx, user.id);
        for (const m of memberships) await deps.accounts.lock(trx, m.accountId);
        const closing = new Set(
          (
            await trx
              .selectFrom("account_closures")
              .select("account_id")
              .where("account_id", "in", memberships.map((m) => m.accountId).concat(""))
              .execute()
          ).map((c) => c.account_id),
        );
        const soleRootOf = [];
        const leftWithoutRoot = [];
        for (const m of memberships) {
          if (m.role.key !== "root" || m.status !== "active") continue;
          if ((await deps.members.activeRootCount(trx, m.accountId)) > 1) continue;
          if (closing.has(m.accountId)) leftWithoutRoot.push(m.accountId);
          else soleRootOf.push({ id: m.accountId, name: m.accountName });
        }
        if (soleRootOf.length)
          throw new AppError(
            "sole_root",
            `You are the only Root of ${soleRootOf.map((a) => a.name).join(", ")}: make someone else Root or close the account first.`,
            { extensions: { accounts: soleRootOf } },
          );

        // The last Root of a closing account leaves: nobody may cancel its closure any more, so the
        // links mailed to its Admins die (an account must never be left running without a Root).
        if (leftWithoutRoot.length)
          await trx.deleteFrom("account_closure_tokens").where("account_id", "in", leftWithoutRoot).execute();
        const now = clock.now();
        for (const m of memberships) {
          const keys = await deps.apiKeys.deleteForMember(trx, effects, actor, m.accountId, user.id);
          await deps.access.publishAccountChange(trx, effects.afterCommit, m.accountId);
          await recordAudit(
            trx,
            actor,
            {
              accountId: m.accountId,
              action: "user.deleted",
              targetType: "user",
              targetId: user.id,
              ...(keys.length ? { changes: { api_keys_deleted: keys } } : {}),
            },
            now,
          );
        }
        if (memberships.length === 0)
          await recordAudit(
            trx,
            actor,
            { accountId: null, action: "user.deleted", targetType: "user", targetId: user.id },
            now,
          );
        await deps.sessions.revokeAll(trx, effects, user.id);
        const avatar = await trx
          .selectFrom("stored_files")
          .select("key")
          .where("user_id", "=", user.id)
          .execute();
        // Every row that is the person's own references the user with ON DELETE CASCADE: memberships,
        // team places, sessions, factors, passkeys, recovery codes, tokens, devices, notifications and
        // their preferences, stored-file records. Rows that name them without a foreign key (audit
        // events, invitations they sent) keep the bare id, which now names nobody.
        await trx.deleteFrom("team_members").where("user_id", "=", user.id).execute();
        await trx.deleteFrom("users").where("id", "=", user.id).execute();
        await deps.mailQueue.enqueue(trx, effects, mails.loginDeleted(user.email, user.firstName, now, user));
        return avatar.map((f) => f.key);
      });
      for (const key of files)
        await deps.storage
          .delete(key)
          .catch((error: unknown) => deps.log.warn({ err: error, key }, "could not delete a stored file"));
    },
  };
}

export type SelfDeletion = ReturnType<typeof createSelfDeletion>;
