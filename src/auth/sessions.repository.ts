import { type Selectable, sql } from "kysely";
import type { Executor } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import type { SessionsTable } from "../db/tables.js";

export type Session = {
  id: string;
  tokenHash: string;
  userId: string;
  accountId: string | null;
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  expiresAt: string;
  idleMinutes: number;
  ip: string | null;
  userAgent: string | null;
  passwordChangeRequired: boolean;
  /** Until when the user counts as freshly authenticated (sensitive actions). */
  reauthUntil: string | null;
  /** Set while the user must still enroll a second factor that an account requires. */
  mfaEnrollmentDueAt: string | null;
  revokedAt: string | null;
  /**
   * The CSRF token of the session (an HMAC of its token hash; never stored), computed once when the
   * session is loaded or made and carried with its cache entry, so no request recomputes it.
   */
  csrfToken?: string;
};

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    accountId: row.account_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    expiresAt: row.expires_at,
    idleMinutes: row.idle_minutes,
    ip: row.ip,
    userAgent: row.user_agent,
    passwordChangeRequired: row.password_change_required === 1,
    reauthUntil: row.reauth_until,
    mfaEnrollmentDueAt: row.mfa_enrollment_due_at,
    revokedAt: row.revoked_at,
  };
}

const sessionByTokenHash = prepared(1, (db, tokenHash: string) =>
  db.selectFrom("sessions").selectAll().where("token_hash", "=", tokenHash).where("revoked_at", "is", null),
);

export function createSessionsRepository() {
  return {
    /** The statement that stores `s`, not yet run (a log-in runs it with its bookkeeping). */
    insertion(db: Executor, s: Session) {
      return db
        .insertInto("sessions")
        .values({
          id: s.id,
          token_hash: s.tokenHash,
          user_id: s.userId,
          account_id: s.accountId,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          idle_expires_at: s.idleExpiresAt,
          expires_at: s.expiresAt,
          idle_minutes: s.idleMinutes,
          ip: s.ip,
          user_agent: s.userAgent,
          password_change_required: s.passwordChangeRequired ? 1 : 0,
          reauth_until: s.reauthUntil,
          mfa_enrollment_due_at: s.mfaEnrollmentDueAt,
          revoked_at: null,
        })
        .returning("id");
    },
    /** The hot path: one lookup on a unique index. */
    async findActiveByTokenHash(db: Executor, tokenHash: string): Promise<Session | undefined> {
      const row = await sessionByTokenHash.first(db, tokenHash);
      return row && toSession(row);
    },
    async listActiveForUser(db: Executor, userId: string, now: string): Promise<Session[]> {
      const rows = await db
        .selectFrom("sessions")
        .selectAll()
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", now)
        .where("idle_expires_at", ">", now)
        .orderBy("last_seen_at", "desc")
        .execute();
      return rows.map(toSession);
    },
    /**
     * False when the session was revoked or put under other limits since `idleMinutes` was read: then
     * the caller's copy is stale and must not extend it.
     */
    async touch(
      db: Executor,
      id: string,
      touched: { lastSeenAt: string; idleExpiresAt: string; idleMinutes: number },
    ): Promise<boolean> {
      const result = await db
        .updateTable("sessions")
        .set({ last_seen_at: touched.lastSeenAt, idle_expires_at: touched.idleExpiresAt })
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .where("idle_minutes", "=", touched.idleMinutes)
        // Another process (or a switch of account) may have written a later visit already.
        .where("last_seen_at", "<", touched.lastSeenAt)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /** Sessions whose active account it is and that have not ended. */
    async listLiveInAccount(db: Executor, accountId: string, now: string): Promise<Session[]> {
      const rows = await db
        .selectFrom("sessions")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", now)
        .where("idle_expires_at", ">", now)
        .execute();
      return rows.map(toSession);
    },
    /**
     * One idle limit and per-session deadlines for many sessions: a statement per 500 sessions (a
     * portable CASE; deadlines are computed in code, as everywhere, not with dialect date functions).
     */
    async setLimits(
      db: Executor,
      idleMinutes: number,
      deadlines: ReadonlyArray<{ id: string; idleExpiresAt: string; expiresAt: string }>,
    ): Promise<void> {
      for (let start = 0; start < deadlines.length; start += 500) {
        const chunk = deadlines.slice(start, start + 500);
        const byId = (value: (deadline: (typeof chunk)[number]) => string) =>
          sql<string>`case id ${sql.join(
            chunk.map((deadline) => sql`when ${deadline.id} then ${value(deadline)}`),
            sql` `,
          )} end`;
        await db
          .updateTable("sessions")
          .set({
            idle_minutes: idleMinutes,
            idle_expires_at: byId((deadline) => deadline.idleExpiresAt),
            expires_at: byId((deadline) => deadline.expiresAt),
          })
          .where(
            "id",
            "in",
            chunk.map((limit) => limit.id),
          )
          .execute();
      }
    },
    async revoke(db: Executor, userId: string, id: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async revokeAllForUser(db: Executor, userId: string, now: string, exceptId?: string): Promise<number> {
      let query = db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null);
      if (exceptId) query = query.where("id", "!=", exceptId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async revokeAllInAccount(db: Executor, userId: string, accountId: string, now: string): Promise<number> {
      const result = await db
        .updateTable("sessions")
        .set({ revoked_at: now })
        .where("user_id", "=", userId)
        .where("account_id", "=", accountId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async setReauthUntil(db: Executor, id: string, until: string): Promise<void> {
      await db.updateTable("sessions").set({ reauth_until: until }).where("id", "=", id).execute();
    },
    async clearMfaEnrollmentDue(db: Executor, userId: string): Promise<void> {
      await db
        .updateTable("sessions")
        .set({ mfa_enrollment_due_at: null })
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .execute();
    },
    async setAccount(
      db: Executor,
      id: string,
      accountId: string,
      limits: { lastSeenAt: string; idleMinutes: number; idleExpiresAt: string; expiresAt: string },
    ): Promise<void> {
      await db
        .updateTable("sessions")
        .set({
          account_id: accountId,
          last_seen_at: limits.lastSeenAt,
          idle_minutes: limits.idleMinutes,
          idle_expires_at: limits.idleExpiresAt,
          expires_at: limits.expiresAt,
        })
        .where("id", "=", id)
        .execute();
    },
    async clearPasswordChangeRequired(db: Executor, id: string): Promise<void> {
      await db.updateTable("sessions").set({ password_change_required: 0 }).where("id", "=", id).execute();
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
