import { type RawBuilder, sql } from "kysely";
import type { Executor } from "../db/database.js";
import { escapeLike } from "../lib/sql.js";
import { type FileUrl, relativeFileUrl, urlOrNull } from "../storage/file-urls.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "../users/me-cache.js";

/** `deactivated`: the user turned their own login off (in every account); still a seat. */
export type MemberStatus = "active" | "suspended" | "deactivated";

/**
 * A member's status in an account, over `memberships as m` joined with `users as u`: the account's
 * suspension first, then the user's own deactivation of their login.
 */
export function memberStatusSql() {
  return sql<MemberStatus>`case when m.status = 'active' and u.deactivated_at is not null then 'deactivated' else m.status end`;
}

/** Whether the member (`memberships as m`) is in the account's team `teamId`. */
export function inTeamSql(accountId: string, teamId: string) {
  return sql<boolean>`exists (select 1 from team_members tm where tm.user_id = m.user_id and tm.account_id = ${accountId} and tm.team_id = ${teamId})`;
}

/**
 * Whether the member (`memberships as m`) has a confirmed second factor. A login's factors are the
 * user's, not the account's: the same answer in every account they belong to.
 */
function hasSecondFactorSql() {
  return sql<boolean>`exists (select 1 from mfa_factors f where f.user_id = m.user_id and f.confirmed_at is not null)`;
}

export type MemberRecord = {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  status: MemberStatus;
  role: { id: string; key: string; name: string };
  teamIds: string[];
  lastLoginAt: string | null;
  joinedAt: string;
  /** A confirmed second factor on their login. */
  mfaEnabled: boolean;
  /** Their uploaded avatar (256 px) and its 64 px copy, or null. */
  avatarUrl: string | null;
  avatarThumbUrl: string | null;
  /** The mobile number on their profile; read by `find` only (one member's page), never in events. */
  mobile?: string | null;
};

export type MemberSort = "name" | "email" | "last_login_at" | "joined_at";

