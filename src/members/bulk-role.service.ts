import { sql } from "kysely";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { Actor } from "../audit/audit.repository.js";
import { type Db, type Effects, transact } from "../db/database.js";
import { AppError } from "../http/errors.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import type { RolesRepository } from "../roles/roles.repository.js";
import type { MemberRecord, MembersRepository } from "./members.repository.js";
import type { MembersService } from "./members.service.js";

export type BulkRoleResult = {
  userId: string;
  /** The member after the change (also when they already had the role). */
  member?: MemberRecord;
  error?: { code: string; detail: string };
};

/**
 * Gives several members one role. Each member goes through the very change `PATCH …/members/{user_id}`
 * makes (`changeRoleIn`: the grant rule, never yourself, the last Root), in one transaction holding the
 * account lock; a refused member is rolled back to a savepoint and reported, the others commit together.
 */
export function createBulkRoleService(deps: {
  db: Db;
  access: AccessCache;
  accounts: Pick<AccountsRepository, "lock">;
  roles: Pick<RolesRepository, "find">;
  members: Pick<MembersRepository, "find">;
  changes: Pick<MembersService, "changeRoleIn">;
}) {
  const { db, access } = deps;

  return {
    async changeRoles(
      actor: Actor & { id: string },
      accountId: string,
      userIds: readonly string[],
      roleId: string,
    ): Promise<BulkRoleResult[]> {
      requirePermission(await access.get(db, accountId, actor.id), "members:update_role");
      // A role that does not exist is wrong for every member: the request is refused as a whole.
      if (!(await deps.roles.find(db, accountId, roleId))) {
        throw new AppError("validation_failed", "Unknown role", {
          errors: [{ path: "role_id", code: "not_found", message: "No such role in this account" }],
        });
      }
      const unique = [...new Set(userIds)];
      return transact(db, async (trx, effects) => {
        await deps.accounts.lock(trx, accountId);
        const results: BulkRoleResult[] = [];
        for (const userId of unique) {
          // This member's effects (webhook deliveries, cache drops) wait until their change is kept.
          const pending: Array<() => unknown> = [];
          const own: Effects = { afterCommit: (effect) => pending.push(effect) };
          await sql`savepoint bulk_role_member`.execute(trx);
          try {
            await deps.changes.changeRoleIn(trx, own, actor, accountId, userId, roleId);
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            await sql`rollback to savepoint bulk_role_member`.execute(trx);
            results.push({ userId, error: { code: error.code, detail: error.message } });
            continue;
          }
          await sql`release savepoint bulk_role_member`.execute(trx);
          for (const effect of pending) effects.afterCommit(effect);
          results.push({ userId, member: (await deps.members.find(trx, accountId, userId)) as MemberRecord });
        }
        return results;
      });
    },
  };
}

export type BulkRoleService = ReturnType<typeof createBulkRoleService>;
