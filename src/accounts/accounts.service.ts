import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { PasswordPolicy } from "../auth/password-policy.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import { type AccessCache, requirePermission as checkPermission, loadAccess } from "../roles/access.js";
import { BUILTIN_ROLES, type Permission } from "../roles/permissions.js";
import {
  type AccountSettings,
  defaultAccountSettings,
  type MfaPolicy,
  type SessionPolicy,
} from "./account-settings.js";
import type { Account, AccountsRepository, Membership } from "./accounts.repository.js";
import { clientIp, compileAllowlist, normalizeIpAllowlist } from "./ip-allowlist.js";

export type AccountProfileChanges = Partial<{
  name: string;
  logo_url: string | null;
  industry: string | null;
  contact_email: string | null;
  tax_id: string | null;
  default_role_id: string | null;
}>;

export type SecurityChanges = {
  password_policy?: Partial<PasswordPolicy>;
  session?: Partial<SessionPolicy>;
  mfa?: Partial<MfaPolicy>;
  ip_allowlist?: string[];
};

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

export function createAccountsService(deps: {
  db: Db;
  clock: Clock;
  accounts: AccountsRepository;
  access: AccessCache;
  sessions: SessionsService;
}) {
  const { db, clock, accounts } = deps;

  /** The caller's membership in an account; 404 when they have none, so existence is not revealed. */
  async function membershipOf(executor: Executor, userId: string, accountId: string): Promise<Membership> {
    const memberships = await accounts.membershipsOfUser(executor, userId);
    const membership = memberships.find((m) => m.accountId === accountId && m.status === "active");
    if (!membership) throw notFound("Account");
    return membership;
  }

  /** 404 for non-members, 403 without the permission. Inside a transaction it reads fresh, not cached. */
  async function requirePermission(
    executor: Executor,
    userId: string,
    accountId: string,
    permission: Permission,
  ) {
    const found =
      executor === db
        ? await deps.access.get(db, accountId, userId)
        : await loadAccess(executor, accountId, userId);
    return checkPermission(found, permission);
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
      // Root and Admin must use a second factor in new accounts (7 days' grace to enroll).
      const roleIds = new Map(BUILTIN_ROLES.map((role) => [role.key, newId("role")]));
      const settings = defaultAccountSettings();
      settings.mfa.required_role_ids = [roleIds.get("root"), roleIds.get("admin")] as string[];
      await accounts.updateSettings(trx, accountId, settings, now);
      for (const role of BUILTIN_ROLES) {
        await accounts.insertRole(
          trx,
          accountId,
          { id: roleIds.get(role.key) as string, ...role, permissions: [...role.permissions], builtin: true },
          now,
        );
      }
      const rootRoleId = roleIds.get("root") as string;
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

    async list(userId: string) {
      return (await accounts.membershipsOfUser(db, userId)).filter((m) => m.status === "active");
    },

    async create(actor: Actor & { id: string }, name: string): Promise<Account> {
      const accountId = await transact(db, (trx) =>
        this.createWithRoot(trx, { name: name.trim(), ownerId: actor.id, actor }),
      );
      return (await accounts.findById(db, accountId)) as Account;
    },

    async get(userId: string, accountId: string): Promise<Account> {
      await requirePermission(db, userId, accountId, "account:read");
      return (await accounts.findById(db, accountId)) as Account;
    },

    async updateProfile(
      actor: Actor & { id: string },
      accountId: string,
      changes: AccountProfileChanges,
    ): Promise<Account> {
      await requirePermission(db, actor.id, accountId, "account:update");
      await transact(db, async (trx) => {
        if (changes.default_role_id) {
          const role = await trx
            .selectFrom("roles")
            .select(["key"])
            .where("account_id", "=", accountId)
            .where("id", "=", changes.default_role_id)
            .executeTakeFirst();
          if (!role)
            throw new AppError("validation_failed", "Unknown role", {
              errors: [{ path: "default_role_id", code: "not_found", message: "No such role" }],
            });
          if (role.key === "root")
            throw new AppError("validation_failed", "Invitations cannot default to Root", {
              errors: [
                { path: "default_role_id", code: "invalid_value", message: "Choose a role other than Root" },
              ],
            });
        }
        await accounts.updateProfile(trx, accountId, changes, clock.now().toISOString());
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "account.updated",
            targetType: "account",
            targetId: accountId,
            changes: { ...changes },
          },
          clock.now(),
        );
      });
      return (await accounts.findById(db, accountId)) as Account;
    },

    /** The account switcher: the session moves, and the next log-in lands there too. */
    async switchTo(session: Session, accountId: string): Promise<void> {
      const found = await deps.access.get(db, accountId, session.userId);
      if (found?.status !== "active") throw notFound("Account");
      await transact(db, async (trx, effects) => {
        await deps.sessions.switchAccount(trx, effects, session, accountId);
        await trx
          .updateTable("users")
          .set({ last_account_id: accountId })
          .where("id", "=", session.userId)
          .execute();
      });
    },

    async seats(userId: string, accountId: string) {
      await requirePermission(db, userId, accountId, "members:read");
      return accounts.seatCounts(db, accountId, clock.now().toISOString());
    },

    async getSecurity(userId: string, accountId: string): Promise<AccountSettings> {
      await requirePermission(db, userId, accountId, "security:read");
      const account = await accounts.findById(db, accountId);
      if (!account) throw notFound("Account");
      return account.settings;
    },

    async updateSecurity(actor: Actor & { id: string }, accountId: string, changes: SecurityChanges) {
      return transact(db, async (trx, effects) => {
        await requirePermission(trx, actor.id, accountId, "security:manage");
        const account = (await accounts.findById(trx, accountId)) as Account;
        const ipAllowlist = changes.ip_allowlist && normalizeIpAllowlist(changes.ip_allowlist);
        const settings: AccountSettings = {
          password_policy: { ...account.settings.password_policy, ...changes.password_policy },
          session: { ...account.settings.session, ...changes.session },
          mfa: { ...account.settings.mfa, ...changes.mfa },
          ip_allowlist: ipAllowlist ?? account.settings.ip_allowlist,
        };
        if (ipAllowlist && !compileAllowlist(settings.ip_allowlist).allows(actor.ip)) {
          const ip = clientIp(actor.ip) ?? "unknown";
          throw new AppError(
            "conflict",
            `This allowlist would lock you out: your current IP address (${ip}) must be included.`,
            {
              errors: [
                {
                  path: "ip_allowlist",
                  code: "would_lock_out",
                  message: `Include your current IP address ${ip}`,
                },
              ],
            },
          );
        }
        if (changes.mfa?.required_role_ids) {
          const known = new Set(
            (await trx.selectFrom("roles").select("id").where("account_id", "=", accountId).execute()).map(
              (r) => r.id,
            ),
          );
          const unknown = changes.mfa.required_role_ids.findIndex((id) => !known.has(id));
          if (unknown >= 0) {
            throw new AppError("validation_failed", "Unknown role", {
              errors: [
                {
                  path: `mfa.required_role_ids.${unknown}`,
                  code: "not_found",
                  message: "No such role in this account",
                },
              ],
            });
          }
        }
        if (settings.mfa.allowed_methods.length === 0) {
          throw new AppError("validation_failed", "Allow at least one kind of second factor", {
            errors: [
              { path: "mfa.allowed_methods", code: "too_short", message: "Allow at least one method" },
            ],
          });
        }
        await accounts.updateSettings(trx, accountId, settings, clock.now().toISOString());
        // Every process drops its cached allowlist of this account at commit (checked on each request).
        if (ipAllowlist) await deps.access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "account.security_updated",
            targetType: "account",
            targetId: accountId,
            changes: { ...changes, ...(ipAllowlist ? { ip_allowlist: ipAllowlist } : {}) },
          },
          clock.now(),
        );
        return settings;
      });
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
