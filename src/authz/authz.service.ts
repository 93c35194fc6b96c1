import type { Db } from "../db/database.js";
import { isApiKeyId } from "../lib/ids.js";
import { andThen, type MaybePromise } from "../lib/maybe-async.js";
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

  const notMember = (): AuthzResult => ({ allowed: false, reason: "not_member" });

  function verdict(found: Access | undefined, permission: string): AuthzResult {
    if (!found) return notMember();
    // Suspended by the account, or deactivated: the user turned their own login off.
    if (found.status !== "active") return { allowed: false, reason: found.status };
    return holds(found, permission)
      ? { allowed: true, reason: "granted" }
      : { allowed: false, reason: "missing_permission" };
  }

  function decide(check: AuthzCheck): MaybePromise<AuthzResult> {
    // The question is about people; an API key is not a member of anything.
    if (isApiKeyId(check.user_id)) return notMember();
    return andThen(access.get(db, check.account_id, check.user_id), (found) =>
      verdict(found, check.permission),
    );
  }

  /**
   * The answers in order: at once when the caches hold every one (a warm check costs no promise), else a
   * promise, the rest decided one after the other.
   */
  function each(checks: AuthzCheck[], answer: (check: AuthzCheck) => MaybePromise<AuthzResult>) {
    const results: AuthzResult[] = [];
    for (const [i, check] of checks.entries()) {
      const result = answer(check);
      if (result instanceof Promise)
        return (async () => {
          results.push(await result);
          for (const later of checks.slice(i + 1)) results.push(await answer(later));
          return results;
        })();
      results.push(result);
    }
    return results;
  }

  return {
    /**
     * A host product's backend (an OIDC client credentials token, docs/oidc.md) asks about any account:
     * Gatehouse serves that one product's accounts.
     */
    checkForClient(checks: AuthzCheck[]): MaybePromise<AuthzResult[]> {
      return each(checks, decide);
    },

    /**
     * A caller may ask about themselves, or about anyone in accounts where they can read members. An API
     * key (`key_…` caller) asks about the users of its own account only, with the scope members:read.
     */
    check(callerId: string, checks: AuthzCheck[]): MaybePromise<AuthzResult[]> {
      // The caller's own access, once per account in the batch; made only for questions about others
      // (no map, and no named closure to define, on the common check about oneself).
      let callers: Map<string, MaybePromise<Access | undefined>> | undefined;
      return each(checks, (check) => {
        if (check.user_id === callerId) return decide(check);
        callers ??= new Map();
        if (!callers.has(check.account_id))
          callers.set(check.account_id, access.get(db, check.account_id, callerId));
        return andThen(callers.get(check.account_id), (caller) =>
          mayAskAboutOthers(caller) ? decide(check) : notMember(),
        );
      });
    },
  };
}

export type AuthzService = ReturnType<typeof createAuthzService>;
