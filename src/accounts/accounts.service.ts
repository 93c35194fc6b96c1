import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { PasswordPolicy } from "../auth/password-policy.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { type Db, type Executor, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, type FieldError, invalidFields, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import { normalizePhone, PHONE_NUMBER_MESSAGE } from "../lib/phone.js";
import { type AccessCache, requirePermission as checkPermission, loadAccess } from "../roles/access.js";
import { BUILTIN_ROLES, type Permission } from "../roles/permissions.js";
import {
  type AccountSettings,
  defaultAccountSettings,
  type MfaPolicy,
  type SessionPolicy,
} from "./account-settings.js";
import type {
  Account,
  AccountProfileColumns,
  AccountsRepository,
  Membership,
} from "./accounts.repository.js";
import { accountView } from "./accounts.views.js";
import { clientIp, compileAllowlist, normalizeIpAllowlist } from "./ip-allowlist.js";
import {
  blankToNull,
  CERTIFICATIONS,
  type Certification,
  COUNTRIES,
  COUNTRY_MESSAGE,
  type Industry,
  normalizeAddress,
} from "./organization.js";

export type AccountProfileChanges = Partial<{
  name: string;
  legal_name: string | null;
  website: string | null;
  industry: Industry | null;
  industry_other: string | null;
  phone: string | null;
  address: {
    line1: string;
    line2?: string | null;
    city: string;
    region?: string | null;
    postal_code?: string | null;
    country: string;
  } | null;
  contact_email: string | null;
  billing_email: string | null;
  tax_id: string | null;
  certifications: Certification[];
  default_role_id: string | null;
}>;

/**
 * The profile changes as stored, after the checks the schema cannot make (a website's host, the
 * industry_other rule); `before` is the account as it is.
 */
function profileColumns(changes: AccountProfileChanges, before: Account): AccountProfileColumns {
  const problems: FieldError[] = [];
  const website = blankToNull(changes.website);
  if (website && !isWebAddress(website))
    problems.push({
      path: "website",
      code: "invalid_format",
      message: "Website must be a web address like https://example.com",
    });
  const phone =
    changes.phone === undefined || changes.phone === null ? changes.phone : normalizePhone(changes.phone);
  if (phone === undefined && typeof changes.phone === "string")
    problems.push({ path: "phone", code: "invalid_format", message: PHONE_NUMBER_MESSAGE });
  if (changes.address && !COUNTRIES.has(changes.address.country.toUpperCase()))
    problems.push({ path: "address.country", code: "invalid_country", message: COUNTRY_MESSAGE });
  const industry = changes.industry === undefined ? before.industry : changes.industry;
  const industryOther = blankToNull(changes.industry_other);
  if (industryOther && industry !== "other")
    problems.push({
      path: "industry_other",
      code: "requires_other",
      message: 'Describe the industry only when it is "other"',
    });
  const certifications = changes.certifications;
  if (certifications && new Set(certifications).size !== certifications.length)
    problems.push({
      path: "certifications",
      code: "duplicate",
      message: "Certifications must not list an item twice",
    });
  if (problems.length) throw invalidFields(problems);
  return {
    name: changes.name,
    legal_name: blankToNull(changes.legal_name),
    website,
    industry: changes.industry,
    // Another industry than "other" needs no description: the old one goes.
    industry_other: industry === "other" ? industryOther : before.industryOther === null ? undefined : null,
    phone: phone === undefined ? undefined : phone,
    address:
      changes.address === undefined
        ? undefined
        : changes.address === null
          ? null
          : JSON.stringify(normalizeAddress(changes.address)),
    contact_email: changes.contact_email,
    billing_email: changes.billing_email,
    tax_id: blankToNull(changes.tax_id),
    certifications: certifications
      ? JSON.stringify(
          [...certifications].sort((a, b) => CERTIFICATIONS.indexOf(a) - CERTIFICATIONS.indexOf(b)),
        )
      : undefined,
    default_role_id: changes.default_role_id,
  };
}

