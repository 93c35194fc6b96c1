import type { Db } from "../db/database.js";
import { isApiKeyId } from "../lib/ids.js";
import { type Access, type AccessCache, holds } from "../roles/access.js";

export type AuthzCheck = { account_id: string; user_id: string; permission: string };
export type AuthzResult = {
  allowed: boolean;
  reason: "granted" | "not_member" | "suspended" | "deactivated" | "missing_permission";
};

/**
 * Answers "may this user do that in this account?" for host products, from the access cache (no query
 * when warm). A role change, suspension, removal or a member turning their own login off publishes
 * an account invalidation inside its transaction, so no process keeps answering with a stale allow.
 */
export function createAuthzService(deps: { db: Db; access: AccessCache }) {
  const { db, access } = deps;

  /** Whether a caller may ask about other users of the account: an active member who can read members. */
  function mayAskAboutOthers(caller: Access | undefined): boolean {
    return caller?.status === "active" && holds(caller, "members:read");
  }

  function verdict(found: Access | undefined, permission: string): AuthzResult {
    if (!found) return { allowed: false, reason: "not_member" };
    // Suspended by the account, or deactivated: the user turned their own login off.
    if (found.status !== "active") return { allowed: false, reason: found.status };
    return holds(found, permission)
      ? { allowed: true, reason: "granted" }
      : { allowed: false, reason: "missing_permission" };
  }

  async function decide(check: AuthzCheck): Promise<AuthzResult> {
    // The question is about people; an API key is not a member of anything.
    if (isApiKeyId(check.user_id)) return { allowed: false, reason: "not_member" };
    return verdict(await access.get(db, check.account_id, check.user_id), check.permission);
  }

  /** `decide` from the cache alone; undefined when only the database can tell. */
  function decideCached(check: AuthzCheck): AuthzResult | undefined {
    if (isApiKeyId(check.user_id)) return { allowed: false, reason: "not_member" };
    const found = access.cachedUser(check.account_id, check.user_id);
    return found === undefined ? undefined : verdict(found ?? undefined, check.permission);
  }

  return {
    /**
     * A host product's backend (an OIDC client credentials token, docs/oidc.md) asks about any account:
     * Gatehouse serves that one product's accounts.
     */
    async checkForClient(checks: AuthzCheck[]): Promise<AuthzResult[]> {
      const results: AuthzResult[] = [];
      for (const check of checks) results.push(await decide(check));
      return results;
    },
    /**
     * `check` from the caches alone, without waiting (a warm check costs no promise); undefined when any
     * answer needs the database — then `check` decides them all. Only for a user asking (an API key's
     * grant is cached elsewhere).
     */
    checkCached(callerId: string, checks: AuthzCheck[]): AuthzResult[] | undefined {
      if (isApiKeyId(callerId)) return undefined;
      const results: AuthzResult[] = [];
      for (const check of checks) {
        if (check.user_id !== callerId) {
          const caller = access.cachedUser(check.account_id, callerId);
          if (caller === undefined) return undefined;
          if (!mayAskAboutOthers(caller ?? undefined)) {
            results.push({ allowed: false, reason: "not_member" });
            continue;
          }
        }
        const result = decideCached(check);
        if (!result) return undefined;
        results.push(result);
      }
      return results;
    },

    /**
     * A caller may ask about themselves, or about anyone in accounts where they can read members. An API
     * key (`key_…` caller) asks about the users of its own account only, with the scope members:read.
     */
    async check(callerId: string, checks: AuthzCheck[]): Promise<AuthzResult[]> {
      const visible = new Map<string, boolean>();
      const results: AuthzResult[] = [];
      for (const check of checks) {
        if (check.user_id !== callerId) {
          let may = visible.get(check.account_id);
          if (may === undefined) {
            may = mayAskAboutOthers(await access.get(db, check.account_id, callerId));
            visible.set(check.account_id, may);
          }
          if (!may) {
            results.push({ allowed: false, reason: "not_member" });
            continue;
          }
        }
        results.push(await decide(check));
      }
      return results;
    },
  };
}

export type AuthzService = ReturnType<typeof createAuthzService>;
