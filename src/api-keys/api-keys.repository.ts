import type { Selectable } from "kysely";
import type { Executor } from "../db/database.js";
import type { ApiKeysTable } from "../db/tables.js";

/** An API key as the rest of the code sees it: never its secret, whose hashes stay in here. */
export type ApiKey = {
  id: string;
  accountId: string;
  /** The member the key acts for. */
  createdBy: string;
  name: string;
  /** `gh_…1a2b`: tells keys apart without revealing anything. */
  prefix: string;
  scopes: string[];
  allowedIps: string[];
  expiresAt: string | null;
  /** Until when the secret replaced by the last rotation still works; null when it does not. */
  previousExpiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  revokedAt: string | null;
  createdAt: string;
  updatedAt: string;
};

/** What the access model needs of a key: whose it is, and what it may do at most. */
export type KeyGrant = Pick<ApiKey, "id" | "accountId" | "createdBy" | "scopes">;

function toApiKey(row: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: row.id,
    accountId: row.account_id,
    createdBy: row.created_by,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as string[],
    allowedIps: JSON.parse(row.allowed_ips) as string[],
    expiresAt: row.expires_at,
    previousExpiresAt: row.previous_secret_hash ? row.previous_expires_at : null,
    lastUsedAt: row.last_used_at,
    lastUsedIp: row.last_used_ip,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type NewApiKey = {
  id: string;
  accountId: string;
  createdBy: string;
  name: string;
  prefix: string;
  secretHash: string;
  scopes: string[];
  allowedIps: string[];
  expiresAt: string | null;
  now: string;
};

export type ApiKeyChanges = {
  name?: string;
  scopes?: string[];
  allowedIps?: string[];
  expiresAt?: string | null;
};

/** A page of an account's keys, newest first. */
export type ApiKeyPage = { after?: { createdAt: string; id: string }; limit: number };

export function createApiKeysRepository() {
  return {
    async insert(db: Executor, key: NewApiKey): Promise<void> {
      await db
        .insertInto("api_keys")
        .values({
          id: key.id,
          account_id: key.accountId,
          created_by: key.createdBy,
          name: key.name,
          prefix: key.prefix,
          secret_hash: key.secretHash,
          scopes: JSON.stringify(key.scopes),
          allowed_ips: JSON.stringify(key.allowedIps),
          expires_at: key.expiresAt,
          created_at: key.now,
          updated_at: key.now,
        })
        .execute();
    },

    /** A key of the account that is not revoked (expired ones included: they are still listed). */
    async find(db: Executor, accountId: string, keyId: string): Promise<ApiKey | undefined> {
      const row = await db
        .selectFrom("api_keys")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("id", "=", keyId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return row && toApiKey(row);
    },

    /** The unrevoked key whose current or previous secret has this hash; `previous` says which. */
    async findBySecretHash(
      db: Executor,
      secretHash: string,
    ): Promise<{ key: ApiKey; previous: boolean } | undefined> {
      const row = await db
        .selectFrom("api_keys")
        .selectAll()
        .where((eb) =>
          eb.or([eb("secret_hash", "=", secretHash), eb("previous_secret_hash", "=", secretHash)]),
        )
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return row && { key: toApiKey(row), previous: row.secret_hash !== secretHash };
    },

    /** Only for the access model, which checks the account itself. */
    async findById(db: Executor, keyId: string): Promise<ApiKey | undefined> {
      const row = await db
        .selectFrom("api_keys")
        .selectAll()
        .where("id", "=", keyId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return row && toApiKey(row);
    },

    /** The account's unrevoked keys (expired ones too: a new expiry brings them back). */
    async countUnrevoked(db: Executor, accountId: string): Promise<number> {
      const row = await db
        .selectFrom("api_keys")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("account_id", "=", accountId)
        .where("revoked_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async list(db: Executor, accountId: string, page: ApiKeyPage): Promise<ApiKey[]> {
      let query = db
        .selectFrom("api_keys")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("revoked_at", "is", null);
      const after = page.after;
      if (after) {
        query = query.where((eb) =>
          eb.or([
            eb("created_at", "<", after.createdAt),
            eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)]),
          ]),
        );
      }
      const rows = await query
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(page.limit)
        .execute();
      return rows.map(toApiKey);
    },

    async update(
      db: Executor,
      accountId: string,
      keyId: string,
      changes: ApiKeyChanges,
      now: string,
    ): Promise<void> {
      await db
        .updateTable("api_keys")
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.scopes !== undefined ? { scopes: JSON.stringify(changes.scopes) } : {}),
          ...(changes.allowedIps !== undefined ? { allowed_ips: JSON.stringify(changes.allowedIps) } : {}),
          ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
          updated_at: now,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", keyId)
        .execute();
    },

    /**
     * The new secret replaces the current one, which keeps working until `previousExpiresAt` (null: it
     * stops now). A secret an earlier rotation left working stops now either way.
     */
    async rotate(
      db: Executor,
      accountId: string,
      keyId: string,
      input: { secretHash: string; prefix: string; previousExpiresAt: string | null; now: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable("api_keys")
        .set((eb) => ({
          previous_secret_hash: input.previousExpiresAt === null ? null : eb.ref("secret_hash"),
          previous_expires_at: input.previousExpiresAt,
          secret_hash: input.secretHash,
          prefix: input.prefix,
          updated_at: input.now,
        }))
        .where("account_id", "=", accountId)
        .where("id", "=", keyId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async revoke(db: Executor, accountId: string, keyId: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("api_keys")
        .set({ revoked_at: now, previous_secret_hash: null, previous_expires_at: null, updated_at: now })
        .where("account_id", "=", accountId)
        .where("id", "=", keyId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Deletes every key a member created in the account (they are leaving it); returns them as they were. */
    async deleteByCreator(db: Executor, accountId: string, userId: string): Promise<ApiKey[]> {
      const rows = await db
        .deleteFrom("api_keys")
        .where("account_id", "=", accountId)
        .where("created_by", "=", userId)
        .returningAll()
        .execute();
      return rows.map(toApiKey);
    },

    /** Last use as batched in memory; never moves a time backwards (another process may be ahead). */
    async recordLastUse(db: Executor, keyId: string, at: string, ip: string | null): Promise<void> {
      await db
        .updateTable("api_keys")
        .set({ last_used_at: at, last_used_ip: ip })
        .where("id", "=", keyId)
        .where((eb) => eb.or([eb("last_used_at", "is", null), eb("last_used_at", "<", at)]))
        .execute();
    },
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