function isWebAddress(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname.length > 0;
  } catch {
    return false;
  }
}

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
  events: Pick<EventLog, "record">;
}) {
  const { db, clock, accounts, events } = deps;

  /** The top-level fields whose values differ between two API shapes (what `changed` lists). */
  const changedKeys = (
    before: Record<string, unknown>,
    after: Record<string, unknown>,
    except: string[] = [],
  ) =>
    Object.keys(after).filter(
      (k) => !except.includes(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]),
    );

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
      const base = slugify(input.name);
      const suffixed = () => `${base}-${newId("account").slice(5, 11).toLowerCase()}`;
      // Root and Admin must use a second factor in new accounts (7 days' grace to enroll).
      const roleIds = new Map(BUILTIN_ROLES.map((role) => [role.key, newId("role")]));
      const settings = defaultAccountSettings();
      settings.mfa.required_role_ids = [roleIds.get("root"), roleIds.get("admin")] as string[];
      // A taken slug gets a random suffix; two sign-ups with one name at once both succeed.
      let slug = base;
      while (
        !(await accounts.insert(trx, {
          id: accountId,
          name: input.name,
          slug,
          settings,
          ownerId: input.ownerId,
          now,
        }))
      )
        slug = suffixed();
      await accounts.insertRoles(
        trx,
        accountId,
        BUILTIN_ROLES.map((role) => ({
          id: roleIds.get(role.key) as string,
          ...role,
          permissions: [...role.permissions],
          builtin: true,
        })),
        now,
      );
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
      await transact(db, async (trx, effects) => {
        const account = (await accounts.findById(trx, accountId)) as Account;
        const before = accountView(account);
        const columns = profileColumns(changes, account);
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
        await accounts.updateProfile(trx, accountId, columns, clock.now().toISOString());
        const after = accountView((await accounts.findById(trx, accountId)) as Account);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "account.updated",
            targetType: "account",
            targetId: accountId,
            // What was stored (the phone in E.164, the address tidied), for the fields sent.
            changes: Object.fromEntries(
              Object.keys(changes).map((k) => [k, after[k as keyof typeof after] ?? null]),
            ),
          },
          clock.now(),
        );
        const changed = changedKeys(before, after, ["updated_at"]);
        // Sending what it already says is no change to announce.
        if (changed.length)
          await events.record(trx, effects, actor, {
            accountId,
            type: "account.updated",
            data: { ...after, changed },
          });
      });
      return (await accounts.findById(db, accountId)) as Account;
    },

    /**
     * The account switcher: the session moves (under that account's session limits), and the next
     * log-in lands there too. A session older than that account allows ends: 401, log in again.
     */
    async switchTo(session: Session, accountId: string): Promise<Session> {
      const found = await deps.access.get(db, accountId, session.userId);
      if (found?.status !== "active") throw notFound("Account");
      const moved = await transact(db, async (trx, effects) => {
        await trx
          .updateTable("users")
          .set({ last_account_id: accountId })
          .where("id", "=", session.userId)
          .execute();
        return deps.sessions.switchAccount(trx, effects, session, accountId);
      });
      if (!moved) {
        throw new AppError(
          "unauthenticated",
          "Sessions in that account last a shorter time than yours has: log in again to open it.",
        );
      }
      return moved;
    },

    async seats(userId: string, accountId: string) {
      await requirePermission(db, userId, accountId, "members:read");
      return accounts.seatCounts(db, accountId, clock.now().toISOString());
    },

    /**
     * Inside a transaction that changed how the user shows in every account (turning their own login
     * off or on): each of their accounts drops what it cached (access, member counts) at commit.
     */
    async publishUserChange(trx: Executor, afterCommit: (effect: () => unknown) => void, userId: string) {
      for (const membership of await accounts.membershipsOfUser(trx, userId))
        await deps.access.publishAccountChange(trx, afterCommit, membership.accountId);
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
        // Session limits apply to the sessions already in the account, not only to new ones.
        if (changes.session) await deps.sessions.applyPolicy(trx, effects, accountId, settings.session);
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
        // Which settings changed, as `section.field` (`ip_allowlist` as a whole).
        const changed = (Object.keys(settings) as Array<keyof AccountSettings>).flatMap((section) => {
          const [before, after] = [account.settings[section], settings[section]];
          if (Array.isArray(after)) return JSON.stringify(before) === JSON.stringify(after) ? [] : [section];
          return changedKeys(before as Record<string, unknown>, after).map((field) => `${section}.${field}`);
        });
        if (changed.length)
          await events.record(trx, effects, actor, {
            accountId,
            type: "security.policy_changed",
            data: { ...settings, changed },
          });
        return settings;
      });
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
