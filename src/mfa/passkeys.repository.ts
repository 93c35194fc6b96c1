import type { Executor } from "../db/database.js";

export type PasskeyCredential = {
  factorId: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[];
  backedUp: boolean;
  deviceType: string;
  aaguid: string;
  createdAt: string;
};

export type Passkey = PasskeyCredential & { label: string; lastUsedAt: string | null };

/** "reauth": a fresh authentication of a session ("Confirm it's you"), bound to that session. */
export type WebauthnPurpose = "register" | "login" | "mfa" | "reauth";

type CredentialRow = {
  factor_id: string;
  user_id: string;
  credential_id: string;
  public_key: string;
  sign_count: number;
  transports: string;
  backed_up: number;
  device_type: string;
  aaguid: string;
  created_at: string;
};

const toCredential = (r: CredentialRow): PasskeyCredential => ({
  factorId: r.factor_id,
  userId: r.user_id,
  credentialId: r.credential_id,
  publicKey: r.public_key,
  signCount: Number(r.sign_count),
  transports: JSON.parse(r.transports) as string[],
  backedUp: Number(r.backed_up) === 1,
  deviceType: r.device_type,
  aaguid: r.aaguid,
  createdAt: r.created_at,
});

export function createPasskeysRepository() {
  const withFactor = (db: Executor) =>
    db
      .selectFrom("passkey_credentials as p")
      .innerJoin("mfa_factors as f", (j) =>
        j.onRef("f.id", "=", "p.factor_id").onRef("f.user_id", "=", "p.user_id"),
      )
      .selectAll("p")
      .select(["f.label", "f.last_used_at"])
      .where("f.type", "=", "passkey")
      .where("f.confirmed_at", "is not", null);
  const toPasskey = (r: CredentialRow & { label: string; last_used_at: string | null }): Passkey => ({
    ...toCredential(r),
    label: r.label,
    lastUsedAt: r.last_used_at,
  });

  return {
    async listForUser(db: Executor, userId: string): Promise<Passkey[]> {
      const rows = await withFactor(db).where("p.user_id", "=", userId).orderBy("p.created_at").execute();
      return rows.map(toPasskey);
    },
    async find(db: Executor, userId: string, factorId: string): Promise<Passkey | undefined> {
      const row = await withFactor(db)
        .where("p.user_id", "=", userId)
        .where("p.factor_id", "=", factorId)
        .executeTakeFirst();
      return row && toPasskey(row);
    },
    async findByCredentialId(db: Executor, credentialId: string): Promise<Passkey | undefined> {
      const row = await withFactor(db).where("p.credential_id", "=", credentialId).executeTakeFirst();
      return row && toPasskey(row);
    },
    async credentialExists(db: Executor, credentialId: string): Promise<boolean> {
      const row = await db
        .selectFrom("passkey_credentials")
        .select("factor_id")
        .where("credential_id", "=", credentialId)
        .executeTakeFirst();
      return row !== undefined;
    },
    async insert(db: Executor, c: PasskeyCredential) {
      await db
        .insertInto("passkey_credentials")
        .values({
          factor_id: c.factorId,
          user_id: c.userId,
          credential_id: c.credentialId,
          public_key: c.publicKey,
          sign_count: c.signCount,
          transports: JSON.stringify(c.transports),
          backed_up: c.backedUp ? 1 : 0,
          device_type: c.deviceType,
          aaguid: c.aaguid,
          created_at: c.createdAt,
        })
        .execute();
    },
    /**
     * Records a use: the new counter and backup state, and the factor's last use. False when another
     * request moved the counter first (the compare-and-set keeps a counter from going back).
     */
    async recordUse(
      db: Executor,
      p: { factorId: string; userId: string; from: number; to: number; backedUp: boolean; now: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable("passkey_credentials")
        .set({ sign_count: p.to, backed_up: p.backedUp ? 1 : 0 })
        .where("factor_id", "=", p.factorId)
        .where("sign_count", "=", p.from)
        .executeTakeFirst();
      await db
        .updateTable("mfa_factors")
        .set({ last_used_at: p.now })
        .where("id", "=", p.factorId)
        .where("user_id", "=", p.userId)
        .execute();
      return Number(result.numUpdatedRows) === 1;
    },
    async rename(db: Executor, userId: string, factorId: string, label: string) {
      await db
        .updateTable("mfa_factors")
        .set({ label })
        .where("id", "=", factorId)
        .where("user_id", "=", userId)
        .where("type", "=", "passkey")
        .execute();
    },

    async insertChallenge(
      db: Executor,
      c: {
        id: string;
        purpose: WebauthnPurpose;
        userId: string | null;
        sessionId: string | null;
        mfaChallengeId: string | null;
        challengeHash: string;
        expiresAt: string;
        now: string;
      },
    ) {
      // Expired challenges are of no use to anyone: sweep them as new ones arrive.
      await db.deleteFrom("webauthn_challenges").where("expires_at", "<", c.now).execute();
      await db
        .insertInto("webauthn_challenges")
        .values({
          id: c.id,
          purpose: c.purpose,
          user_id: c.userId,
          session_id: c.sessionId,
          mfa_challenge_id: c.mfaChallengeId,
          challenge_hash: c.challengeHash,
          expires_at: c.expiresAt,
          used_at: null,
          created_at: c.now,
        })
        .execute();
    },
    /** Spends a challenge once: the row if it was live and unused, otherwise undefined. */
    async spendChallenge(
      db: Executor,
      id: string,
      purpose: WebauthnPurpose,
      now: string,
      bound: { userId?: string; sessionId?: string; mfaChallengeId?: string } = {},
    ) {
      let query = db
        .updateTable("webauthn_challenges")
        .set({ used_at: now })
        .where("id", "=", id)
        .where("purpose", "=", purpose)
        .where("used_at", "is", null)
        .where("expires_at", ">", now);
      // A challenge bound to someone else's session or log-in is not touched (nor spent) by this one.
      if (bound.userId) query = query.where("user_id", "=", bound.userId);
      if (bound.sessionId) query = query.where("session_id", "=", bound.sessionId);
      if (bound.mfaChallengeId) query = query.where("mfa_challenge_id", "=", bound.mfaChallengeId);
      const result = await query.executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return undefined;
      return db.selectFrom("webauthn_challenges").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    },
  };
}

export type PasskeysRepository = ReturnType<typeof createPasskeysRepository>;
