import { randomBytes } from "node:crypto";
import type { Selectable } from "kysely";
import type { Executor } from "../db/database.js";
import type { OidcClientsTable } from "../db/tables.js";
import { decryptSecret, encryptSecret } from "../lib/crypto.js";

export type OidcClient = {
  clientId: string;
  name: string;
  /** Public clients (no secret) authenticate with PKCE only. */
  confidential: boolean;
  party: "first" | "third";
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  backchannelLogoutUri: string | null;
  logoUri: string | null;
  source: "cli" | "file";
  createdAt: string;
  updatedAt: string;
};

export type NewOidcClient = {
  clientId?: string;
  name: string;
  /** false: a public client (single-page or native app). */
  confidential: boolean;
  party: "first" | "third";
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: string[];
  scopes?: string[];
  backchannelLogoutUri?: string | null;
  logoUri?: string | null;
  source?: "cli" | "file";
};

export const OIDC_SCOPES = [
  "openid",
  "profile",
  "email",
  "offline_access",
  "gatehouse:account",
  "gatehouse:accounts",
] as const;

type Row = Selectable<OidcClientsTable> & { secret_sealed: string | null };

function toClient(row: Row): OidcClient {
  return {
    clientId: row.client_id,
    name: row.name,
    confidential: row.secret_sealed !== null,
    party: row.party,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grantTypes: JSON.parse(row.grant_types) as string[],
    scopes: JSON.parse(row.scopes) as string[],
    backchannelLogoutUri: row.backchannel_logout_uri,
    logoUri: row.logo_uri,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const newSecret = () => randomBytes(32).toString("base64url");

/**
 * Relying parties registered by operators. The secret is sealed with SECRET_KEY (oidc-provider compares
 * the presented secret with the plain one), shown once by `add` and `rotateSecret`.
 */
export function createOidcClientsRepository(deps: { secretKey: Buffer; now: () => Date }) {
  const secretOf = async (db: Executor, clientId: string) => {
    const row = await db
      .selectFrom("oidc_clients")
      .select("secret_sealed")
      .where("client_id", "=", clientId)
      .executeTakeFirst();
    return row?.secret_sealed ?? null;
  };

  return {
    async add(db: Executor, input: NewOidcClient): Promise<{ client: OidcClient; secret: string | null }> {
      const now = deps.now().toISOString();
      const secret = input.confidential ? newSecret() : null;
      const grantTypes = input.grantTypes ?? ["authorization_code", "refresh_token"];
      const row: Row = {
        client_id: input.clientId ?? `cl_${randomBytes(12).toString("base64url")}`,
        name: input.name,
        secret_sealed: secret === null ? null : encryptSecret(deps.secretKey, secret),
        party: input.party,
        redirect_uris: JSON.stringify(input.redirectUris),
        post_logout_redirect_uris: JSON.stringify(input.postLogoutRedirectUris ?? []),
        grant_types: JSON.stringify(grantTypes),
        scopes: JSON.stringify(input.scopes ?? [...OIDC_SCOPES]),
        backchannel_logout_uri: input.backchannelLogoutUri ?? null,
        logo_uri: input.logoUri ?? null,
        source: input.source ?? "cli",
        created_at: now,
        updated_at: now,
      };
      await db.insertInto("oidc_clients").values(row).execute();
      return { client: toClient(row), secret };
    },

    async find(db: Executor, clientId: string): Promise<OidcClient | undefined> {
      const row = await db
        .selectFrom("oidc_clients")
        .selectAll()
        .where("client_id", "=", clientId)
        .executeTakeFirst();
      return row && toClient(row);
    },

    async list(db: Executor): Promise<OidcClient[]> {
      const rows = await db.selectFrom("oidc_clients").selectAll().orderBy("created_at").execute();
      return rows.map(toClient);
    },

    async remove(db: Executor, clientId: string): Promise<boolean> {
      await db
        .deleteFrom("oidc_payloads")
        .where("grant_id", "in", (eb) =>
          eb.selectFrom("oidc_authorizations").select("grant_id").where("client_id", "=", clientId),
        )
        .execute();
      const result = await db.deleteFrom("oidc_clients").where("client_id", "=", clientId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** A new secret (the old one stops working at once); undefined for an unknown or public client. */
    async rotateSecret(db: Executor, clientId: string): Promise<string | undefined> {
      if ((await secretOf(db, clientId)) === null) return undefined;
      const secret = newSecret();
      await db
        .updateTable("oidc_clients")
        .set({ secret_sealed: encryptSecret(deps.secretKey, secret), updated_at: deps.now().toISOString() })
        .where("client_id", "=", clientId)
        .execute();
      return secret;
    },

    /** The client as oidc-provider's metadata (its secret unsealed, for the provider only). */
    async providerMetadata(db: Executor, clientId: string): Promise<Record<string, unknown> | undefined> {
      const row = await db
        .selectFrom("oidc_clients")
        .selectAll()
        .where("client_id", "=", clientId)
        .executeTakeFirst();
      if (!row) return undefined;
      const client = toClient(row);
      const sealed = row.secret_sealed;
      const responseTypes = client.grantTypes.includes("authorization_code") ? ["code"] : [];
      return {
        client_id: client.clientId,
        client_name: client.name,
        ...(client.confidential && sealed
          ? {
              client_secret: decryptSecret(deps.secretKey, sealed),
              token_endpoint_auth_method: "client_secret_basic",
            }
          : { token_endpoint_auth_method: "none" }),
        redirect_uris: client.redirectUris,
        post_logout_redirect_uris: client.postLogoutRedirectUris,
        grant_types: client.grantTypes,
        response_types: responseTypes,
        scope: client.scopes.join(" "),
        ...(client.logoUri ? { logo_uri: client.logoUri } : {}),
        ...(client.backchannelLogoutUri
          ? { backchannel_logout_uri: client.backchannelLogoutUri, backchannel_logout_session_required: true }
          : {}),
      };
    },
  };
}

export type OidcClientsRepository = ReturnType<typeof createOidcClientsRepository>;
