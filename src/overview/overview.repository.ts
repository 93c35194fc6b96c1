import { type SqlBool, sql } from "kysely";
import type { CategoryRule } from "../audit/audit-categories.js";
import type { Executor } from "../db/database.js";

/** Sign-in outcomes as the audit log records them (src/auth/auth.service.ts). */
export const SIGN_IN_SUCCEEDED = "auth.login";
/** A wrong password or passkey, a wrong second-factor code, or an address the account's allowlist refused. */
export const SIGN_IN_FAILED = ["auth.login_failed", "auth.mfa_failed", "auth.login_refused_ip"] as const;

/**
 * Action families an administrator performs on the account (members, roles, settings, billing…), by
 * their prefix. Self-service (auth., user., mfa., session.) and the invitee's own steps are not admin work.
 */
export const ADMIN_ACTION_PREFIXES = [
  "account.",
  "api_key.",
  "billing.",
  "branding.",
  "data_retention.",
  "domain.",
  "export.",
  "invitation.",
  "member.",
  "permission.",
  "role.",
  "security.",
  "team.",
  "webhook.",
] as const;
const NOT_ADMIN_ACTIONS = ["invitation.accepted", "invitation.accept_refused_ip", "member.joined"];

/** Admin work as an audit filter rule (the audit log's category rules have the same shape). */
export const ADMIN_ACTIONS: CategoryRule = {
  exact: [],
  prefixes: [...ADMIN_ACTION_PREFIXES],
  except: NOT_ADMIN_ACTIONS,
  rest: false,
};

/** `day`: YYYY-MM-DD buckets; `month`: YYYY-MM. Both are a prefix of the stored ISO text (UTC). */
export type Bucket = "day" | "month";

/** From (inclusive) and to (exclusive) as stored timestamps (ISO 8601 UTC text). */
export type Window = { from: string; to: string };

export type SignInBucket = { bucket: string; succeeded: number; failed: number; activeUsers: number };
export type CountBucket = { bucket: string; count: number };
export type KeyCallBucket = { bucket: string; calls: number; errors: number };

export type MemberRef = { userId: string; name: string; email: string };
export type InactiveMember = MemberRef & { lastLoginAt: string | null };

const bucketLength = (bucket: Bucket) => (bucket === "day" ? 10 : 7);

/** The bucket of a timestamp column: a prefix of its text, the same on SQLite and PostgreSQL. */
const bucketOf = (column: string, bucket: Bucket) =>
  sql<string>`substr(${sql.ref(column)}, 1, ${sql.lit(bucketLength(bucket))})`;

const fullName = (first: string, last: string) => `${first} ${last}`.trim();

/** Members who can act in the account (`memberships as m` joined with `users as u`). */
const activeMember = sql<SqlBool>`m.status = 'active' and u.deactivated_at is null`;

const hasSecondFactor = sql<SqlBool>`exists (select 1 from mfa_factors f where f.user_id = m.user_id and f.confirmed_at is not null)`;

