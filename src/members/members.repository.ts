import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { escapeLike } from "../lib/sql.js";

export type MemberRecord = {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  status: "active" | "suspended";
  role: { id: string; key: string; name: string };
  teamIds: string[];
  lastLoginAt: string | null;
  joinedAt: string;
};

export type MemberSort = "name" | "email" | "last_login_at" | "joined_at";

export type MemberQuery = {
  status?: "active" | "suspended";
  roleId?: string;
  teamId?: string;
  q?: string;
  inactiveSince?: string;
  sort: MemberSort;
  order: "asc" | "desc";
  limit: number;
  after?: { key: string; id: string };
};

/** The sort key as SQL text (identical on both dialects), so keyset pagination can compare it. */
function sortExpression(sort: MemberSort) {
  switch (sort) {
    case "email":
      return sql<string>`m.email_normalized`;
    case "last_login_at":
      // Never-logged-in members sort first ascending; '' keeps the comparison in the index's order.
      return sql<string>`coalesce(m.last_login_at, '')`;
    case "joined_at":
      return sql<string>`m.created_at`;
    default:
      return sql<string>`m.sort_name`;
  }
}

export function createMembersRepository() {
  return {
    async list(
      db: Executor,
      accountId: string,
      query: MemberQuery,
    ): Promise<Array<MemberRecord & { sortKey: string }>> {
      const key = sortExpression(query.sort);
      let select = db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select([
          "m.user_id",
          "u.email",
          "u.first_name",
          "u.last_name",
          "m.status",
          "m.role_id",
          "u.last_login_at",
          "m.created_at",
          key.as("sort_key"),
        ])
        .where("m.account_id", "=", accountId);
      if (query.status) select = select.where("m.status", "=", query.status);
      if (query.roleId) select = select.where("m.role_id", "=", query.roleId);
      if (query.teamId) {
        const teamId = query.teamId;
        select = select.where((eb) =>
          eb.exists(
            eb
              .selectFrom("team_members as tm")
              .select("tm.user_id")
              .whereRef("tm.user_id", "=", "m.user_id")
              .where("tm.account_id", "=", accountId)
              .where("tm.team_id", "=", teamId),
          ),
        );
      }
      if (query.q) {
        const pattern = `%${escapeLike(query.q.toLowerCase())}%`;
        // sort_name holds "first last email", lower-cased: one column answers name and email searches.
        select = select.where(sql<boolean>`m.sort_name like ${pattern} escape '\\'`);
      }
      if (query.inactiveSince) {
        const since = query.inactiveSince;
        // One comparison ('' for never) instead of an OR, the same expression the last-login index holds.
        select = select.where(sql<boolean>`coalesce(m.last_login_at, '') < ${since}`);
      }
      if (query.after) {
        const { key: afterKey, id: afterId } = query.after;
        const op = query.order === "asc" ? ">" : "<";
        select = select.where((eb) =>
          eb.or([eb(key, op, afterKey), eb.and([eb(key, "=", afterKey), eb("m.user_id", op, afterId)])]),
        );
      }
      const rows = await select
        .orderBy(key, query.order)
        .orderBy("m.user_id", query.order)
        .limit(query.limit)
        .execute();
      const teams = await this.teamIdsOf(
        db,
        accountId,
        rows.map((r) => r.user_id),
      );
      // Roles come from a separate small query: joining them lets the planners start from roles and
      // sort every membership instead of walking the sort index.
      const roleRows = await db
        .selectFrom("roles")
        .select(["id", "key", "name"])
        .where("account_id", "=", accountId)
        .execute();
      const roles = new Map(roleRows.map((r) => [r.id, r]));
      return rows.map((r) => ({
        userId: r.user_id,
        email: r.email,
        firstName: r.first_name,
        lastName: r.last_name,
        status: r.status as "active" | "suspended",
        role: { id: r.role_id, key: roles.get(r.role_id)?.key ?? "", name: roles.get(r.role_id)?.name ?? "" },
        teamIds: teams.get(r.user_id) ?? [],
        lastLoginAt: r.last_login_at,
        joinedAt: r.created_at,
        sortKey: String(r.sort_key),
      }));
    },

    async teamIdsOf(db: Executor, accountId: string, userIds: string[]): Promise<Map<string, string[]>> {
      const map = new Map<string, string[]>();
      if (userIds.length === 0) return map;
      const rows = await db
        .selectFrom("team_members")
        .select(["user_id", "team_id"])
        .where("account_id", "=", accountId)
        .where("user_id", "in", userIds)
        .orderBy("team_id")
        .execute();
      for (const r of rows) map.set(r.user_id, [...(map.get(r.user_id) ?? []), r.team_id]);
      return map;
    },

    async find(db: Executor, accountId: string, userId: string): Promise<MemberRecord | undefined> {
      const row = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .select([
          "m.user_id",
          "u.email",
          "u.first_name",
          "u.last_name",
          "m.status",
          "r.id as role_id",
          "r.key as role_key",
          "r.name as role_name",
          "u.last_login_at",
          "m.created_at",
        ])
        .where("m.account_id", "=", accountId)
        .where("m.user_id", "=", userId)
        .executeTakeFirst();
      if (!row) return undefined;
      const teams = await this.teamIdsOf(db, accountId, [userId]);
      return {
        userId: row.user_id,
        email: row.email,
        firstName: row.first_name,
        lastName: row.last_name,
        status: row.status as "active" | "suspended",
        role: { id: row.role_id, key: row.role_key, name: row.role_name },
        teamIds: teams.get(userId) ?? [],
        lastLoginAt: row.last_login_at,
        joinedAt: row.created_at,
      };
    },

    async activeRootCount(db: Executor, accountId: string): Promise<number> {
      const row = await db
        .selectFrom("memberships as m")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .select(sql<number>`count(*)`.as("n"))
        .where("m.account_id", "=", accountId)
        .where("m.status", "=", "active")
        .where("r.key", "=", "root")
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async setRole(db: Executor, accountId: string, userId: string, roleId: string, now: string) {
      await db
        .updateTable("memberships")
        .set({ role_id: roleId, updated_at: now })
        .where("account_id", "=", accountId)
        .where("user_id", "=", userId)
        .execute();
    },

    async setStatus(
      db: Executor,
      accountId: string,
      userId: string,
      status: "active" | "suspended",
      now: string,
    ) {
      await db
        .updateTable("memberships")
        .set({ status, updated_at: now })
        .where("account_id", "=", accountId)
        .where("user_id", "=", userId)
        .execute();
    },

    /** Removes the membership and what hangs off it in this account; resources stay with the account. */
    async remove(db: Executor, accountId: string, userId: string) {
      await db
        .deleteFrom("team_members")
        .where("account_id", "=", accountId)
        .where("user_id", "=", userId)
        .execute();
      await db
        .deleteFrom("memberships")
        .where("account_id", "=", accountId)
        .where("user_id", "=", userId)
        .execute();
    },

    async membershipCount(db: Executor, userId: string): Promise<number> {
      const row = await db
        .selectFrom("memberships")
        .select(sql<number>`count(*)`.as("n"))
        .where("user_id", "=", userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type MembersRepository = ReturnType<typeof createMembersRepository>;
