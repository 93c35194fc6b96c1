import type { Executor } from "../db/database.js";
import { hashToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "../users/me-cache.js";

export type Closure = {
  accountId: string;
  requestedBy: string;
  requestedAt: string;
  deleteAt: string;
  /** Whether scheduling the closure set the subscription to end (undone when the closure is cancelled). */
  subscriptionCanceled: boolean;
};

/** The recipients of the cancel link: every active Root and Admin of the account (by built-in role). */
export type ClosureRecipient = {
  userId: string;
  email: string;
  firstName: string;
  timezone: string;
  locale: string;
};

/** Scheduled closures and their mailed cancel links (tokens stored as hashes only). */
export function createClosureRepository(options: { changes?: ChangeFeed } = {}) {
  // The closure date is in /session (every member's banner).
  const feed = options.changes ?? NO_CHANGE_FEED;
  return {
    async find(db: Executor, accountId: string): Promise<Closure | undefined> {
      const row = await db
        .selectFrom("account_closures")
        .selectAll()
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return (
        row && {
          accountId: row.account_id,
          requestedBy: row.requested_by,
          requestedAt: row.requested_at,
          deleteAt: row.delete_at,
          subscriptionCanceled: Number(row.subscription_canceled) === 1,
        }
      );
    },

    async insert(db: Executor, closure: Closure): Promise<void> {
      await db
        .insertInto("account_closures")
        .values({
          account_id: closure.accountId,
          requested_by: closure.requestedBy,
          requested_at: closure.requestedAt,
          delete_at: closure.deleteAt,
          subscription_canceled: closure.subscriptionCanceled ? 1 : 0,
        })
        .execute();
      await feed.account(db, closure.accountId);
    },

    /** Deletes the closure and (by cascade) every cancel link mailed for it; false when there was none. */
    async delete(db: Executor, accountId: string): Promise<boolean> {
      const result = await db
        .deleteFrom("account_closures")
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      await feed.account(db, accountId);
      return Number(result.numDeletedRows) > 0;
    },

    async addToken(
      db: Executor,
      input: { accountId: string; userId: string; token: string; expiresAt: string; now: string },
    ): Promise<void> {
      await db
        .insertInto("account_closure_tokens")
        .values({
          id: newId("token"),
          account_id: input.accountId,
          user_id: input.userId,
          token_hash: hashToken(input.token),
          expires_at: input.expiresAt,
          created_at: input.now,
        })
        .execute();
    },

    /** The account and recipient of a live cancel link, or undefined (unknown, spent or expired). */
    async findToken(
      db: Executor,
      token: string,
      now: string,
    ): Promise<{ accountId: string; userId: string } | undefined> {
      if (token.length === 0 || token.length > 128) return undefined;
      const row = await db
        .selectFrom("account_closure_tokens")
        .select(["account_id", "user_id"])
        .where("token_hash", "=", hashToken(token))
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return row && { accountId: row.account_id, userId: row.user_id };
    },

    async recipients(db: Executor, accountId: string): Promise<ClosureRecipient[]> {
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .innerJoin("users as u", "u.id", "m.user_id")
        .select(["u.id", "u.email", "u.first_name", "u.timezone", "u.locale"])
        .where("m.account_id", "=", accountId)
        .where("m.status", "=", "active")
        .where("u.deactivated_at", "is", null)
        .where("r.key", "in", ["root", "admin"])
        .orderBy("u.email")
        .execute();
      return rows.map((r) => ({
        userId: r.id,
        email: r.email,
        firstName: r.first_name,
        timezone: r.timezone,
        locale: r.locale,
      }));
    },

    async due(db: Executor, now: string, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom("account_closures")
        .select("account_id")
        .where("delete_at", "<=", now)
        .orderBy("delete_at")
        .limit(limit)
        .execute();
      return rows.map((r) => r.account_id);
    },
  };
}

export type ClosureRepository = ReturnType<typeof createClosureRepository>;
