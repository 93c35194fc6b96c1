import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { normalizeIpAllowlist } from "../accounts/ip-allowlist.js";
import { type Actor, recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { apiKeysLimitError, apiLimitsOf } from "../billing/plan-limits.js";
import type { Plan } from "../billing/plans.js";
import { type Db, type Effects, type Executor, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, type FieldError, invalidFields, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { hashToken } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import {
  type Access,
  type AccessCache,
  assertCanAssign,
  holds,
  loadAccess,
  missingPermissions,
  requirePermission,
} from "../roles/access.js";
import type { RolesService } from "../roles/roles.service.js";
import type { ApiKey, ApiKeyChanges, ApiKeysRepository } from "./api-keys.repository.js";
import { apiKeyView } from "./api-keys.views.js";
import type { KeyAuthentication } from "./key-authentication.js";
import type { KeyCache } from "./key-cache.js";
import { displayPrefix, newApiKeySecret } from "./secrets.js";

/** How long a rotated-out secret keeps working: 0 (at once) to 7 days; 24 h unless asked. */
export const ROTATION_GRACE = { defaultSeconds: 86_400, maxSeconds: 604_800 } as const;

export type ApiKeyInput = {
  name: string;
  scopes: string[];
  expiresAt?: string | null;
  allowedIps?: string[];
};

export type ApiKeyPatch = Partial<ApiKeyInput>;

/** A key as its API shows it: what it may do now too, and a use this process has not written yet. */
export type ApiKeyView = ApiKey & { effectiveScopes: string[] };

type Cursor = { createdAt: string; id: string };

function decodeCursor(value: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof parsed.createdAt === "string" && typeof parsed.id === "string")
      return { createdAt: parsed.createdAt, id: parsed.id };
  } catch {}
  throw invalidFields([
    { path: "cursor", code: "invalid", message: "This cursor is not one a previous page gave" },
  ]);
}

