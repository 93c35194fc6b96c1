import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { escapeLike } from "../lib/sql.js";
import { inTeamSql, type MemberStatus, memberStatusSql } from "../members/members.repository.js";

export type AssignableRole = { id: string; key: string; name: string; permissions: string[] };
export type AssignmentTeam = { id: string; name: string; roleId: string | null };

export type AssignmentMember = {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  status: MemberStatus;
  roleId: string;
  teamIds: string[];
  sortKey: string;
};

export type AssignmentQuery = {
  q?: string;
  roleId?: string;
  teamId?: string;
  /** Only members whose own role, or one of whose teams' roles, is one of these. */
  grantedByRoleIds?: readonly string[];
  limit: number;
  after?: { key: string; id: string };
};

/** Members of an account with their role and teams, and the account's roles and teams (the matrix). */
export function createAssignmentsRepository() {
  return {
    async roles(db: Executor, accountId: string): Promise<AssignableRole[]> {
      const rows = await db
        .selectFrom("roles")
        .select(["id", "key", "name", "permissions", "builtin"])
        .where("account_id", "=", accountId)
        .orderBy("builtin", "desc")
        .orderBy("name")
        .execute();
      return rows.map((r) => ({
        id: r.id,
        key: r.key,
        name: r.name,
        permissions: JSON.parse(r.permissions) as string[],
      }));
    },

    async teams(db: Executor, accountId: string): Promise<AssignmentTeam[]> {
      const rows = await db
        .selectFrom("teams")
        .select(["id", "name", "role_id"])
        .where("account_id", "=", accountId)
        .orderBy("name_normalized")
        .orderBy("id")
        .execute();
      return rows.map((r) => ({ id: r.id, name: r.name, roleId: r.role_id }));
    },

    /** A page by name (`sort_name`, then id), one more than `limit` when there is a next page. */
    async members(db: Executor, accountId: string, query: AssignmentQuery): Promise<AssignmentMember[]> {
      let select = db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select([
          "m.user_id",
          "u.email",
          "u.first_name",
          "u.last_name",
          memberStatusSql().as("status"),
          "m.role_id",
          "m.sort_name",
        ])
        .where("m.account_id", "=", accountId);
      if (query.q) {
        const pattern = `%${escapeLike(query.q.toLowerCase())}%`;
        select = select.where(sql<boolean>`m.sort_name like ${pattern} escape '\\'`);
      }
      if (query.roleId) select = select.where("m.role_id", "=", query.roleId);
      if (query.teamId) select = select.where(inTeamSql(accountId, query.teamId));
      if (query.grantedByRoleIds) {
        const roleIds = [...query.grantedByRoleIds];
        if (roleIds.length === 0) return [];
        select = select.where((eb) =>
          eb.or([
            eb("m.role_id", "in", roleIds),
            eb.exists(
              eb
                .selectFrom("team_members as tm")
                .innerJoin("teams as t", (j) =>
                  j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
                )
                .select("tm.user_id")
                .whereRef("tm.user_id", "=", "m.user_id")
                .where("tm.account_id", "=", accountId)
                .where("t.role_id", "in", roleIds),
            ),
          ]),
        );
      }
      if (query.after) {
        const { key, id } = query.after;
        select = select.where((eb) =>
          eb.or([
            eb("m.sort_name", ">", key),
            eb.and([eb("m.sort_name", "=", key), eb("m.user_id", ">", id)]),
          ]),
        );
      }
      const rows = await select.orderBy("m.sort_name").orderBy("m.user_id").limit(query.limit).execute();
      const userIds = rows.map((r) => r.user_id);
      const memberships = userIds.length
        ? await db
            .selectFrom("team_members")
            .select(["user_id", "team_id"])
            .where("account_id", "=", accountId)
            .where("user_id", "in", userIds)
            .execute()
        : [];
      const teamIds = new Map<string, string[]>();
      for (const t of memberships) teamIds.set(t.user_id, [...(teamIds.get(t.user_id) ?? []), t.team_id]);
      return rows.map((r) => ({
        userId: r.user_id,
        email: r.email,
        firstName: r.first_name,
        lastName: r.last_name,
        status: r.status,
        roleId: r.role_id,
        teamIds: teamIds.get(r.user_id) ?? [],
        sortKey: r.sort_name,
      }));
    },
  };
}

export type AssignmentsRepository = ReturnType<typeof createAssignmentsRepository>;
