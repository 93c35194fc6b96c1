import { sql } from "kysely";
import type { Db, Executor } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import { memberStatusSql } from "../members/members.repository.js";
import { type FileUrl, relativeFileUrl, urlOrNull } from "../storage/file-urls.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "../users/me-cache.js";
import { memberSortName } from "../users/users.repository.js";
import { type AccountSettings, parseAccountSettings } from "./account-settings.js";
import { type PostalAddress, parseAddress } from "./organization.js";

export type Account = {
  id: string;
  name: string;
  slug: string;
  settings: AccountSettings;
  /** Storage keys of the uploaded logo (512 px) and its 128 px copy; null without one. */
  logoKey: string | null;
  logoSmallKey: string | null;
  /** Where they are served (`{PUBLIC_URL}/files/<key>`). */
  logoUrl: string | null;
  logoThumbUrl: string | null;
  legalName: string | null;
  website: string | null;
  industry: string | null;
  industryOther: string | null;
  phone: string | null;
  address: PostalAddress | null;
  contactEmail: string | null;
  billingEmail: string | null;
  taxId: string | null;
  certifications: string[];
  defaultRoleId: string | null;
  createdAt: string;
  updatedAt: string;
};

/** The columns PATCH /accounts/{id} may set, as stored (`address` and `certifications` are JSON). */
export type AccountProfileColumns = Partial<
  Record<
    | "name"
    | "legal_name"
    | "website"
    | "industry"
    | "industry_other"
    | "phone"
    | "address"
    | "contact_email"
    | "billing_email"
    | "tax_id"
    | "default_role_id",
    string | null
  > & { certifications: string }
>;

export type Role = {
  id: string;
  key: string;
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
};

export type Membership = {
  id: string;
  accountId: string;
  accountName: string;
  accountSlug: string;
  status: string;
  role: Role;
};

/** A membership as a log-in weighs it: its account's settings decide allowlist and policies. */
export type LoginMembership = {
  accountId: string;
  status: string;
  roleId: string;
  settings: AccountSettings;
  /** The membership as GET /me lists it, so a log-in's answer reads nothing more. */
  view: Membership;
};

/** The member list's name order: the same text the 0004 migration computes in SQL. */

// GET /me and /session on a cold cache: compiled once (src/db/prepared.ts).
const membershipsOfUserQuery = prepared(1, (db, userId: string) => membershipsOf(db, userId));

/** A user's memberships with account and role, in the order every list of them keeps. */
function membershipsOf(db: Db, userId: string) {
  return db
    .selectFrom("memberships as m")
    .innerJoin("accounts as a", "a.id", "m.account_id")
    .innerJoin("roles as r", (join) =>
      join.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
    )
    .select([
      "m.id as id",
      "m.account_id as account_id",
      "a.name as account_name",
      "a.slug as account_slug",
      "m.status as status",
      "r.id as role_id",
      "r.key as role_key",
      "r.name as role_name",
      "r.description as role_description",
      "r.permissions as role_permissions",
      "r.builtin as role_builtin",
    ])
    .where("m.user_id", "=", userId)
    .orderBy("m.created_at")
    .orderBy("m.id");
}

// Every log-in: what it decides from (status, role, the account's settings) and what its answer shows.
const loginMembershipsQuery = prepared(1, (db, userId: string) =>
  membershipsOf(db, userId).select("a.settings as settings"),
);

type MembershipRow = Awaited<ReturnType<typeof membershipsOfUserQuery.all>>[number];

function membershipOf(r: MembershipRow): Membership {
  return {
    id: r.id,
    accountId: r.account_id,
    accountName: r.account_name,
    accountSlug: r.account_slug,
    status: r.status,
    role: {
      id: r.role_id,
      key: r.role_key,
      name: r.role_name,
      description: r.role_description,
      permissions: JSON.parse(r.role_permissions) as string[],
      builtin: r.role_builtin === 1,
    },
  };
}

/** A role as its `roles` row. */
function roleRow(accountId: string, role: Role, now: string) {
  return {
    id: role.id,
    account_id: accountId,
    key: role.key,
    name: role.name,
    description: role.description,
    permissions: JSON.stringify(role.permissions),
    builtin: role.builtin ? 1 : 0,
    created_at: now,
    updated_at: now,
  };
}

