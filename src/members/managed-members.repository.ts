import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { escapeLike } from "../lib/sql.js";
import { type FileUrl, relativeFileUrl, urlOrNull } from "../storage/file-urls.js";
import { type MemberStatus, memberStatusSql } from "./members.repository.js";

/** One of a person's memberships, in an account the caller administers. */
export type ManagedMembership = {
  accountId: string;
  accountName: string;
  role: { id: string; key: string; name: string };
  status: MemberStatus;
  lastLoginAt: string | null;
  joinedAt: string;
};

/** A person across the accounts the caller administers: one row whatever the number of memberships. */
export type ManagedPerson = {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  avatarUrl: string | null;
  avatarThumbUrl: string | null;
  /** Only memberships in the accounts of the query's scope, by account name. */
  memberships: ManagedMembership[];
  sortKey: string;
};

export type ManagedPeopleQuery = {
  /** The accounts the caller may read members of: nothing outside them is ever read. */
  scope: readonly string[];
  /** People with a membership in this account (one of `scope`). */
  accountId?: string;
  /** People with a membership of this status (in `accountId` when given, else in any of `scope`). */
  status?: MemberStatus;
  q?: string;
  limit: number;
  after?: { key: string; id: string };
};

export function createManagedMembersRepository(options: { fileUrl?: FileUrl } = {}) {
  const fileUrl = options.fileUrl ?? relativeFileUrl;
  return {
    /**
     * One page of people, by name then id. Driven by the memberships of the scope (one row a person via
     * group by), so the work grows with those accounts, not with every user of the installation.
     * `sort_name` ("first last email", lower-cased) is the same on each of a person's memberships.
     */
    async list(db: Executor, query: ManagedPeopleQuery): Promise<ManagedPerson[]> {
      if (query.scope.length === 0) return [];
      const accounts = query.accountId ? [query.accountId] : [...query.scope];
      const key = sql<string>`min(m.sort_name)`;
      let select = db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select(["m.user_id", key.as("sort_key")])
        .where("m.account_id", "in", accounts);
      if (query.status === "suspended") select = select.where("m.status", "=", "suspended");
      else if (query.status) {
        select = select
          .where("m.status", "=", "active")
          .where("u.deactivated_at", query.status === "deactivated" ? "is not" : "is", null);
      }
      if (query.q) {
        const pattern = `%${escapeLike(query.q.toLowerCase())}%`;
        select = select.where(sql<boolean>`m.sort_name like ${pattern} escape '\\'`);
      }
      let grouped = select.groupBy("m.user_id");
      if (query.after) {
        const { key: afterKey, id: afterId } = query.after;
        grouped = grouped.having(
          sql<boolean>`(min(m.sort_name) > ${afterKey} or (min(m.sort_name) = ${afterKey} and m.user_id > ${afterId}))`,
        );
      }
      const page = await grouped.orderBy(key).orderBy("m.user_id").limit(query.limit).execute();
      if (page.length === 0) return [];
      const userIds = page.map((r) => r.user_id);
      const [users, memberships] = await Promise.all([
        db
          .selectFrom("users")
          .select(["id", "email", "first_name", "last_name", "avatar_key", "avatar_small_key"])
          .where("id", "in", userIds)
          .execute(),
        this.membershipsOf(db, query.scope, userIds),
      ]);
      const byId = new Map(users.map((u) => [u.id, u]));
      return page.flatMap((row) => {
        const user = byId.get(row.user_id);
        if (!user) return [];
        return [
          {
            userId: user.id,
            email: user.email,
            firstName: user.first_name,
            lastName: user.last_name,
            avatarUrl: urlOrNull(fileUrl, user.avatar_key),
            avatarThumbUrl: urlOrNull(fileUrl, user.avatar_small_key),
            memberships: memberships.get(user.id) ?? [],
            sortKey: String(row.sort_key),
          },
        ];
      });
    },

    /** The users' memberships in the `scope` accounts (and nowhere else), by account name. */
    async membershipsOf(
      db: Executor,
      scope: readonly string[],
      userIds: readonly string[],
    ): Promise<Map<string, ManagedMembership[]>> {
      const map = new Map<string, ManagedMembership[]>();
      if (scope.length === 0 || userIds.length === 0) return map;
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .innerJoin("accounts as a", "a.id", "m.account_id")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .select([
          "m.user_id",
          "m.account_id",
          "a.name as account_name",
          "r.id as role_id",
          "r.key as role_key",
          "r.name as role_name",
          memberStatusSql().as("status"),
          "m.last_login_at",
          "m.created_at",
        ])
        .where("m.account_id", "in", [...scope])
        .where("m.user_id", "in", [...userIds])
        .orderBy("a.name")
        .orderBy("m.account_id")
        .execute();
      for (const r of rows) {
        const list = map.get(r.user_id) ?? [];
        list.push({
          accountId: r.account_id,
          accountName: r.account_name,
          role: { id: r.role_id, key: r.role_key, name: r.role_name },
          status: r.status,
          lastLoginAt: r.last_login_at,
          joinedAt: r.created_at,
        });
        map.set(r.user_id, list);
      }
      return map;
    },
  };
}

export type ManagedMembersRepository = ReturnType<typeof createManagedMembersRepository>;
