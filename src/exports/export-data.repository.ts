import { type Expression, type SqlBool, sql } from "kysely";
import { parseChanges, withPersonal } from "../audit/audit.repository.js";
import type { Executor } from "../db/database.js";
import { type MemberStatus, memberStatusSql } from "../members/members.repository.js";

/** How a column's values are written: ISO/local time for dates, cents/decimals for money, lists joined. */
export type ColumnKind = "text" | "number" | "boolean" | "date" | "money" | "list" | "json";
/** `pdf`: its share of a PDF table's width; columns without one are left out of PDF reports. */
export type Column = { key: string; title: string; kind: ColumnKind; pdf?: number };
export type ExportRow = Record<string, unknown>;
/** `from` inclusive, `to` exclusive, ISO 8601 UTC; null = open. */
export type DateRange = { from: string | null; to: string | null };
/** Where the next batch starts: the last row's sort key (keyset, never an offset). */
export type Cursor = readonly [string | number, string];

/** A filter a type accepts: one of fixed values, an id, or free text (matched as a substring). */
export type FilterSpec = { kind: "enum"; values: readonly string[] } | { kind: "id" } | { kind: "text" };
export type Filters = Record<string, string>;

type Query = { accountId: string; range: DateRange; filters: Filters; now: string };

export type ExportSource = {
  columns: readonly Column[];
  filters: Readonly<Record<string, FilterSpec>>;
  count(db: Executor, query: Query): Promise<number>;
  /** Up to `limit` rows after `after`, in a stable order, and the cursor of the last one. */
  batch(
    db: Executor,
    query: Query,
    after: Cursor | undefined,
    limit: number,
  ): Promise<{ rows: ExportRow[]; last: Cursor | undefined }>;
};

const inRange = (column: string, range: DateRange): Expression<SqlBool> =>
  sql<SqlBool>`(${range.from === null ? sql`1 = 1` : sql`${sql.ref(column)} >= ${range.from}`} and ${
    range.to === null ? sql`1 = 1` : sql`${sql.ref(column)} < ${range.to}`
  })`;

const afterKey = (at: string, id: string, cursor: Cursor | undefined): Expression<SqlBool> =>
  cursor === undefined
    ? sql<SqlBool>`1 = 1`
    : sql<SqlBool>`(${sql.ref(at)} > ${cursor[0]} or (${sql.ref(at)} = ${cursor[0]} and ${sql.ref(id)} > ${cursor[1]}))`;

/** A LIKE pattern matching `text` anywhere, its wildcards taken literally. */
const contains = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const countOf = (row: { n: number | string | bigint } | undefined) => Number(row?.n ?? 0);

const lastOf = <T extends { created_at: string; id: string }>(rows: T[]): Cursor | undefined => {
  const last = rows.at(-1);
  return last ? [last.created_at, last.id] : undefined;
};

function membersQuery(db: Executor, q: Query) {
  const f = q.filters;
  return db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .innerJoin("roles as r", (j) =>
      j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
    )
    .where("m.account_id", "=", q.accountId)
    .where(inRange("m.created_at", q.range))
    .$if(f.status !== undefined, (qb) => qb.where(memberStatusSql(), "=", f.status as MemberStatus))
    .$if(f.role_id !== undefined, (qb) => qb.where("m.role_id", "=", f.role_id as string))
    .$if(f.team_id !== undefined, (qb) =>
      qb.where(({ exists, selectFrom }) =>
        exists(
          selectFrom("team_members as tm")
            .select("tm.user_id")
            .where("tm.account_id", "=", q.accountId)
            .where("tm.team_id", "=", f.team_id as string)
            .whereRef("tm.user_id", "=", "m.user_id"),
        ),
      ),
    )
    .$if(f.q !== undefined, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb(sql`lower(u.email)`, "like", contains(f.q as string)),
          eb(sql`lower(u.first_name || ' ' || u.last_name)`, "like", contains(f.q as string)),
        ]),
      ),
    );
}

