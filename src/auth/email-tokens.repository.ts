import type { Executor } from "../db/database.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";

export type TokenPurpose = "verify_email" | "password_reset" | "reactivate";

export const TOKEN_LIFETIME_SECONDS: Record<TokenPurpose, number> = {
  verify_email: 24 * 3600,
  password_reset: 30 * 60,
  reactivate: 24 * 3600,
};

export function createEmailTokensRepository() {
  return {
    /** Issues a token (only its hash is stored); earlier unused tokens of the same purpose die. */
    async issue(db: Executor, userId: string, purpose: TokenPurpose, now: Date): Promise<string> {
      const token = newSecretToken();
      const iso = now.toISOString();
      await db
        .updateTable("email_tokens")
        .set({ used_at: iso })
        .where("user_id", "=", userId)
        .where("purpose", "=", purpose)
        .where("used_at", "is", null)
        .execute();
      await db
        .insertInto("email_tokens")
        .values({
          id: newId("token"),
          user_id: userId,
          purpose,
          token_hash: hashToken(token),
          expires_at: new Date(now.getTime() + TOKEN_LIFETIME_SECONDS[purpose] * 1000).toISOString(),
          used_at: null,
          created_at: iso,
        })
        .execute();
      return token;
    },

    /** Every unused token of `purpose` the user holds dies (a changed password ends its reset links). */
    async spendAll(db: Executor, userId: string, purpose: TokenPurpose, now: string): Promise<void> {
      await db
        .updateTable("email_tokens")
        .set({ used_at: now })
        .where("user_id", "=", userId)
        .where("purpose", "=", purpose)
        .where("used_at", "is", null)
        .execute();
    },

    /** Whether the token is known, unused and unexpired: what `consume` would accept, without spending it. */
    async isLive(db: Executor, token: string, purpose: TokenPurpose, now: Date): Promise<boolean> {
      if (token.length === 0 || token.length > 128) return false;
      const row = await db
        .selectFrom("email_tokens")
        .select("id")
        .where("token_hash", "=", hashToken(token))
        .where("purpose", "=", purpose)
        .where("used_at", "is", null)
        .where("expires_at", ">", now.toISOString())
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Marks the token used and returns its user, or undefined when it is unknown, used or expired.
     * The conditional update makes two concurrent redemptions of one token impossible.
     */
    async consume(
      db: Executor,
      token: string,
      purpose: TokenPurpose,
      now: Date,
    ): Promise<string | undefined> {
      if (token.length === 0 || token.length > 128) return undefined;
      const iso = now.toISOString();
      const row = await db
        .updateTable("email_tokens")
        .set({ used_at: iso })
        .where("token_hash", "=", hashToken(token))
        .where("purpose", "=", purpose)
        .where("used_at", "is", null)
        .where("expires_at", ">", iso)
        .returning("user_id")
        .executeTakeFirst();
      return row?.user_id;
    },
  };
}

export type EmailTokensRepository = ReturnType<typeof createEmailTokensRepository>;