export function createApiKeysService(deps: {
  db: Db;
  clock: Clock;
  keys: ApiKeysRepository;
  cache: KeyCache;
  access: AccessCache;
  authentication: KeyAuthentication;
  sessions: SessionsService;
  catalog: RolesService["catalog"];
  accounts: Pick<AccountsRepository, "findById" | "lock">;
  plans: readonly Plan[];
  events: Pick<EventLog, "record">;
}) {
  const { db, clock, keys, cache, access, events } = deps;
  const now = () => clock.now().toISOString();

  const manager = async (executor: Executor, accountId: string, principalId: string): Promise<Access> =>
    requirePermission(
      executor === db
        ? await access.get(db, accountId, principalId)
        : await loadAccess(executor, accountId, principalId),
      "api_keys:manage",
    );

  async function findKey(executor: Executor, accountId: string, keyId: string): Promise<ApiKey> {
    const key = await keys.find(executor, accountId, keyId);
    if (!key) throw notFound("API key");
    return key;
  }

  /** Its scopes that its creator holds right now. */
  async function effectiveScopes(executor: Executor, key: ApiKey): Promise<string[]> {
    const creator =
      executor === db
        ? await access.get(db, key.accountId, key.createdBy)
        : await loadAccess(executor, key.accountId, key.createdBy);
    if (creator?.status !== "active") return [];
    return key.scopes.filter((scope) => holds(creator, scope));
  }

  async function viewIn(executor: Executor, key: ApiKey): Promise<ApiKeyView> {
    const pending = deps.authentication.pendingUse(key.id);
    const newer = pending && (key.lastUsedAt === null || pending.at > key.lastUsedAt);
    return {
      ...key,
      ...(newer ? { lastUsedAt: pending.at, lastUsedIp: pending.ip } : {}),
      effectiveScopes: await effectiveScopes(executor, key),
    };
  }
  const view = (key: ApiKey) => viewIn(db, key);

  /** Records `type` with the key as the API shows it (never its secret), in the change's transaction. */
  async function announce(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    type: "api_key.created" | "api_key.revoked",
    key: ApiKey,
  ) {
    const data = apiKeyView(await viewIn(trx, key));
    await events.record(trx, effects, actor, { accountId: key.accountId, type, data });
  }

  /** Every field problem of the input at once (name, scopes, expiry, IPs), normalized when none. */
  async function validated(accountId: string, input: ApiKeyPatch): Promise<ApiKeyChanges> {
    const errors: FieldError[] = [];
    const changes: ApiKeyChanges = {};
    if (input.name !== undefined) {
      changes.name = input.name.trim();
      if (!changes.name) errors.push({ path: "name", code: "required", message: "Enter a name" });
    }
    if (input.scopes !== undefined) {
      changes.scopes = [...new Set(input.scopes)];
      const known = new Set((await deps.catalog(accountId)).map((entry) => entry.key));
      input.scopes.forEach((scope, index) => {
        if (!known.has(scope))
          errors.push({
            path: `scopes.${index}`,
            code: "unknown_permission",
            message: `Unknown permission ${scope}`,
          });
      });
    }
    if (input.expiresAt !== undefined && input.expiresAt !== null) {
      const at = new Date(input.expiresAt);
      if (Number.isNaN(at.getTime()) || at.getTime() <= clock.now().getTime()) {
        errors.push({
          path: "expires_at",
          code: "invalid_value",
          message: "The expiry must be in the future",
        });
      } else changes.expiresAt = at.toISOString();
    } else if (input.expiresAt === null) changes.expiresAt = null;
    if (input.allowedIps !== undefined) {
      try {
        changes.allowedIps = normalizeIpAllowlist(input.allowedIps, "allowed_ips");
      } catch (error) {
        if (!(error instanceof AppError) || !error.errors) throw error;
        errors.push(...error.errors);
      }
    }
    if (errors.length) throw invalidFields(errors);
    return changes;
  }

  /** A key can hold only what its creator could give: the grant rule, answered as 403 `forbidden`. */
  function assertCanGiveScopes(caller: Access, scopes: readonly string[]) {
    try {
      assertCanAssign(caller, [{ key: "", permissions: scopes }]);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "privilege_escalation") throw error;
      const missing = missingPermissions(caller, scopes);
      throw new AppError(
        "forbidden",
        `An API key cannot hold permissions you do not hold: ${missing.join(", ")}`,
        {
          errors: missing.map((scope) => ({
            path: `scopes.${scopes.indexOf(scope)}`,
            code: "not_held",
            message: `You do not hold ${scope}`,
          })),
        },
      );
    }
  }

  /**
   * Changing a key or minting its next secret is for the member it acts for (anyone else would get a
   * credential in their name), and only with access that covers what it holds now (so one of their
   * keys cannot change or re-issue a stronger one).
   */
  async function assertMayChange(trx: Executor, caller: Access, key: ApiKey) {
    if (key.createdBy !== caller.userId) {
      throw new AppError(
        "forbidden",
        "Only the member who created an API key can change or rotate it; anyone who manages API keys can revoke it",
      );
    }
    const missing = missingPermissions(caller, await effectiveScopes(trx, key));
    if (missing.length) {
      throw new AppError(
        "forbidden",
        `This API key holds permissions the caller does not: ${missing.join(", ")}`,
      );
    }
  }

  const audit = (
    trx: Executor,
    actor: Actor,
    key: Pick<ApiKey, "id" | "accountId">,
    action: string,
    changes: Record<string, unknown>,
  ) =>
    recordAudit(
      trx,
      actor,
      { accountId: key.accountId, action, targetType: "api_key", targetId: key.id, changes },
      clock.now(),
    );

  async function revokeIn(trx: Executor, effects: Effects, actor: Actor, accountId: string, keyId: string) {
    const key = await findKey(trx, accountId, keyId);
    const at = now();
    if (!(await keys.revoke(trx, accountId, keyId, at))) throw notFound("API key");
    await cache.publishKeyChange(trx, effects.afterCommit, keyId);
    await audit(trx, actor, key, "api_key.revoked", {
      name: key.name,
      prefix: key.prefix,
      created_by: key.createdBy,
    });
    // As it was, both secrets now stopped (a revoked key is no longer readable through the API).
    await announce(trx, effects, actor, "api_key.revoked", {
      ...key,
      previousExpiresAt: null,
      revokedAt: at,
      updatedAt: at,
    });
  }

  return {
    view,

    /**
     * 201: the key and its secret, which nothing ever shows again. Needs a fresh authentication, and
     * room in the plan's API key limit (402 `plan_limit_reached`; revoked keys do not count).
     */
    async create(
      actor: Actor & { id: string },
      session: Session,
      accountId: string,
      input: ApiKeyInput,
    ): Promise<{ key: ApiKeyView; secret: string }> {
      const caller = await manager(db, accountId, actor.id);
      deps.sessions.requireFresh(session);
      const changes = await validated(accountId, input);
      const scopes = changes.scopes ?? [];
      assertCanGiveScopes(caller, scopes);
      const secret = newApiKeySecret();
      const id = newId("apiKey");
      await transact(db, async (trx, effects) => {
        assertCanGiveScopes(await manager(trx, accountId, actor.id), scopes);
        // Under the account's lock: concurrent creations queue here, so none can pass the limit.
        await deps.accounts.lock(trx, accountId);
        const limits = await apiLimitsOf(trx, deps.plans, accountId);
        const used = await keys.countUnrevoked(trx, accountId);
        if (limits.keysLimit !== null && used >= limits.keysLimit) throw apiKeysLimitError(limits, used);
        await keys.insert(trx, {
          id,
          accountId,
          createdBy: caller.userId,
          name: changes.name ?? "",
          prefix: displayPrefix(secret),
          secretHash: hashToken(secret),
          scopes,
          allowedIps: changes.allowedIps ?? [],
          expiresAt: changes.expiresAt ?? null,
          now: now(),
        });
        await audit(trx, actor, { id, accountId }, "api_key.created", {
          name: changes.name,
          scopes,
          expires_at: changes.expiresAt ?? null,
          allowed_ips: changes.allowedIps ?? [],
        });
        await announce(trx, effects, actor, "api_key.created", await findKey(trx, accountId, id));
      });
      return { key: await view(await findKey(db, accountId, id)), secret };
    },

    async list(principalId: string, accountId: string, page: { limit: number; cursor?: string | undefined }) {
      await manager(db, accountId, principalId);
      const rows = await keys.list(db, accountId, {
        limit: page.limit + 1,
        ...(page.cursor ? { after: decodeCursor(page.cursor) } : {}),
      });
      const shown = rows.slice(0, page.limit);
      const last = shown.at(-1);
      return {
        keys: await Promise.all(shown.map(view)),
        nextCursor:
          rows.length > page.limit && last
            ? Buffer.from(JSON.stringify({ createdAt: last.createdAt, id: last.id })).toString("base64url")
            : null,
      };
    },

    async get(principalId: string, accountId: string, keyId: string): Promise<ApiKeyView> {
      await manager(db, accountId, principalId);
      return view(await findKey(db, accountId, keyId));
    },

    /** Rename, change scopes (never beyond the caller's), allowed IPs or expiry. */
    async update(
      actor: Actor & { id: string },
      accountId: string,
      keyId: string,
      patch: ApiKeyPatch,
    ): Promise<ApiKeyView> {
      await manager(db, accountId, actor.id);
      const changes = await validated(accountId, patch);
      await transact(db, async (trx, effects) => {
        const caller = await manager(trx, accountId, actor.id);
        const key = await findKey(trx, accountId, keyId);
        await assertMayChange(trx, caller, key);
        if (changes.scopes) assertCanGiveScopes(caller, changes.scopes);
        await keys.update(trx, accountId, keyId, changes, now());
        await cache.publishKeyChange(trx, effects.afterCommit, keyId);
        await audit(trx, actor, key, "api_key.updated", {
          ...(changes.name !== undefined && changes.name !== key.name ? { name: changes.name } : {}),
          ...(changes.scopes
            ? {
                scopes: changes.scopes,
                scopes_added: changes.scopes.filter((s) => !key.scopes.includes(s)),
                scopes_removed: key.scopes.filter((s) => !changes.scopes?.includes(s)),
              }
            : {}),
          ...(changes.allowedIps ? { allowed_ips: changes.allowedIps } : {}),
          ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
        });
      });
      return view(await findKey(db, accountId, keyId));
    },

    /**
     * A new secret; the old one keeps working for `graceSeconds` (0: stops at once). A secret left
     * working by an earlier rotation stops now. People need a fresh authentication (a secret is shown).
     */
    async rotate(
      actor: Actor & { id: string },
      session: Session | undefined,
      accountId: string,
      keyId: string,
      graceSeconds: number = ROTATION_GRACE.defaultSeconds,
    ): Promise<{ key: ApiKeyView; secret: string }> {
      await manager(db, accountId, actor.id);
      if (session) deps.sessions.requireFresh(session);
      const secret = newApiKeySecret();
      const previousExpiresAt = graceSeconds > 0 ? addSeconds(clock.now(), graceSeconds).toISOString() : null;
      await transact(db, async (trx, effects) => {
        const caller = await manager(trx, accountId, actor.id);
        const key = await findKey(trx, accountId, keyId);
        await assertMayChange(trx, caller, key);
        await keys.rotate(trx, accountId, keyId, {
          secretHash: hashToken(secret),
          prefix: displayPrefix(secret),
          previousExpiresAt,
          now: now(),
        });
        await cache.publishKeyChange(trx, effects.afterCommit, keyId);
        await audit(trx, actor, key, "api_key.rotated", {
          prefix: displayPrefix(secret),
          grace_seconds: graceSeconds,
          previous_expires_at: previousExpiresAt,
        });
      });
      return { key: await view(await findKey(db, accountId, keyId)), secret };
    },

    /** Anyone who manages the account's keys may revoke any of them; both secrets stop at once. */
    async revoke(actor: Actor & { id: string }, accountId: string, keyId: string): Promise<void> {
      await manager(db, accountId, actor.id);
      await transact(db, async (trx, effects) => {
        await manager(trx, accountId, actor.id);
        await revokeIn(trx, effects, actor, accountId, keyId);
      });
    },

    /** For operators (the CLI): no permission check; audited as the system. */
    async revokeAsOperator(accountId: string, keyId: string): Promise<void> {
      await transact(db, (trx, effects) => revokeIn(trx, effects, SYSTEM_ACTOR, accountId, keyId));
    },

    /**
     * Inside a member's removal: their keys go with them, in every process at commit. Each key still
     * working is announced as revoked (as it was just before; keys revoked earlier were announced then).
     */
    async deleteForMember(trx: Executor, effects: Effects, actor: Actor, accountId: string, userId: string) {
      const deleted = await keys.deleteByCreator(trx, accountId, userId);
      for (const key of deleted) await cache.publishKeyChange(trx, effects.afterCommit, key.id);
      for (const key of deleted.filter((k) => k.revokedAt === null))
        await announce(trx, effects, actor, "api_key.revoked", key);
      return deleted.map((key) => key.id);
    },

    /** For operators (the CLI): every unrevoked key of the account, no permission check. */
    async listForOperator(accountId: string): Promise<ApiKeyView[]> {
      if (!(await deps.accounts.findById(db, accountId))) throw notFound("Account");
      const all: ApiKey[] = [];
      for (let after: Cursor | undefined; ; ) {
        const page = await keys.list(db, accountId, { limit: 200, ...(after ? { after } : {}) });
        all.push(...page);
        const last = page.at(-1);
        if (page.length < 200 || !last) break;
        after = { createdAt: last.createdAt, id: last.id };
      }
      return Promise.all(all.map(view));
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
