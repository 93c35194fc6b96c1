import { clientIp, type IpAllowlistGuard, IpNotAllowedError } from "../accounts/ip-allowlist.js";
import type { Db } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { hashToken } from "../lib/crypto.js";
import type { AccessCache } from "../roles/access.js";
import type { ApiKeysRepository } from "./api-keys.repository.js";
import type { KeyCache } from "./key-cache.js";
import { isWellFormedSecret } from "./secrets.js";

/** The key a request authenticated with (`request.apiKey`); it acts for `createdBy` within `scopes`. */
export type ApiKeyPrincipal = {
  id: string;
  accountId: string;
  createdBy: string;
  name: string;
  /** As stored; what the key may do is these ∩ its creator's current permissions (src/roles/access.ts). */
  scopes: readonly string[];
};

function invalidKey(detail: string): AppError {
  return new AppError("invalid_api_key", detail, { headers: { "www-authenticate": "Bearer" } });
}

/**
 * The request path of API keys: a secret in, the key it belongs to out, or 401 `invalid_api_key`. A
 * warm key costs no query (the key, its creator's access and the account's allowlist are all cached).
 * Each use is noted in memory and written in batches (`flushLastUse`), never by the request.
 */
export function createKeyAuthentication(deps: {
  db: Db;
  clock: Clock;
  keys: ApiKeysRepository;
  cache: KeyCache;
  access: AccessCache;
  ipAllowlist: IpAllowlistGuard;
}) {
  const { db, clock, cache } = deps;
  const lastUse = new Map<string, { at: string; ip: string | null }>();

  return {
    async authenticate(secret: string, ip: string | undefined): Promise<ApiKeyPrincipal> {
      // Checked before any lookup: a typo or a truncated paste costs no database read.
      if (!isWellFormedSecret(secret))
        throw invalidKey("This is not a Gatehouse API key: check that the whole secret was copied");
      const found = await cache.findBySecretHash(hashToken(secret));
      if (!found) throw invalidKey("This API key does not exist or was revoked");
      const { key } = found;
      const now = clock.now().toISOString();
      if (key.expiresAt !== null && key.expiresAt <= now) throw invalidKey("This API key has expired");
      if (found.previous && (key.previousExpiresAt === null || key.previousExpiresAt <= now))
        throw invalidKey("This API key was rotated: use its new secret");
      const creator = await deps.access.get(db, key.accountId, key.createdBy);
      if (creator?.status !== "active") {
        throw invalidKey(
          "This API key is disabled: the member who created it is suspended or no longer in the account",
        );
      }
      if (!(await deps.ipAllowlist.allows(key.accountId, ip))) throw new IpNotAllowedError(ip);
      if (!found.allowedIps.allows(ip)) {
        throw new AppError(
          "ip_not_allowed",
          `This API key cannot be used from your IP address (${clientIp(ip) ?? "unknown"}): it is not among the key's allowed IPs.`,
        );
      }
      lastUse.set(key.id, { at: now, ip: clientIp(ip) ?? null });
      return {
        id: key.id,
        accountId: key.accountId,
        createdBy: key.createdBy,
        name: key.name,
        scopes: key.scopes,
      };
    },

    /** A use this process noted and has not written yet (newer than what the database says). */
    pendingUse(keyId: string): { at: string; ip: string | null } | undefined {
      return lastUse.get(keyId);
    },

    /** Writes the uses noted since the last flush, in one transaction; kept for the next one on failure. */
    async flushLastUse(): Promise<void> {
      if (lastUse.size === 0) return;
      const batch = [...lastUse];
      lastUse.clear();
      try {
        await db.transaction().execute(async (trx) => {
          for (const [keyId, use] of batch) await deps.keys.recordLastUse(trx, keyId, use.at, use.ip);
        });
      } catch (error) {
        for (const [keyId, use] of batch) if (!lastUse.has(keyId)) lastUse.set(keyId, use);
        throw error;
      }
    },
  };
}

export type KeyAuthentication = ReturnType<typeof createKeyAuthentication>;
