import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "../users/me-cache.js";
import { BUILTIN_ROLES } from "./permissions.js";

const BUILTIN_ORDER = BUILTIN_ROLES.map((r) => r.key);

export type RoleRecord = {
  id: string;
  key: string;
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
};

export function createRolesRepository(options: { changes?: ChangeFeed } = {}) {
  // Roles' names and descriptions are in their members' /me.
  const feed = options.changes ?? NO_CHANGE_FEED;
  const base = (db: Executor, accountId: string) =>
    db
      .selectFrom("roles as r")
      .select([
        "r.id",
        "r.key",
        "r.name",
        "r.description",
        "r.permissions",
        "r.builtin",
        "r.created_at",
        "r.updated_at",
        (eb) =>
          eb
            .selectFrom("memberships as m")
            .select(sql<number>`count(*)`.as("n"))
            .whereRef("m.role_id", "=", "r.id")
            .where("m.account_id", "=", accountId)
            .as("member_count"),
      ])
      .where("r.account_id", "=", accountId);

  type Row = Awaited<ReturnType<ReturnType<typeof base>["executeTakeFirstOrThrow"]>>;
  const toRole = (r: Row): RoleRecord => ({
    id: r.id,
    key: r.key,
    name: r.name,
    description: r.description,
    permissions: JSON.parse(r.permissions) as string[],
    builtin: r.builtin === 1,
    memberCount: Number(r.member_count ?? 0),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });

  return {
    /** Built-in roles in their order of power, then custom roles by name. */
    async list(db: Executor, accountId: string): Promise<RoleRecord[]> {
      const rows = await base(db, accountId).orderBy("r.name").execute();
      const rank = (r: RoleRecord) => (r.builtin ? BUILTIN_ORDER.indexOf(r.key) : BUILTIN_ORDER.length);
      return rows.map(toRole).sort((a, b) => rank(a) - rank(b));
    },
    async find(db: Executor, accountId: string, roleId: string): Promise<RoleRecord | undefined> {
      const row = await base(db, accountId).where("r.id", "=", roleId).executeTakeFirst();
      return row && toRole(row);
    },
    async findByKey(db: Executor, accountId: string, key: string): Promise<RoleRecord | undefined> {
      const row = await base(db, accountId).where("r.key", "=", key).executeTakeFirst();
      return row && toRole(row);
    },
    async update(
      db: Executor,
      accountId: string,
      roleId: string,
      changes: { name?: string; description?: string; permissions?: string[] },
      now: string,
    ) {
      await db
        .updateTable("roles")
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.permissions !== undefined ? { permissions: JSON.stringify(changes.permissions) } : {}),
          updated_at: now,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", roleId)
        .execute();
      await feed.account(db, accountId);
    },
    async delete(db: Executor, accountId: string, roleId: string) {
      await db.deleteFrom("roles").where("account_id", "=", accountId).where("id", "=", roleId).execute();
      await feed.account(db, accountId);
    },
    /** Moves members and team grants off a role before it is deleted; returns who and which teams moved. */
    async reassign(
      db: Executor,
      accountId: string,
      fromRoleId: string,
      toRoleId: string,
      now: string,
    ): Promise<{ userIds: string[]; teamIds: string[] }> {
      const members = await db
        .updateTable("memberships")
        .set({ role_id: toRoleId, updated_at: now })
        .where("account_id", "=", accountId)
        .where("role_id", "=", fromRoleId)
        .returning("user_id")
        .execute();
      const teams = await db
        .updateTable("teams")
        .set({ role_id: toRoleId, updated_at: now })
        .where("account_id", "=", accountId)
        .where("role_id", "=", fromRoleId)
        .returning("id")
        .execute();
      await feed.account(db, accountId);
      return { userIds: members.map((m) => m.user_id), teamIds: teams.map((t) => t.id) };
    },
    async teamGrantCount(db: Executor, accountId: string, roleId: string): Promise<number> {
      const row = await db
        .selectFrom("teams")
        .select(sql<number>`count(*)`.as("n"))
        .where("account_id", "=", accountId)
        .where("role_id", "=", roleId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async accountPermissions(db: Executor, accountId: string) {
      return db
        .selectFrom("account_permissions")
        .select(["key", "description"])
        .where("account_id", "=", accountId)
        .orderBy("key")
        .execute();
    },
    async addAccountPermission(
      db: Executor,
      accountId: string,
      key: string,
      description: string,
      now: string,
    ) {
      await db
        .insertInto("account_permissions")
        .values({ account_id: accountId, key, description, created_at: now })
        .onConflict((oc) => oc.columns(["account_id", "key"]).doUpdateSet({ description }))
        .execute();
    },
  };
}

export type RolesRepository = ReturnType<typeof createRolesRepository>;