export function createAccountsRepository(options: { fileUrl?: FileUrl; changes?: ChangeFeed } = {}) {
  const feed = options.changes ?? NO_CHANGE_FEED;
  const fileUrl = options.fileUrl ?? relativeFileUrl;
  return {
    async findById(db: Executor, id: string): Promise<Account | undefined> {
      const row = await db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
      return (
        row && {
          id: row.id,
          name: row.name,
          slug: row.slug,
          settings: parseAccountSettings(row.settings),
          logoKey: row.logo_key,
          logoSmallKey: row.logo_small_key,
          logoUrl: urlOrNull(fileUrl, row.logo_key),
          logoThumbUrl: urlOrNull(fileUrl, row.logo_small_key),
          legalName: row.legal_name,
          website: row.website,
          industry: row.industry,
          industryOther: row.industry_other,
          phone: row.phone,
          address: parseAddress(row.address),
          contactEmail: row.contact_email,
          billingEmail: row.billing_email,
          taxId: row.tax_id,
          certifications: JSON.parse(row.certifications) as string[],
          defaultRoleId: row.default_role_id,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        }
      );
    },
    /**
     * Serialises changes that must see each other (last Root, seat counts): on PostgreSQL this takes the
     * account row's lock until commit; SQLite runs one write transaction at a time anyway.
     */
    async lock(db: Executor, accountId: string): Promise<void> {
      await db
        .updateTable("accounts")
        .set((eb) => ({ updated_at: eb.ref("updated_at") }))
        .where("id", "=", accountId)
        .execute();
    },
    async slugExists(db: Executor, slug: string): Promise<boolean> {
      const row = await db.selectFrom("accounts").select("id").where("slug", "=", slug).executeTakeFirst();
      return row !== undefined;
    },
    /**
     * False when the slug is taken (also by a concurrent transaction): nothing is written then. Bills
     * go to the creator's address until someone sets another.
     */
    async insert(
      db: Executor,
      account: {
        id: string;
        name: string;
        slug: string;
        settings: AccountSettings;
        ownerId: string;
        now: string;
      },
    ): Promise<boolean> {
      const inserted = await db
        .insertInto("accounts")
        .values((eb) => ({
          id: account.id,
          name: account.name,
          slug: account.slug,
          settings: JSON.stringify(account.settings),
          billing_email: eb.selectFrom("users").select("email").where("id", "=", account.ownerId),
          created_at: account.now,
          updated_at: account.now,
        }))
        .onConflict((oc) => oc.column("slug").doNothing())
        .returning("id")
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async updateProfile(db: Executor, accountId: string, changes: AccountProfileColumns, now: string) {
      const values = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
      if (typeof values.name === "string") values.name = values.name.trim();
      await db
        .updateTable("accounts")
        .set({ ...values, updated_at: now })
        .where("id", "=", accountId)
        .execute();
      // Its name is in every member's /me.
      await feed.account(db, accountId);
    },
    /**
     * Members by status (`active` = active members only) and seats used = active + suspended +
     * deactivated members + open invitations.
     */
    async seatCounts(db: Executor, accountId: string, now: string) {
      const status = memberStatusSql();
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select([status.as("status"), sql<number>`count(*)`.as("n")])
        .where("m.account_id", "=", accountId)
        .groupBy(status)
        .execute();
      const pending = await db
        .selectFrom("invitations")
        .select(sql<number>`count(*)`.as("n"))
        .where("account_id", "=", accountId)
        .where("status", "=", "pending")
        .where("expires_at", ">", now)
        .executeTakeFirstOrThrow();
      const of = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
      const active = of("active");
      const suspended = of("suspended");
      const deactivated = of("deactivated");
      return {
        active,
        suspended,
        deactivated,
        pending: Number(pending.n),
        used: active + suspended + deactivated + Number(pending.n),
      };
    },
    /** The uploaded logo's keys (both null: no logo). */
    async setLogo(
      db: Executor,
      accountId: string,
      keys: { large: string | null; small: string | null },
      now: string,
    ) {
      await db
        .updateTable("accounts")
        .set({ logo_key: keys.large, logo_small_key: keys.small, updated_at: now })
        .where("id", "=", accountId)
        .execute();
    },
    async updateSettings(db: Executor, accountId: string, settings: AccountSettings, now: string) {
      await db
        .updateTable("accounts")
        .set({ settings: JSON.stringify(settings), updated_at: now })
        .where("id", "=", accountId)
        .execute();
    },
    async insertRole(db: Executor, accountId: string, role: Role, now: string) {
      await db
        .insertInto("roles")
        .values(roleRow(accountId, role, now))
        .execute();
    },
    /** Several roles of one account in one statement (a new account's built-in roles). */
    async insertRoles(db: Executor, accountId: string, roles: Role[], now: string) {
      if (roles.length === 0) return;
      await db
        .insertInto("roles")
        .values(roles.map((role) => roleRow(accountId, role, now)))
        .execute();
    },
    async insertMembership(
      db: Executor,
      m: { id: string; accountId: string; userId: string; roleId: string; status: string; now: string },
    ) {
      const user = await db
        .selectFrom("users")
        .select(["first_name", "last_name", "email_normalized"])
        .where("id", "=", m.userId)
        .executeTakeFirstOrThrow();
      await db
        .insertInto("memberships")
        .values({
          id: m.id,
          account_id: m.accountId,
          user_id: m.userId,
          role_id: m.roleId,
          status: m.status,
          sort_name: memberSortName(user.first_name, user.last_name, user.email_normalized),
          email_normalized: user.email_normalized,
          // The last log-in to this account: none yet (log-in and switching in set it).
          last_login_at: null,
          created_at: m.now,
          updated_at: m.now,
        })
        .execute();
      await feed.user(db, m.userId);
    },
    /** A log-in to the account, or a session switched into it (the member list's "last log-in"). */
    async recordMemberLogin(db: Executor, accountId: string, userId: string, at: string) {
      await db
        .updateTable("memberships")
        .set({ last_login_at: at })
        .where("account_id", "=", accountId)
        .where("user_id", "=", userId)
        .execute();
    },
    /** The user's memberships with account name and role, in one query. */
    async membershipsOfUser(db: Executor, userId: string): Promise<Membership[]> {
      return (await membershipsOfUserQuery.all(db, userId)).map(membershipOf);
    },
    /**
     * Everything a log-in decides from the user's memberships, in one read: which are active, the role,
     * and each account's settings (IP allowlist, session and password policy, required second factor).
     * In the order of `membershipsOfUser`, each with its view there.
     */
    async loginMembershipsOfUser(db: Executor, userId: string): Promise<LoginMembership[]> {
      const rows = await loginMembershipsQuery.all(db, userId);
      return rows.map((r) => ({
        accountId: r.account_id,
        status: r.status,
        roleId: r.role_id,
        settings: parseAccountSettings(r.settings),
        view: membershipOf(r),
      }));
    },
    async settingsOfUserAccounts(db: Executor, userId: string): Promise<AccountSettings[]> {
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("accounts as a", "a.id", "m.account_id")
        .select("a.settings")
        .where("m.user_id", "=", userId)
        .execute();
      return rows.map((r) => parseAccountSettings(r.settings));
    },
  };
}

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
