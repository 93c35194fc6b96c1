import { sql } from "kysely";
import type { Executor } from "../db/database.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "../users/me-cache.js";

export type Factor = {
  id: string;
  userId: string;
  type: string;
  label: string;
  secretEnc: string | null;
  lastUsedStep: number;
  confirmedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
};

export function createMfaRepository(options: { changes?: ChangeFeed } = {}) {
  // Whether a confirmed factor exists is /me's mfa_enabled.
  const feed = options.changes ?? NO_CHANGE_FEED;
  const toFactor = (r: {
    id: string;
    user_id: string;
    type: string;
    label: string;
    secret_enc: string | null;
    last_used_step: number;
    confirmed_at: string | null;
    last_used_at: string | null;
    created_at: string;
  }): Factor => ({
    id: r.id,
    userId: r.user_id,
    type: r.type,
    label: r.label,
    secretEnc: r.secret_enc,
    lastUsedStep: Number(r.last_used_step),
    confirmedAt: r.confirmed_at,
    lastUsedAt: r.last_used_at,
    createdAt: r.created_at,
  });

  return {
    async confirmedFactors(db: Executor, userId: string): Promise<Factor[]> {
      const rows = await db
        .selectFrom("mfa_factors")
        .selectAll()
        .where("user_id", "=", userId)
        .where("confirmed_at", "is not", null)
        .orderBy("created_at")
        .execute();
      return rows.map(toFactor);
    },
    async find(db: Executor, userId: string, id: string): Promise<Factor | undefined> {
      const row = await db
        .selectFrom("mfa_factors")
        .selectAll()
        .where("user_id", "=", userId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toFactor(row);
    },
    async insert(
      db: Executor,
      f: { id: string; userId: string; type: string; label: string; secretEnc: string | null; now: string },
    ) {
      await db
        .insertInto("mfa_factors")
        .values({
          id: f.id,
          user_id: f.userId,
          type: f.type,
          label: f.label,
          secret_enc: f.secretEnc,
          last_used_step: 0,
          confirmed_at: null,
          last_used_at: null,
          created_at: f.now,
        })
        .execute();
    },
    /** Records use of a TOTP step; false when that step (or a later one) was already used: a replay. */
    async spendStep(db: Executor, userId: string, id: string, step: number, now: string): Promise<boolean> {
      const result = await db
        .updateTable("mfa_factors")
        .set({ last_used_step: step, last_used_at: now })
        .where("user_id", "=", userId)
        .where("id", "=", id)
        .where("last_used_step", "<", step)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Records a successful use of a factor without steps (email and text-message codes). */
    async markUsed(db: Executor, userId: string, id: string, now: string) {
      await db
        .updateTable("mfa_factors")
        .set({ last_used_at: now })
        .where("user_id", "=", userId)
        .where("id", "=", id)
        .execute();
    },
    async confirm(db: Executor, userId: string, id: string, now: string) {
      await db
        .updateTable("mfa_factors")
        .set({ confirmed_at: now })
        .where("user_id", "=", userId)
        .where("id", "=", id)
        .execute();
      await feed.user(db, userId);
    },
    async deleteFactor(db: Executor, userId: string, id: string) {
      await db.deleteFrom("mfa_factors").where("user_id", "=", userId).where("id", "=", id).execute();
      await feed.user(db, userId);
    },
    async deleteAll(db: Executor, userId: string) {
      await db.deleteFrom("mfa_factors").where("user_id", "=", userId).execute();
      await db.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
      await feed.user(db, userId);
    },
    async replaceRecoveryCodes(
      db: Executor,
      userId: string,
      codes: Array<{ id: string; hash: string; sealed: string | null }>,
      now: string,
    ) {
      await db.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
      await db
        .insertInto("recovery_codes")
        .values(
          codes.map(({ id, hash, sealed }) => ({
            id,
            user_id: userId,
            code_hash: hash,
            code_enc: sealed,
            used_at: null,
            created_at: now,
          })),
        )
        .execute();
    },
    /** The sealed copies of the unused codes (null entries: codes made while the user was Root). */
    async unusedSealedCodes(db: Executor, userId: string): Promise<Array<string | null>> {
      const rows = await db
        .selectFrom("recovery_codes")
        .select("code_enc")
        .where("user_id", "=", userId)
        .where("used_at", "is", null)
        .orderBy("created_at")
        .orderBy("id")
        .execute();
      return rows.map((r) => r.code_enc);
    },
    /** Spends a recovery code once; the conditional update makes a concurrent second use fail. */
    async spendRecoveryCode(db: Executor, userId: string, hash: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("recovery_codes")
        .set({ used_at: now })
        .where("user_id", "=", userId)
        .where("code_hash", "=", hash)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async recoveryCodesRemaining(db: Executor, userId: string): Promise<number> {
      const row = await db
        .selectFrom("recovery_codes")
        .select(sql<number>`count(*)`.as("n"))
        .where("user_id", "=", userId)
        .where("used_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insertCode(
      db: Executor,
      c: { id: string; userId: string; factorId: string; hash: string; expiresAt: string; now: string },
    ) {
      await db
        .insertInto("mfa_codes")
        .values({
          id: c.id,
          user_id: c.userId,
          factor_id: c.factorId,
          code_hash: c.hash,
          attempts: 0,
          expires_at: c.expiresAt,
          used_at: null,
          created_at: c.now,
        })
        .execute();
    },
    /** The newest code sent to the user (for some factors, or any). */
    async latestCode(db: Executor, userId: string, factorIds?: string[]) {
      let q = db.selectFrom("mfa_codes").selectAll().where("user_id", "=", userId);
      if (factorIds) q = q.where("factor_id", "in", factorIds);
      return q.orderBy("created_at", "desc").orderBy("id", "desc").limit(1).executeTakeFirst();
    },
    /** How many codes went out by this method since a moment. */
    async codesSentSince(db: Executor, userId: string, type: string, since: string): Promise<number> {
      const row = await db
        .selectFrom("mfa_codes as c")
        .innerJoin("mfa_factors as f", "f.id", "c.factor_id")
        .select(sql<number>`count(*)`.as("n"))
        .where("c.user_id", "=", userId)
        .where("f.type", "=", type)
        .where("c.created_at", ">=", since)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async failCode(db: Executor, id: string) {
      await db
        .updateTable("mfa_codes")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .execute();
    },
    async spendCode(db: Executor, id: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("mfa_codes")
        .set({ used_at: now })
        .where("id", "=", id)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async insertChallenge(
      db: Executor,
      c: {
        id: string;
        userId: string;
        tokenHash: string;
        accountId: string | null;
        ip: string | null;
        expiresAt: string;
        now: string;
      },
    ) {
      await db
        .insertInto("mfa_challenges")
        .values({
          id: c.id,
          user_id: c.userId,
          token_hash: c.tokenHash,
          account_id: c.accountId,
          ip: c.ip,
          attempts: 0,
          expires_at: c.expiresAt,
          used_at: null,
          created_at: c.now,
        })
        .execute();
    },
    async findChallenge(db: Executor, tokenHash: string) {
      return db
        .selectFrom("mfa_challenges")
        .selectAll()
        .where("token_hash", "=", tokenHash)
        .executeTakeFirst();
    },
    /** Counts a wrong code; returns the attempts made so far. */
    async failChallenge(db: Executor, id: string): Promise<number> {
      const row = await db
        .updateTable("mfa_challenges")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .returning("attempts")
        .executeTakeFirstOrThrow();
      return Number(row.attempts);
    },
    async spendChallenge(db: Executor, id: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("mfa_challenges")
        .set({ used_at: now })
        .where("id", "=", id)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type MfaRepository = ReturnType<typeof createMfaRepository>;
