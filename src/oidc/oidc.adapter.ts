import type { Adapter, AdapterPayload } from "oidc-provider";
import type { Db } from "../db/database.js";
import type { OidcClientsRepository } from "./oidc.clients.repository.js";

/**
 * oidc-provider's storage on the database (table oidc_payloads, one row per model instance), so every
 * process sees every session, code, token and grant. Clients are not stored here: the "Client" model
 * reads the operator-registered clients (oidc_clients). Expiry follows oidc-provider's own clock
 * (wall time): an expired row is never returned and the purge job deletes it.
 */
export function createAdapterFactory(deps: { db: Db; clients: OidcClientsRepository }) {
  const { db } = deps;
  type Row = { payload: string; consumed_at: string | null; expires_at: string | null };
  const live = (row: Row | undefined) => {
    const now = new Date().toISOString();
    return row && (row.expires_at === null || row.expires_at > now) ? row : undefined;
  };

  const toPayload = (row: { payload: string; consumed_at: string | null } | undefined) => {
    if (!row) return undefined;
    const payload = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at) payload.consumed = Math.floor(Date.parse(row.consumed_at) / 1000);
    return payload;
  };

  class ClientAdapter implements Adapter {
    async upsert(): Promise<void> {
      throw new Error("clients are registered by operators (gatehouse oidc clients add)");
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      return deps.clients.providerMetadata(db, id);
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async consume(): Promise<void> {}
    async destroy(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }

  class PayloadAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const row = {
        kind: this.kind,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        uid: payload.uid ?? null,
        user_code: payload.userCode ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000).toISOString() : null,
        consumed_at: null,
      };
      await db
        .insertInto("oidc_payloads")
        .values(row)
        .onConflict((oc) =>
          oc.columns(["kind", "id"]).doUpdateSet({
            payload: row.payload,
            grant_id: row.grant_id,
            uid: row.uid,
            user_code: row.user_code,
            expires_at: row.expires_at,
          }),
        )
        .execute();
    }

    private select() {
      return db
        .selectFrom("oidc_payloads")
        .select(["payload", "consumed_at", "expires_at"])
        .where("kind", "=", this.kind);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const row = await this.select().where("id", "=", id).executeTakeFirst();
      return toPayload(live(row));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const row = await this.select().where("uid", "=", uid).executeTakeFirst();
      return toPayload(live(row));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const row = await this.select().where("user_code", "=", userCode).executeTakeFirst();
      return toPayload(live(row));
    }

    async consume(id: string): Promise<void> {
      await db
        .updateTable("oidc_payloads")
        .set({ consumed_at: new Date().toISOString() })
        .where("kind", "=", this.kind)
        .where("id", "=", id)
        .execute();
    }

    async destroy(id: string): Promise<void> {
      await db.deleteFrom("oidc_payloads").where("kind", "=", this.kind).where("id", "=", id).execute();
    }

    /** Every model of the grant (codes, tokens, the grant itself), whatever this adapter's kind. */
    async revokeByGrantId(grantId: string): Promise<void> {
      await db.deleteFrom("oidc_payloads").where("grant_id", "=", grantId).execute();
    }
  }

  return function adapterFor(name: string): Adapter {
    return name === "Client" ? new ClientAdapter() : new PayloadAdapter(name);
  };
}

/** Deletes oidc-provider rows past their expiry (the job loop's `oidc-purge` job). */
export async function purgeExpiredPayloads(db: Db, now: Date): Promise<number> {
  const result = await db
    .deleteFrom("oidc_payloads")
    .where("expires_at", "<=", now.toISOString())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
