import type { Executor } from "../db/database.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "../users/me-cache.js";
import { normalizeEmail, refreshMembershipCopies } from "../users/users.repository.js";

export const EMAIL_CHANGE_SECONDS = 24 * 3600;

export type PendingEmailChange = { id: string; userId: string; newEmail: string };

export function createEmailChangeRepository(options: { changes?: ChangeFeed } = {}) {
  const feed = options.changes ?? NO_CHANGE_FEED;
  return {
    /** When the user last asked for a change (for the resend pause), if ever. */
    async latestRequestAt(db: Executor, userId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom("email_change_requests")
        .select("created_at")
        .where("user_id", "=", userId)
        .orderBy("created_at", "desc")
        .limit(1)
        .executeTakeFirst();
      return row?.created_at;
    },

    /** A new request (only its token's hash is stored); the user's earlier pending ones die. */
    async issue(db: Executor, userId: string, newEmail: string, now: Date): Promise<string> {
      const iso = now.toISOString();
      await this.cancelPending(db, userId, iso);
      const token = newSecretToken();
      await db
        .insertInto("email_change_requests")
        .values({
          id: newId("emailChange"),
          user_id: userId,
          new_email: newEmail,
          token_hash: hashToken(token),
          expires_at: new Date(now.getTime() + EMAIL_CHANGE_SECONDS * 1000).toISOString(),
          used_at: null,
          created_at: iso,
        })
        .execute();
      return token;
    },

    async cancelPending(db: Executor, userId: string, now: string): Promise<void> {
      await db
        .updateTable("email_change_requests")
        .set({ used_at: now })
        .where("user_id", "=", userId)
        .where("used_at", "is", null)
        .execute();
    },

    /** Spends the token; undefined when unknown, used, superseded or expired. Conditional, so once only. */
    async consume(db: Executor, token: string, now: Date): Promise<PendingEmailChange | undefined> {
      if (token.length === 0 || token.length > 128) return undefined;
      const iso = now.toISOString();
      const row = await db
        .updateTable("email_change_requests")
        .set({ used_at: iso })
        .where("token_hash", "=", hashToken(token))
        .where("used_at", "is", null)
        .where("expires_at", ">", iso)
        .returning(["id", "user_id", "new_email"])
        .executeTakeFirst();
      return row && { id: row.id, userId: row.user_id, newEmail: row.new_email };
    },

    /** The login email itself; confirmed through the link, so it counts as verified. */
    async setEmail(db: Executor, userId: string, email: string, now: string): Promise<void> {
      await db
        .updateTable("users")
        .set({
          email,
          email_normalized: normalizeEmail(email),
          email_verified_at: now,
          updated_at: now,
        })
        .where("id", "=", userId)
        .execute();
      await refreshMembershipCopies(db, userId);
      await feed.user(db, userId);
    },

    /** Links already mailed to the old address (verification, password reset) must not act on the new one. */
    async spendMailboxTokens(db: Executor, userId: string, now: string): Promise<void> {
      await db
        .updateTable("email_tokens")
        .set({ used_at: now })
        .where("user_id", "=", userId)
        .where("purpose", "in", ["verify_email", "password_reset"])
        .where("used_at", "is", null)
        .execute();
    },

    /** Email-code factors are labelled with the (masked) address they send to. */
    async relabelEmailFactors(db: Executor, userId: string, label: string): Promise<void> {
      await db
        .updateTable("mfa_factors")
        .set({ label })
        .where("user_id", "=", userId)
        .where("type", "=", "email")
        .execute();
    },
  };
}

export type EmailChangeRepository = ReturnType<typeof createEmailChangeRepository>;