export type MemberQuery = {
  status?: MemberStatus;
  roleId?: string;
  teamId?: string;
  q?: string;
  inactiveSince?: string;
  mfa?: "enabled" | "disabled";
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

/**
 * How many candidates a selective filter may have for the list to start from them (SQLite): looking up
 * 2,000 memberships and sorting them costs a few milliseconds, about what walking 10,000 entries of the
 * sort index costs; a filter that matches more also fills a page early in the walk.
 */
export const CANDIDATE_LIMIT = 2000;

/** Trigram indexes (FTS5's, pg_trgm) find terms of three characters or more. */
const TRIGRAM = 3;

/** `q` as an FTS5 phrase: the tokenizer turns it into consecutive trigrams, i.e. a literal substring. */
function ftsPhrase(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** Which of the list's filters a candidate set stands for. */
type Filter = "team" | "mfa" | "deactivated" | "q";

type CandidateSet = {
  filter: Filter;
  column: "m.id" | "m.user_id";
  ids: RawBuilder<string>;
  count: RawBuilder<number>;
};

/**
 * The filters of `query` that match a set the list can start from, each as the set (membership or user
 * ids) and a bounded count of it. Without statistics SQLite cannot tell a rare filter from a common one
 * and walks the account's sort index, testing each membership: one pass over all of them when the
 * filter matches few or none (a team of 10, `q` with a rare term, no second factors). PostgreSQL has
 * statistics but not of the order: when a team's members sort late (or early, descending) it walks the
 * name index too, 32,000 memberships for a team of 1,000 among 50,000 (150 ms). Counted first, the
 * smallest set under CANDIDATE_LIMIT drives the query instead. The sets may reach past the account
 * (factors and deactivations are the user's, search rows span accounts): the query's account still
 * applies. `q`'s set is SQLite's FTS5 index (PostgreSQL's trigram index already starts from the term).
 */
function candidateSets(accountId: string, query: MemberQuery, sqlite: boolean) {
  const sets: CandidateSet[] = [];
  const bounded = (ids: RawBuilder<unknown>) =>
    sql<number>`(select count(*) from (${ids} limit ${CANDIDATE_LIMIT + 1}) c)`;
  if (query.teamId) {
    const ids = sql<string>`select tm.user_id as id from team_members tm where tm.team_id = ${query.teamId} and tm.account_id = ${accountId}`;
    sets.push({ filter: "team", column: "m.user_id", ids, count: bounded(ids) });
  }
  if (query.mfa === "enabled") {
    const ids = sql<string>`select distinct f.user_id as id from mfa_factors f where f.confirmed_at is not null`;
    sets.push({ filter: "mfa", column: "m.user_id", ids, count: bounded(ids) });
  }
  if (query.status === "deactivated") {
    sets.push({
      filter: "deactivated",
      column: "m.user_id",
      ids: deactivatedIds,
      count: bounded(deactivatedIds),
    });
  }
  const term = query.q?.toLowerCase();
  if (sqlite && term && [...term].length >= TRIGRAM) {
    const ids = sql<string>`select r.membership_id as id from member_search_rows r where r.id in (select s.rowid from member_search s where member_search match ${ftsPhrase(term)})`;
    sets.push({
      filter: "q",
      column: "m.id",
      ids,
      count: bounded(sql`select 1 from member_search s where member_search match ${ftsPhrase(term)}`),
    });
  }
  return sets;
}

/** Users who turned their own login off: few, so a set (users_deactivated_idx) rather than a join. */
const deactivatedIds = sql<string>`select d.id from users d where d.deactivated_at is not null`;

/**
 * The list's conditions over `memberships as m` (and `users as u` when `users` is "joined"; as "sets"
 * they test `m.user_id` against sets of users, for a query without the join), leaving out the one the
 * candidate set `covered` already is.
 */
function conditions(
  accountId: string,
  query: MemberQuery,
  key: RawBuilder<string>,
  options: { dialect: "sqlite" | "postgres"; users: "joined" | "sets"; covered?: Filter },
) {
  const where: RawBuilder<boolean>[] = [];
  if (query.status === "suspended") where.push(sql`m.status = ${"suspended"}`);
  else if (query.status === "deactivated") {
    // Few logins are turned off: as a set (users_deactivated_idx) PostgreSQL can start from them and
    // SQLite checks each membership against an in-memory list instead of looking its user up
    // (1.3 s to 0.1 s for none among 50,000).
    where.push(sql`m.status = ${"active"}`);
    if (options.covered !== "deactivated") where.push(sql`m.user_id in (${deactivatedIds})`);
  } else if (query.status) {
    where.push(sql`m.status = ${"active"}`);
    where.push(
      options.users === "joined" ? sql`u.deactivated_at is null` : sql`m.user_id not in (${deactivatedIds})`,
    );
  }
  if (query.roleId) where.push(sql`m.role_id = ${query.roleId}`);
  if (query.teamId && options.covered !== "team") where.push(inTeamSql(accountId, query.teamId));
  if (query.mfa === "disabled") where.push(sql`not ${hasSecondFactorSql()}`);
  else if (query.mfa && options.covered !== "mfa") where.push(hasSecondFactorSql());
  if (query.q) {
    const term = query.q.toLowerCase();
    // sort_name holds "first last email", lower-cased: one column answers name and email searches.
    where.push(sql`m.sort_name like ${`%${escapeLike(term)}%`} escape '\\'`);
    // PostgreSQL finds a term of three characters or more by its trigrams (0029), a shorter one by its
    // characters and pairs (0033); the planner walks the name index instead when the term is common.
    if (options.dialect === "postgres" && [...term].length < TRIGRAM)
      where.push(sql`member_grams(m.sort_name) @> array[${term}::text]`);
  }
  if (query.inactiveSince) {
    // One comparison ('' for never) instead of an OR. Sorted by last log-in it is the sort index's own
    // expression (a range). In any other order `|| ''` keeps it off that index: without statistics
    // SQLite would take the range and sort every inactive member (all 50,000 in the benchmark, 300 ms)
    // instead of walking the sort index and stopping at a full page.
    const lastLogin =
      query.sort === "last_login_at"
        ? sql<string>`coalesce(m.last_login_at, '')`
        : sql<string>`(coalesce(m.last_login_at, '') || '')`;
    where.push(sql`${lastLogin} < ${query.inactiveSince}`);
  }
  if (query.after) {
    const { key: afterKey, id: afterId } = query.after;
    const op = sql.raw(query.order === "asc" ? ">" : "<");
    const bound = sql.raw(query.order === "asc" ? ">=" : "<=");
    // `key >= k` first: a range both planners seek to in the sort index (an OR alone is not one, and
    // deep pages walked every earlier entry).
    where.push(sql`${key} ${bound} ${afterKey}`);
    where.push(sql`(${key} ${op} ${afterKey} or m.user_id ${op} ${afterId})`);
  }
  return where;
}

const plainFrom = (db: Executor) => db.selectFrom("memberships as m");

export function createMembersRepository(
  options: { fileUrl?: FileUrl; changes?: ChangeFeed; dialect?: "sqlite" | "postgres" } = {},
) {
  const feed = options.changes ?? NO_CHANGE_FEED;
  const fileUrl = options.fileUrl ?? relativeFileUrl;
  const dialect = options.dialect ?? "sqlite";
  const sqlite = dialect === "sqlite";

  /** The smallest candidate set of `query` under CANDIDATE_LIMIT, if any. */
  async function driver(db: Executor, accountId: string, query: MemberQuery) {
    const sets = candidateSets(accountId, query, sqlite);
    if (sets.length === 0) return undefined;
    const counts = await sql<Record<string, number>>`select ${sql.join(
      sets.map((set, i) => sql`${set.count} as ${sql.id(`n${i}`)}`),
    )}`.execute(db);
    const row = counts.rows[0] ?? {};
    let best: CandidateSet | undefined;
    let bestCount = CANDIDATE_LIMIT + 1;
    sets.forEach((set, i) => {
      const n = Number(row[`n${i}`]);
      if (n < bestCount) [best, bestCount] = [set, n];
    });
    return best;
  }

  /**
   * PostgreSQL's page from a candidate set, as a subquery of the page's memberships (`m.*`, in order):
   * looked up by `= any(array(…))`, which the planner takes for a handful of ids whatever the set's size
   * (never a walk of the sort index or a seq scan), with the user-level conditions as sets. Its LIMIT
   * keeps it a subquery, so only the page's users are looked up after it (joining users to all 1,000
   * of a team's memberships took 15 ms instead of 6).
   */
  function pageFromSet(
    db: Executor,
    accountId: string,
    query: MemberQuery,
    key: RawBuilder<string>,
    drive: CandidateSet,
  ) {
    let select = db
      .selectFrom("memberships as m")
      .selectAll("m")
      .where("m.account_id", "=", accountId)
      .where(sql<boolean>`${sql.raw(drive.column)} = any(array(${drive.ids}))`);
    for (const condition of conditions(accountId, query, key, {
      dialect,
      users: "sets",
      covered: drive.filter,
    }))
      select = select.where(condition);
    return select.orderBy(key, query.order).orderBy("m.user_id", query.order).limit(query.limit);
  }

  /**
   * Where the list starts: every membership, or a candidate set's. On SQLite `d CROSS JOIN m`, an order
   * SQLite keeps (it would otherwise start from whichever index matches most of the other conditions),
   * each membership then looked up by (account_id, user_id) or id. On PostgreSQL the page's memberships,
   * already filtered, as `m`. The type is the plain query's: `d` is referenced nowhere else, and `m` has
   * the table's columns.
   */
  function from(
    db: Executor,
    accountId: string,
    query: MemberQuery,
    key: RawBuilder<string>,
    drive: CandidateSet | undefined,
  ) {
    if (!drive) return plainFrom(db);
    const start = sqlite
      ? db
          .selectFrom(sql<{ id: string }>`(${drive.ids})`.as("d"))
          .crossJoin("memberships as m")
          .whereRef(drive.column, "=", "d.id")
      : db.selectFrom(pageFromSet(db, accountId, query, key, drive).as("m"));
    return start as unknown as ReturnType<typeof plainFrom>;
  }

  return {
    async list(
      db: Executor,
      accountId: string,
      query: MemberQuery,
    ): Promise<Array<MemberRecord & { sortKey: string }>> {
      const key = sortExpression(query.sort);
      const drive = await driver(db, accountId, query);
      const memberships = from(db, accountId, query, key, drive);
      let select = memberships
        .innerJoin("users as u", "u.id", "m.user_id")
        .select([
          "m.user_id",
          "u.email",
          "u.first_name",
          "u.last_name",
          "u.avatar_key",
          "u.avatar_small_key",
          memberStatusSql().as("status"),
          "m.role_id",
          "m.last_login_at",
          "m.created_at",
          hasSecondFactorSql().as("mfa_enabled"),
          key.as("sort_key"),
        ])
        .where("m.account_id", "=", accountId);
      // PostgreSQL's page from a set is filtered already.
      if (!drive || sqlite)
        for (const condition of conditions(accountId, query, key, {
          dialect,
          users: "joined",
          covered: drive?.filter,
        }))
          select = select.where(condition);
      // From a candidate set the page is a sort of the (few) matches: `+key` keeps SQLite off the sort
      // index, which it would otherwise walk to avoid that sort.
      const rows = await select
        .orderBy(drive && sqlite ? sql`+${key}` : key, query.order)
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
        status: r.status,
        role: { id: r.role_id, key: roles.get(r.role_id)?.key ?? "", name: roles.get(r.role_id)?.name ?? "" },
        teamIds: teams.get(r.user_id) ?? [],
        lastLoginAt: r.last_login_at,
        joinedAt: r.created_at,
        // SQLite answers 0/1, PostgreSQL a boolean.
        mfaEnabled: Boolean(r.mfa_enabled),
        avatarUrl: urlOrNull(fileUrl, r.avatar_key),
        avatarThumbUrl: urlOrNull(fileUrl, r.avatar_small_key),
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
          "u.avatar_key",
          "u.avatar_small_key",
          "u.mobile",
          memberStatusSql().as("status"),
          "r.id as role_id",
          "r.key as role_key",
          "r.name as role_name",
          "m.last_login_at",
          "m.created_at",
          hasSecondFactorSql().as("mfa_enabled"),
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
        status: row.status,
        role: { id: row.role_id, key: row.role_key, name: row.role_name },
        teamIds: teams.get(userId) ?? [],
        lastLoginAt: row.last_login_at,
        joinedAt: row.created_at,
        mfaEnabled: Boolean(row.mfa_enabled),
        avatarUrl: urlOrNull(fileUrl, row.avatar_key),
        avatarThumbUrl: urlOrNull(fileUrl, row.avatar_small_key),
        mobile: row.mobile,
      };
    },

    /** Root members who can act: neither suspended nor with their login turned off. */
    async activeRootCount(db: Executor, accountId: string): Promise<number> {
      const row = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .select(sql<number>`count(*)`.as("n"))
        .where("m.account_id", "=", accountId)
        .where("m.status", "=", "active")
        .where("u.deactivated_at", "is", null)
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
      await feed.user(db, userId);
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
      await feed.user(db, userId);
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
      await feed.user(db, userId);
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