/** Read-only queries behind the account overview; every one is scoped by `accountId`. */
export function createOverviewRepository() {
  return {
    /** Succeeded and failed sign-ins per bucket, and how many people signed in; buckets without any are absent. */
    async signIns(db: Executor, accountId: string, window: Window, bucket: Bucket): Promise<SignInBucket[]> {
      const key = bucketOf("created_at", bucket);
      const rows = await db
        .selectFrom("audit_events")
        .select([
          key.as("bucket"),
          sql<number>`sum(case when action = ${SIGN_IN_SUCCEEDED} then 1 else 0 end)`.as("succeeded"),
          sql<number>`sum(case when action = ${SIGN_IN_SUCCEEDED} then 0 else 1 end)`.as("failed"),
          sql<number>`count(distinct case when action = ${SIGN_IN_SUCCEEDED} then actor_id end)`.as(
            "active_users",
          ),
        ])
        .where("account_id", "=", accountId)
        .where("created_at", ">=", window.from)
        .where("created_at", "<", window.to)
        .where("action", "in", [SIGN_IN_SUCCEEDED, ...SIGN_IN_FAILED])
        .groupBy(key)
        .execute();
      return rows.map((r) => ({
        bucket: r.bucket,
        succeeded: Number(r.succeeded),
        failed: Number(r.failed),
        activeUsers: Number(r.active_users),
      }));
    },

    /** How many people signed in to the account in the window (each once). */
    async distinctSignedIn(db: Executor, accountId: string, window: Window): Promise<number> {
      const row = await db
        .selectFrom("audit_events")
        .select(sql<number>`count(distinct actor_id)`.as("n"))
        .where("account_id", "=", accountId)
        .where("created_at", ">=", window.from)
        .where("created_at", "<", window.to)
        .where("action", "=", SIGN_IN_SUCCEEDED)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Sessions started in the account per bucket. */
    async sessionsStarted(
      db: Executor,
      accountId: string,
      window: Window,
      bucket: Bucket,
    ): Promise<CountBucket[]> {
      const key = bucketOf("created_at", bucket);
      const rows = await db
        .selectFrom("sessions")
        .select([key.as("bucket"), sql<number>`count(*)`.as("n")])
        .where("account_id", "=", accountId)
        .where("created_at", ">=", window.from)
        .where("created_at", "<", window.to)
        .groupBy(key)
        .execute();
      return rows.map((r) => ({ bucket: r.bucket, count: Number(r.n) }));
    },

    /** Requests the account's API keys made, and how many of them answered 4xx or 5xx, per bucket. */
    async keyCalls(
      db: Executor,
      accountId: string,
      days: { from: string; to: string },
      bucket: Bucket,
    ): Promise<KeyCallBucket[]> {
      const key = bucketOf("day", bucket);
      const rows = await db
        .selectFrom("api_key_usage_days")
        .select([
          key.as("bucket"),
          sql<number>`sum(status_2xx + status_4xx + status_5xx)`.as("calls"),
          sql<number>`sum(status_4xx + status_5xx)`.as("errors"),
        ])
        .where("account_id", "=", accountId)
        .where("day", ">=", days.from)
        .where("day", "<=", days.to)
        .groupBy(key)
        .execute();
      return rows.map((r) => ({ bucket: r.bucket, calls: Number(r.calls), errors: Number(r.errors) }));
    },

    /**
     * Second-factor adoption among the members who can act: how many there are, how many have a
     * confirmed factor, and which of those without one must have one (their role, or a team's role,
     * is in `requiredRoleIds`), up to `limit` by name.
     */
    async mfaAdoption(
      db: Executor,
      accountId: string,
      requiredRoleIds: readonly string[],
      limit: number,
    ): Promise<{
      total: number;
      withMfa: number;
      missingRequired: MemberRef[];
      missingRequiredCount: number;
    }> {
      const counts = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select([
          sql<number>`count(*)`.as("total"),
          sql<number>`sum(case when ${hasSecondFactor} then 1 else 0 end)`.as("with_mfa"),
        ])
        .where("m.account_id", "=", accountId)
        .where(activeMember)
        .executeTakeFirstOrThrow();
      if (requiredRoleIds.length === 0)
        return {
          total: Number(counts.total),
          withMfa: Number(counts.with_mfa ?? 0),
          missingRequired: [],
          missingRequiredCount: 0,
        };
      const ids = [...requiredRoleIds];
      const missing = db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .where("m.account_id", "=", accountId)
        .where(activeMember)
        .where(sql<SqlBool>`not ${hasSecondFactor}`)
        .where((eb) =>
          eb.or([
            eb("m.role_id", "in", ids),
            eb.exists(
              eb
                .selectFrom("team_members as tm")
                .innerJoin("teams as t", (j) =>
                  j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
                )
                .select("tm.user_id")
                .whereRef("tm.user_id", "=", "m.user_id")
                .where("tm.account_id", "=", accountId)
                .where("t.role_id", "in", ids),
            ),
          ]),
        );
      const [count, rows] = await Promise.all([
        missing.select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow(),
        missing
          .select(["m.user_id", "u.first_name", "u.last_name", "u.email"])
          .orderBy("m.sort_name")
          .orderBy("m.user_id")
          .limit(limit)
          .execute(),
      ]);
      return {
        total: Number(counts.total),
        withMfa: Number(counts.with_mfa ?? 0),
        missingRequired: rows.map((r) => ({
          userId: r.user_id,
          name: fullName(r.first_name, r.last_name),
          email: r.email,
        })),
        missingRequiredCount: Number(count.n),
      };
    },

    /** Members who can act and have not signed in to the account since `since` (or never), longest first. */
    async inactiveMembers(
      db: Executor,
      accountId: string,
      since: string,
      limit: number,
    ): Promise<{ count: number; members: InactiveMember[] }> {
      // '' for never: one comparison, the expression the member list's last-login index holds.
      const lastLogin = sql<string>`coalesce(m.last_login_at, '')`;
      const inactive = db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .where("m.account_id", "=", accountId)
        .where(activeMember)
        .where(lastLogin, "<", since);
      const [count, rows] = await Promise.all([
        inactive.select(sql<number>`count(*)`.as("n")).executeTakeFirstOrThrow(),
        inactive
          .select(["m.user_id", "u.first_name", "u.last_name", "u.email", "m.last_login_at"])
          .orderBy(lastLogin)
          .orderBy("m.sort_name")
          .limit(limit)
          .execute(),
      ]);
      return {
        count: Number(count.n),
        members: rows.map((r) => ({
          userId: r.user_id,
          name: fullName(r.first_name, r.last_name),
          email: r.email,
          lastLoginAt: r.last_login_at,
        })),
      };
    },
  };
}

export type OverviewRepository = ReturnType<typeof createOverviewRepository>;
