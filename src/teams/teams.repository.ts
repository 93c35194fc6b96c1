import type { Executor } from "../db/database.js";

export type TeamRecord = {
  id: string;
  name: string;
  description: string;
  role: { id: string; key: string; name: string } | null;
  memberIds: string[];
  /** Resources of the account whose owner is this team. */
  resourceCount: number;
  createdAt: string;
  updatedAt: string;
};

type TeamRow = {
  id: string;
  name: string;
  description: string;
  role_id: string | null;
  role_key: string | null;
  role_name: string | null;
  created_at: string;
  updated_at: string;
  /** A scalar subquery's count: never null in practice, but typed so. */
  resource_count: string | number | bigint | null;
};

export function createTeamsRepository() {
  async function withMembers(db: Executor, accountId: string, rows: TeamRow[]): Promise<TeamRecord[]> {
    const ids = rows.map((r) => r.id);
    const members = ids.length
      ? await db
          .selectFrom("team_members")
          .select(["team_id", "user_id"])
          .where("account_id", "=", accountId)
          .where("team_id", "in", ids)
          .orderBy("user_id")
          .execute()
      : [];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      role: r.role_id ? { id: r.role_id, key: r.role_key as string, name: r.role_name as string } : null,
      memberIds: members.filter((m) => m.team_id === r.id).map((m) => m.user_id),
      // PostgreSQL counts as bigint (a string here), SQLite as a number.
      resourceCount: Number(r.resource_count ?? 0),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  const base = (db: Executor, accountId: string) =>
    db
      .selectFrom("teams as t")
      .leftJoin("roles as r", (j) =>
        j.onRef("r.id", "=", "t.role_id").onRef("r.account_id", "=", "t.account_id"),
      )
      .select([
        "t.id",
        "t.name",
        "t.description",
        "t.role_id",
        "r.key as role_key",
        "r.name as role_name",
        "t.created_at",
        "t.updated_at",
        (eb) =>
          eb
            .selectFrom("resources as res")
            .select((c) => c.fn.countAll().as("n"))
            .whereRef("res.account_id", "=", "t.account_id")
            .whereRef("res.owner_team_id", "=", "t.id")
            .as("resource_count"),
      ])
      .where("t.account_id", "=", accountId);

  return {
    async list(db: Executor, accountId: string): Promise<TeamRecord[]> {
      return withMembers(db, accountId, await base(db, accountId).orderBy("t.name_normalized").execute());
    },
    async find(db: Executor, accountId: string, teamId: string): Promise<TeamRecord | undefined> {
      const row = await base(db, accountId).where("t.id", "=", teamId).executeTakeFirst();
      return row ? (await withMembers(db, accountId, [row]))[0] : undefined;
    },
    async nameTaken(db: Executor, accountId: string, name: string, exceptId?: string): Promise<boolean> {
      let q = db
        .selectFrom("teams")
        .select("id")
        .where("account_id", "=", accountId)
        .where("name_normalized", "=", name.trim().toLowerCase());
      if (exceptId) q = q.where("id", "!=", exceptId);
      return (await q.executeTakeFirst()) !== undefined;
    },
    async insert(
      db: Executor,
      accountId: string,
      t: { id: string; name: string; description: string; roleId: string | null; now: string },
    ) {
      await db
        .insertInto("teams")
        .values({
          id: t.id,
          account_id: accountId,
          name: t.name,
          name_normalized: t.name.toLowerCase(),
          description: t.description,
          role_id: t.roleId,
          created_at: t.now,
          updated_at: t.now,
        })
        .execute();
    },
    async update(
      db: Executor,
      accountId: string,
      teamId: string,
      c: { name?: string; description?: string; roleId?: string | null },
      now: string,
    ) {
      await db
        .updateTable("teams")
        .set({
          ...(c.name !== undefined ? { name: c.name, name_normalized: c.name.toLowerCase() } : {}),
          ...(c.description !== undefined ? { description: c.description } : {}),
          ...(c.roleId !== undefined ? { role_id: c.roleId } : {}),
          updated_at: now,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", teamId)
        .execute();
    },
    async setMembers(db: Executor, accountId: string, teamId: string, userIds: string[], now: string) {
      await db
        .deleteFrom("team_members")
        .where("account_id", "=", accountId)
        .where("team_id", "=", teamId)
        .execute();
      for (const userId of userIds) {
        await db
          .insertInto("team_members")
          .values({ account_id: accountId, team_id: teamId, user_id: userId, created_at: now })
          .execute();
      }
    },
    async moveMembers(db: Executor, accountId: string, fromTeamId: string, toTeamId: string, now: string) {
      const rows = await db
        .selectFrom("team_members")
        .select("user_id")
        .where("account_id", "=", accountId)
        .where("team_id", "=", fromTeamId)
        .execute();
      for (const { user_id } of rows) {
        await db
          .insertInto("team_members")
          .values({ account_id: accountId, team_id: toTeamId, user_id, created_at: now })
          .onConflict((oc) => oc.columns(["team_id", "user_id"]).doNothing())
          .execute();
      }
      return rows.length;
    },
    async transferResources(
      db: Executor,
      accountId: string,
      fromTeamId: string,
      toTeamId: string | null,
      now: string,
    ) {
      const result = await db
        .updateTable("resources")
        .set({ owner_team_id: toTeamId, updated_at: now })
        .where("account_id", "=", accountId)
        .where("owner_team_id", "=", fromTeamId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async delete(db: Executor, accountId: string, teamId: string) {
      await db
        .deleteFrom("team_members")
        .where("account_id", "=", accountId)
        .where("team_id", "=", teamId)
        .execute();
      await db.deleteFrom("teams").where("account_id", "=", accountId).where("id", "=", teamId).execute();
    },
    async activeMemberIds(db: Executor, accountId: string, userIds: string[]): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db
        .selectFrom("memberships")
        .select("user_id")
        .where("account_id", "=", accountId)
        .where("user_id", "in", userIds)
        .execute();
      return new Set(rows.map((r) => r.user_id));
    },
  };
}

export type TeamsRepository = ReturnType<typeof createTeamsRepository>;
