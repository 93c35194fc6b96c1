import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { PasswordPolicy } from "../auth/password-policy.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import { BUILTIN_ROLES, can, type Permission } from "../roles/permissions.js";
import { type AccountSettings, defaultAccountSettings, type SessionPolicy } from "./account-settings.js";
import type { Account, AccountsRepository, Membership } from "./accounts.repository.js";

export type SecurityChanges = { password_policy?: Partial<PasswordPolicy>; session?: Partial<SessionPolicy> };

export function slugify(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return base || "account";
}

export function createAccountsService(deps: { db: Db; clock: Clock; accounts: AccountsRepository }) {
  const { db, clock, accounts } = deps;

  /** The caller's membership in an account; 404 when they have none, so existence is not revealed. */
  async function membershipOf(executor: Executor, userId: string, accountId: string): Promise<Membership> {
    const memberships = await accounts.membershipsOfUser(executor, userId);
    const membership = memberships.find((m) => m.accountId === accountId && m.status === "active");
    if (!membership) throw notFound("Account");
    return membership;
  }

  async function requirePermission(
    executor: Executor,
    userId: string,
    accountId: string,
    permission: Permission,
  ) {
    const membership = await membershipOf(executor, userId, accountId);
    if (!can(membership.role.permissions, permission)) {
      throw new AppError("forbidden", `Your role does not include ${permission}`);
    }
    return membership;
  }

  return {
    membershipOf,
    requirePermission,

    /** A new account with the built-in roles and its creator as Root; part of the caller's transaction. */
    async createWithRoot(
      trx: Executor,
      input: { name: string; ownerId: string; actor: Actor },
    ): Promise<string> {
      const now = clock.now().toISOString();
      const accountId = newId("account");
      let slug = slugify(input.name);
      if (await accounts.slugExists(trx, slug))
        slug = `${slug}-${newId("account").slice(5, 11).toLowerCase()}`;
      await accounts.insert(trx, {
        id: accountId,
        name: input.name,
        slug,
        settings: defaultAccountSettings(),
        now,
      });
      let rootRoleId = "";
      for (const role of BUILTIN_ROLES) {
        const id = newId("role");
        if (role.key === "root") rootRoleId = id;
        await accounts.insertRole(
          trx,
          accountId,
          { id, ...role, permissions: [...role.permissions], builtin: true },
          now,
        );
      }
      await accounts.insertMembership(trx, {
        id: newId("membership"),
        accountId,
        userId: input.ownerId,
        roleId: rootRoleId,
        status: "active",
        now,
      });
      await recordAudit(
        trx,
        input.actor,
        {
          accountId,
          action: "account.created",
          targetType: "account",
          targetId: accountId,
          changes: { name: input.name },
        },
        clock.now(),
      );
      return accountId;
    },

    async getSecurity(userId: string, accountId: string): Promise<AccountSettings> {
      await requirePermission(db, userId, accountId, "security:read");
      const account = await accounts.findById(db, accountId);
      if (!account) throw notFound("Account");
      return account.settings;
    },

    async updateSecurity(actor: Actor & { id: string }, accountId: string, changes: SecurityChanges) {
      return transact(db, async (trx) => {
        await requirePermission(trx, actor.id, accountId, "security:manage");
        const account = (await accounts.findById(trx, accountId)) as Account;
        const settings: AccountSettings = {
          password_policy: { ...account.settings.password_policy, ...changes.password_policy },
          session: { ...account.settings.session, ...changes.session },
        };
        await accounts.updateSettings(trx, accountId, settings, clock.now().toISOString());
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "account.security_updated",
            targetType: "account",
            targetId: accountId,
            changes: { ...changes },
          },
          clock.now(),
        );
        return settings;
      });
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
