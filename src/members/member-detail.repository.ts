import type { Executor } from "../db/database.js";

/** One of a member's live sessions in an account, as the member detail page lists it. */
export type MemberSession = {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  /** The earlier of the idle and the absolute deadline. */
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
};

/** A sign-in attempt recorded in the account's audit log. */
export type MemberLogin = {
  id: string;
  at: string;
  succeeded: boolean;
  ip: string | null;
  userAgent: string | null;
  /** How they proved it (passkey) or the second factor used, when the event says. */
  method: string | null;
};

export const LOGIN_ACTIONS = ["auth.login", "auth.login_failed"] as const;

function parseChanges(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * What the member detail page reads beyond the member itself. Sessions and logins are per login (a
 * person's, across accounts); every query here is narrowed to one account, so an admin learns nothing
 * about what the person does in other accounts.
 */
export function createMemberDetailRepository() {
  return {
    /** Their sessions acting in this account (its `account_id`) that have not ended, newest use first. */
    async liveSessionsInAccount(
      db: Executor,
      accountId: string,
      userId: string,
      now: string,
    ): Promise<MemberSession[]> {
      const rows = await db
        .selectFrom("sessions")
        .select(["id", "created_at", "last_seen_at", "idle_expires_at", "expires_at", "ip", "user_agent"])
        .where("user_id", "=", userId)
        .where("account_id", "=", accountId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", now)
        .where("idle_expires_at", ">", now)
        .orderBy("last_seen_at", "desc")
        .orderBy("id")
        .execute();
      return rows.map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.idle_expires_at < r.expires_at ? r.idle_expires_at : r.expires_at,
        ip: r.ip,
        userAgent: r.user_agent,
      }));
    },

    async hasLiveSessionInAccount(
      db: Executor,
      accountId: string,
      userId: string,
      sessionId: string,
    ): Promise<boolean> {
      const row = await db
        .selectFrom("sessions")
        .select("id")
        .where("id", "=", sessionId)
        .where("user_id", "=", userId)
        .where("account_id", "=", accountId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Their latest sign-ins and failed attempts recorded in this account's audit log, newest first. */
    async loginsInAccount(
      db: Executor,
      accountId: string,
      userId: string,
      limit: number,
    ): Promise<MemberLogin[]> {
      const rows = await db
        .selectFrom("audit_events")
        .select(["id", "action", "created_at", "ip", "user_agent", "changes"])
        .where("account_id", "=", accountId)
        .where("actor_id", "=", userId)
        .where("action", "in", [...LOGIN_ACTIONS])
        .orderBy("created_at", "desc")
        .orderBy("seq", "desc")
        .limit(limit)
        .execute();
      return rows.map((r) => {
        const changes = parseChanges(r.changes);
        const method = changes.second_factor ?? changes.method;
        return {
          id: r.id,
          at: r.created_at,
          succeeded: r.action === "auth.login",
          ip: r.ip,
          userAgent: r.user_agent,
          method: typeof method === "string" ? method : null,
        };
      });
    },

    /** The mobile number on their profile and whether it was proven by a texted code. */
    async mobileOf(db: Executor, userId: string): Promise<{ mobile: string | null; verified: boolean }> {
      const row = await db
        .selectFrom("users")
        .select(["mobile", "mobile_verified_at"])
        .where("id", "=", userId)
        .executeTakeFirst();
      return { mobile: row?.mobile ?? null, verified: Boolean(row?.mobile && row.mobile_verified_at) };
    },
  };
}

export type MemberDetailRepository = ReturnType<typeof createMemberDetailRepository>;