const members: ExportSource = {
  columns: [
    { key: "user_id", title: "User ID", kind: "text" },
    { key: "email", title: "Email", kind: "text", pdf: 3 },
    { key: "first_name", title: "First name", kind: "text", pdf: 2 },
    { key: "last_name", title: "Last name", kind: "text", pdf: 2 },
    { key: "status", title: "Status", kind: "text", pdf: 1.3 },
    { key: "role", title: "Role", kind: "text", pdf: 1.5 },
    { key: "teams", title: "Teams", kind: "list" },
    { key: "joined_at", title: "Joined", kind: "date", pdf: 2.4 },
    { key: "last_login_at", title: "Last login", kind: "date" },
  ],
  filters: {
    status: { kind: "enum", values: ["active", "suspended", "deactivated"] },
    role_id: { kind: "id" },
    team_id: { kind: "id" },
    q: { kind: "text" },
  },
  async count(db, q) {
    return countOf(
      await membersQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    const rows = await membersQuery(db, q)
      .where(afterKey("m.created_at", "m.id", after))
      .select([
        "m.id",
        "m.user_id",
        "u.email",
        "u.first_name",
        "u.last_name",
        memberStatusSql().as("status"),
        "r.name as role",
        "m.created_at",
        "m.last_login_at",
      ])
      .orderBy("m.created_at")
      .orderBy("m.id")
      .limit(limit)
      .execute();
    // Team names of this batch's members: one query a batch, not one a member.
    const teams = new Map<string, string[]>();
    if (rows.length) {
      const memberships = await db
        .selectFrom("team_members as tm")
        .innerJoin("teams as t", (j) =>
          j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
        )
        .select(["tm.user_id", "t.name"])
        .where("tm.account_id", "=", q.accountId)
        .where(
          "tm.user_id",
          "in",
          rows.map((r) => r.user_id),
        )
        .orderBy("t.name")
        .execute();
      for (const m of memberships) teams.set(m.user_id, [...(teams.get(m.user_id) ?? []), m.name]);
    }
    return {
      rows: rows.map((r) => ({
        user_id: r.user_id,
        email: r.email,
        first_name: r.first_name,
        last_name: r.last_name,
        status: r.status,
        role: r.role,
        teams: teams.get(r.user_id) ?? [],
        joined_at: r.created_at,
        last_login_at: r.last_login_at,
      })),
      last: lastOf(rows),
    };
  },
};

function teamsQuery(db: Executor, q: Query) {
  return db
    .selectFrom("teams as t")
    .where("t.account_id", "=", q.accountId)
    .where(inRange("t.created_at", q.range))
    .$if(q.filters.q !== undefined, (qb) =>
      qb.where("t.name_normalized", "like", contains(q.filters.q as string)),
    );
}

const teams: ExportSource = {
  columns: [
    { key: "id", title: "Team ID", kind: "text" },
    { key: "name", title: "Name", kind: "text", pdf: 3 },
    { key: "description", title: "Description", kind: "text", pdf: 4 },
    { key: "role", title: "Role", kind: "text", pdf: 1.5 },
    { key: "member_count", title: "Members", kind: "number", pdf: 1 },
    { key: "created_at", title: "Created", kind: "date", pdf: 2.4 },
  ],
  filters: { q: { kind: "text" } },
  async count(db, q) {
    return countOf(
      await teamsQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    const rows = await teamsQuery(db, q)
      .leftJoin("roles as r", (j) =>
        j.onRef("r.id", "=", "t.role_id").onRef("r.account_id", "=", "t.account_id"),
      )
      .where(afterKey("t.created_at", "t.id", after))
      .select([
        "t.id",
        "t.name",
        "t.description",
        "r.name as role",
        "t.created_at",
        sql<number>`(select count(*) from team_members tm where tm.account_id = t.account_id and tm.team_id = t.id)`.as(
          "member_count",
        ),
      ])
      .orderBy("t.created_at")
      .orderBy("t.id")
      .limit(limit)
      .execute();
    return {
      rows: rows.map((r) => ({ ...r, member_count: Number(r.member_count) })),
      last: lastOf(rows),
    };
  },
};

function rolesQuery(db: Executor, q: Query) {
  return db
    .selectFrom("roles as r")
    .where("r.account_id", "=", q.accountId)
    .where(inRange("r.created_at", q.range));
}

const roles: ExportSource = {
  columns: [
    { key: "id", title: "Role ID", kind: "text" },
    { key: "key", title: "Key", kind: "text", pdf: 1.5 },
    { key: "name", title: "Name", kind: "text", pdf: 2 },
    { key: "description", title: "Description", kind: "text", pdf: 4 },
    { key: "permissions", title: "Permissions", kind: "list" },
    { key: "builtin", title: "Built-in", kind: "boolean", pdf: 1 },
    { key: "member_count", title: "Members", kind: "number", pdf: 1 },
    { key: "created_at", title: "Created", kind: "date", pdf: 2.4 },
  ],
  filters: {},
  async count(db, q) {
    return countOf(
      await rolesQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    const rows = await rolesQuery(db, q)
      .where(afterKey("r.created_at", "r.id", after))
      .select([
        "r.id",
        "r.key",
        "r.name",
        "r.description",
        "r.permissions",
        "r.builtin",
        "r.created_at",
        sql<number>`(select count(*) from memberships m where m.account_id = r.account_id and m.role_id = r.id)`.as(
          "member_count",
        ),
      ])
      .orderBy("r.created_at")
      .orderBy("r.id")
      .limit(limit)
      .execute();
    return {
      rows: rows.map((r) => ({
        ...r,
        permissions: JSON.parse(r.permissions) as string[],
        builtin: Boolean(r.builtin),
        member_count: Number(r.member_count),
      })),
      last: lastOf(rows),
    };
  },
};

function invitationsQuery(db: Executor, q: Query) {
  const status = q.filters.status;
  return db
    .selectFrom("invitations as i")
    .where("i.account_id", "=", q.accountId)
    .where(inRange("i.created_at", q.range))
    .$if(status === "pending", (qb) => qb.where("i.status", "=", "pending").where("i.expires_at", ">", q.now))
    .$if(status === "expired", (qb) =>
      qb.where((eb) =>
        eb.or([
          eb("i.status", "=", "expired"),
          eb.and([eb("i.status", "=", "pending"), eb("i.expires_at", "<=", q.now)]),
        ]),
      ),
    )
    .$if(status === "accepted" || status === "revoked", (qb) => qb.where("i.status", "=", status as string))
    .$if(q.filters.role_id !== undefined, (qb) => qb.where("i.role_id", "=", q.filters.role_id as string))
    .$if(q.filters.q !== undefined, (qb) =>
      qb.where("i.email_normalized", "like", contains(q.filters.q as string)),
    );
}

const invitations: ExportSource = {
  columns: [
    { key: "id", title: "Invitation ID", kind: "text" },
    { key: "email", title: "Email", kind: "text", pdf: 3 },
    { key: "first_name", title: "First name", kind: "text" },
    { key: "last_name", title: "Last name", kind: "text" },
    { key: "role", title: "Role", kind: "text", pdf: 1.5 },
    { key: "status", title: "Status", kind: "text", pdf: 1.3 },
    { key: "invited_by", title: "Invited by", kind: "text" },
    { key: "expires_at", title: "Expires", kind: "date", pdf: 2.4 },
    { key: "created_at", title: "Sent", kind: "date", pdf: 2.4 },
  ],
  filters: {
    status: { kind: "enum", values: ["pending", "accepted", "revoked", "expired"] },
    role_id: { kind: "id" },
    q: { kind: "text" },
  },
  async count(db, q) {
    return countOf(
      await invitationsQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    const rows = await invitationsQuery(db, q)
      .leftJoin("roles as r", (j) =>
        j.onRef("r.id", "=", "i.role_id").onRef("r.account_id", "=", "i.account_id"),
      )
      .where(afterKey("i.created_at", "i.id", after))
      .select([
        "i.id",
        "i.email",
        "i.first_name",
        "i.last_name",
        "r.name as role",
        "i.status",
        "i.invited_by",
        "i.expires_at",
        "i.created_at",
      ])
      .orderBy("i.created_at")
      .orderBy("i.id")
      .limit(limit)
      .execute();
    return {
      rows: rows.map((r) => ({
        ...r,
        status: r.status === "pending" && r.expires_at <= q.now ? "expired" : r.status,
      })),
      last: lastOf(rows),
    };
  },
};

function auditQuery(db: Executor, q: Query) {
  const f = q.filters;
  return db
    .selectFrom("audit_events as a")
    .where("a.account_id", "=", q.accountId)
    .where(inRange("a.created_at", q.range))
    .$if(f.action !== undefined, (qb) => qb.where("a.action", "=", f.action as string))
    .$if(f.actor_id !== undefined, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb("a.actor_id", "=", f.actor_id as string),
          eb("a.actor_user_id", "=", f.actor_id as string),
        ]),
      ),
    )
    .$if(f.target_id !== undefined, (qb) => qb.where("a.target_id", "=", f.target_id as string));
}

const auditLog: ExportSource = {
  columns: [
    { key: "id", title: "Event ID", kind: "text" },
    { key: "occurred_at", title: "When", kind: "date", pdf: 2.4 },
    { key: "action", title: "Action", kind: "text", pdf: 2.5 },
    { key: "actor_type", title: "Actor type", kind: "text" },
    { key: "actor_id", title: "Actor", kind: "text", pdf: 2.6 },
    { key: "actor_user_id", title: "On behalf of", kind: "text" },
    { key: "target_type", title: "Target type", kind: "text" },
    { key: "target_id", title: "Target", kind: "text", pdf: 2.6 },
    { key: "ip", title: "IP", kind: "text" },
    { key: "request_id", title: "Request ID", kind: "text" },
    { key: "changes", title: "Changes", kind: "json" },
  ],
  filters: { action: { kind: "text" }, actor_id: { kind: "id" }, target_id: { kind: "id" } },
  async count(db, q) {
    return countOf(
      await auditQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    // The account's chain order (seq), which its unique index serves.
    const rows = await auditQuery(db, q)
      .$if(after !== undefined, (qb) => qb.where("a.seq", ">", Number(after?.[0])))
      .select([
        "a.id",
        "a.seq",
        "a.created_at",
        "a.action",
        "a.actor_type",
        "a.actor_id",
        "a.actor_user_id",
        "a.target_type",
        "a.target_id",
        "a.ip",
        "a.request_id",
        "a.changes",
        "a.personal",
      ])
      .orderBy("a.seq")
      .limit(limit)
      .execute();
    const last = rows.at(-1);
    return {
      rows: rows.map(({ seq: _seq, created_at, changes, personal, ...r }) => ({
        ...r,
        occurred_at: created_at,
        // The hashed part with the personal part (emails, names; while retention keeps it) back in.
        changes: withPersonal(parseChanges(changes), parseChanges(personal)),
      })),
      last: last ? [Number(last.seq), last.id] : undefined,
    };
  },
};

function invoicesQuery(db: Executor, q: Query) {
  return db
    .selectFrom("invoices as i")
    .where("i.account_id", "=", q.accountId)
    .where(inRange("i.created_at", q.range))
    .$if(q.filters.status !== undefined, (qb) => qb.where("i.status", "=", q.filters.status as string));
}

const invoices: ExportSource = {
  columns: [
    { key: "id", title: "Invoice ID", kind: "text" },
    { key: "number", title: "Number", kind: "text", pdf: 2 },
    { key: "status", title: "Status", kind: "text", pdf: 1.2 },
    { key: "issued_at", title: "Issued", kind: "date", pdf: 2.4 },
    { key: "period_start", title: "Period start", kind: "date" },
    { key: "period_end", title: "Period end", kind: "date" },
    { key: "subtotal", title: "Subtotal", kind: "money" },
    { key: "total", title: "Total", kind: "money", pdf: 1.4 },
    { key: "currency", title: "Currency", kind: "text", pdf: 1 },
    { key: "paid_at", title: "Paid", kind: "date", pdf: 2.4 },
  ],
  filters: { status: { kind: "enum", values: ["draft", "open", "paid", "void"] } },
  async count(db, q) {
    return countOf(
      await invoicesQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    const rows = await invoicesQuery(db, q)
      .where(afterKey("i.created_at", "i.id", after))
      .select([
        "i.id",
        "i.number",
        "i.status",
        "i.created_at",
        "i.period_start",
        "i.period_end",
        "i.subtotal",
        "i.total",
        "i.currency",
        "i.paid_at",
      ])
      .orderBy("i.created_at")
      .orderBy("i.id")
      .limit(limit)
      .execute();
    return {
      rows: rows.map(({ created_at, ...r }) => ({
        ...r,
        issued_at: created_at,
        subtotal: Number(r.subtotal),
        total: Number(r.total),
      })),
      last: lastOf(rows),
    };
  },
};

/** Live sessions working in this account (its active account) of people who are its members. */
function sessionsQuery(db: Executor, q: Query) {
  return db
    .selectFrom("sessions as s")
    .innerJoin("memberships as m", (j) =>
      j.onRef("m.user_id", "=", "s.user_id").onRef("m.account_id", "=", "s.account_id"),
    )
    .innerJoin("users as u", "u.id", "s.user_id")
    .where("s.account_id", "=", q.accountId)
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", q.now)
    .where("s.idle_expires_at", ">", q.now)
    .where(inRange("s.created_at", q.range))
    .$if(q.filters.user_id !== undefined, (qb) => qb.where("s.user_id", "=", q.filters.user_id as string));
}

const sessions: ExportSource = {
  columns: [
    { key: "id", title: "Session ID", kind: "text" },
    { key: "user_id", title: "User ID", kind: "text" },
    { key: "email", title: "Email", kind: "text", pdf: 3 },
    { key: "created_at", title: "Signed in", kind: "date", pdf: 2.4 },
    { key: "last_seen_at", title: "Last seen", kind: "date", pdf: 2.4 },
    { key: "expires_at", title: "Expires", kind: "date" },
    { key: "ip", title: "IP", kind: "text", pdf: 1.6 },
    { key: "user_agent", title: "User agent", kind: "text" },
  ],
  filters: { user_id: { kind: "id" } },
  async count(db, q) {
    return countOf(
      await sessionsQuery(db, q)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst(),
    );
  },
  async batch(db, q, after, limit) {
    const rows = await sessionsQuery(db, q)
      .where(afterKey("s.created_at", "s.id", after))
      .select([
        "s.id",
        "s.user_id",
        "u.email",
        "s.created_at",
        "s.last_seen_at",
        "s.expires_at",
        "s.ip",
        "s.user_agent",
      ])
      .orderBy("s.created_at")
      .orderBy("s.id")
      .limit(limit)
      .execute();
    return { rows, last: lastOf(rows) };
  },
};

export const EXPORT_SOURCES = {
  members,
  teams,
  roles,
  invitations,
  audit_log: auditLog,
  invoices,
  sessions,
} as const satisfies Record<string, ExportSource>;

export type DataType = keyof typeof EXPORT_SOURCES;
export const DATA_TYPES = Object.keys(EXPORT_SOURCES) as DataType[];
