import type { Executor } from "../db/database.js";

/** A third-party client as an account sees it: what its members granted it, taken together. */
export type ConnectedApp = {
  clientId: string;
  name: string;
  logoUri: string | null;
  /** Every scope any member of the account granted it, sorted. */
  scopes: string[];
  /** How many of the account's members authorized it. */
  members: number;
  /** The newest of those authorizations (created or renewed). */
  lastAuthorizedAt: string;
};

/** Settings → Connected apps: the oidc_authorizations of one account, third-party clients only. */
export function createConnectedAppsRepository() {
  const authorizationsOf = (db: Executor, accountId: string) =>
    db
      .selectFrom("oidc_authorizations as a")
      .innerJoin("oidc_clients as c", "c.client_id", "a.client_id")
      .where("a.account_id", "=", accountId)
      .where("c.party", "=", "third");

  return {
    async list(db: Executor, accountId: string): Promise<ConnectedApp[]> {
      const rows = await authorizationsOf(db, accountId)
        .select(["c.client_id", "c.name", "c.logo_uri", "a.user_id", "a.scopes", "a.updated_at"])
        .execute();
      const apps = new Map<string, ConnectedApp & { users: Set<string>; scopeSet: Set<string> }>();
      for (const row of rows) {
        let app = apps.get(row.client_id);
        if (!app) {
          app = {
            clientId: row.client_id,
            name: row.name,
            logoUri: row.logo_uri,
            scopes: [],
            members: 0,
            lastAuthorizedAt: row.updated_at,
            users: new Set(),
            scopeSet: new Set(),
          };
          apps.set(row.client_id, app);
        }
        app.users.add(row.user_id);
        for (const scope of row.scopes.split(" ")) if (scope) app.scopeSet.add(scope);
        if (row.updated_at > app.lastAuthorizedAt) app.lastAuthorizedAt = row.updated_at;
      }
      return [...apps.values()]
        .map(({ users, scopeSet, ...app }) => ({ ...app, scopes: [...scopeSet].sort(), members: users.size }))
        .sort((a, b) => a.name.localeCompare(b.name) || a.clientId.localeCompare(b.clientId));
    },

    async find(db: Executor, accountId: string, clientId: string): Promise<ConnectedApp | undefined> {
      return (await this.list(db, accountId)).find((app) => app.clientId === clientId);
    },

    /**
     * Deletes the account's authorizations of a third-party client and oidc-provider's rows of those
     * grants (the grants themselves, codes, refresh tokens); returns how many authorizations went.
     */
    async revoke(trx: Executor, accountId: string, clientId: string): Promise<number> {
      const grantIds = authorizationsOf(trx, accountId)
        .where("a.client_id", "=", clientId)
        .select("a.grant_id");
      await trx
        .deleteFrom("oidc_payloads")
        .where((eb) =>
          eb.or([
            eb("grant_id", "in", grantIds),
            eb.and([eb("kind", "=", "Grant"), eb("id", "in", grantIds)]),
          ]),
        )
        .execute();
      const deleted = await trx
        .deleteFrom("oidc_authorizations")
        .where("account_id", "=", accountId)
        .where("client_id", "=", clientId)
        .where("grant_id", "in", grantIds)
        .executeTakeFirst();
      return Number(deleted.numDeletedRows);
    },
  };
}

export type ConnectedAppsRepository = ReturnType<typeof createConnectedAppsRepository>;
