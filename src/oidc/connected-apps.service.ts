import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, transact } from "../db/database.js";
import { notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import type { ConnectedApp, ConnectedAppsRepository } from "./connected-apps.repository.js";

/**
 * Settings → Connected apps: the third-party applications the account's members signed in to with
 * Gatehouse (security:read), and revoking them for the whole account (security:manage).
 */
export function createConnectedAppsService(deps: {
  db: Db;
  clock: Clock;
  access: AccessCache;
  repository: ConnectedAppsRepository;
}) {
  const { db, clock, repository } = deps;

  return {
    async list(principalId: string, accountId: string): Promise<ConnectedApp[]> {
      requirePermission(await deps.access.get(db, accountId, principalId), "security:read");
      return repository.list(db, accountId);
    },

    /**
     * Ends every authorization the account's members gave the client: its grants, codes and refresh
     * tokens go at once (refreshing fails from now on); JWT access tokens already issued end within
     * their lifetime. Other accounts' authorizations of the same client stay.
     */
    async revoke(actor: Actor & { id: string }, accountId: string, clientId: string): Promise<void> {
      requirePermission(await deps.access.get(db, accountId, actor.id), "security:manage");
      await transact(db, async (trx) => {
        const app = await repository.find(trx, accountId, clientId);
        if (!app) throw notFound("Connected app");
        const authorizations = await repository.revoke(trx, accountId, clientId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "oidc.app_revoked",
            targetType: "oidc_client",
            targetId: clientId,
            changes: { name: app.name, scopes: app.scopes, members: app.members, authorizations },
          },
          clock.now(),
        );
      });
    },
  };
}

export type ConnectedAppsService = ReturnType<typeof createConnectedAppsService>;
