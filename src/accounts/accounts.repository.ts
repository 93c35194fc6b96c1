import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { type AccountSettings, parseAccountSettings } from "./account-settings.js";

export type Account = {
  id: string;
  name: string;
  slug: string;
  settings: AccountSettings;
  logoUrl: string | null;
  industry: string | null;
  contactEmail: string | null;
  taxId: string | null;
  defaultRoleId: string | null;
  createdAt: string;
  updatedAt: string;
};

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
  status: string;
  role: Role;
};

/** The member list's name order: the same text the 0004 migration computes in SQL. */
export function memberSortName(firstName: string, lastName: string, emailNormalized: string): string {
  return `${firstName} ${lastName} ${emailNormalized}`.toLowerCase();
}

export function createAccountsRepository() {
  return {
    async findById(db: Executor, id: string): Promise<Account | undefined> {
      const row = await db.selectFrom("accounts").selectAll().where("id", "=", id).executeTakeFirst();
      return (
        row && {
          id: row.id,
          name: row.name,
          slug: row.slug,
          settings: parseAccountSettings(row.settings),
          logoUrl: row.logo_url,
          industry: row.industry,
          contactEmail: row.contact_email,
          taxId: row.tax_id,
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
    async insert(
      db: Executor,
      account: { id: string; name: string; slug: string; settings: AccountSettings; now: string },
    ) {
      await db
        .insertInto("accounts")
        .values({
          id: account.id,
          name: account.name,
          slug: account.slug,
          settings: JSON.stringify(account.settings),
          created_at: account.now,
          updated_at: account.now,
        })
        .execute();
    },
    async updateProfile(
      db: Executor,
      accountId: string,
      changes: Partial<
        Record<
          "name" | "logo_url" | "industry" | "contact_email" | "tax_id" | "default_role_id",
          string | null
        >
      >,
      now: string,
    ) {
      const values = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
      if (typeof values.name === "string") values.name = values.name.trim();
      await db
        .updateTable("accounts")
        .set({ ...values, updated_at: now })
        .where("id", "=", accountId)
        .execute();
    },
    /** Seats used = active + suspended members + open invitations. */
    async seatCounts(db: Executor, accountId: string, now: string) {
      const rows = await db
        .selectFrom("memberships")
        .select(["status", sql<number>`count(*)`.as("n")])
        .where("account_id", "=", accountId)
        .groupBy("status")
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
      return { active, suspended, pending: Number(pending.n), used: active + suspended + Number(pending.n) };
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
        .values({
          id: role.id,
          account_id: accountId,
          key: role.key,
          name: role.name,
          description: role.description,
          permissions: JSON.stringify(role.permissions),
          builtin: role.builtin ? 1 : 0,
          created_at: now,
          updated_at: now,
        })
        .execute();
    },
    async insertMembership(
      db: Executor,
      m: { id: string; accountId: string; userId: string; roleId: string; status: string; now: string },
    ) {
      const user = await db
        .selectFrom("users")
        .select(["first_name", "last_name", "email_normalized", "last_login_at"])
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
          last_login_at: user.last_login_at,
          created_at: m.now,
          updated_at: m.now,
        })
        .execute();
    },
    /** The user's memberships with account name and role, in one query. */
    async membershipsOfUser(db: Executor, userId: string): Promise<Membership[]> {
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("accounts as a", "a.id", "m.account_id")
        .innerJoin("roles as r", (join) =>
          join.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .select([
          "m.id as id",
          "m.account_id as account_id",
          "a.name as account_name",
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
        .orderBy("m.id")
        .execute();
      return rows.map((r) => ({
        id: r.id,
        accountId: r.account_id,
        accountName: r.account_name,
        status: r.status,
        role: {
          id: r.role_id,
          key: r.role_key,
          name: r.role_name,
          description: r.role_description,
          permissions: JSON.parse(r.role_permissions) as string[],
          builtin: r.role_builtin === 1,
        },
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
