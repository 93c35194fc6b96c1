import { readFileSync } from "node:fs";
import { recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import type { Db } from "../db/database.js";
import { encryptSecret } from "../lib/crypto.js";
import { OIDC_SCOPES } from "./oidc.clients.repository.js";
import { GRANT_TYPES, urlProblem } from "./oidc-clients-cli.js";

/**
 * OIDC_CLIENTS: clients declared in a JSON file, applied at every start-up (declarative setups):
 *
 *   { "clients": [ { "client_id": "notes", "name": "Notes", "party": "first",
 *       "client_secret": "…at least 32 characters…" (or "public": true),
 *       "redirect_uris": ["https://notes.example/callback"], "post_logout_redirect_uris": […],
 *       "grant_types": ["authorization_code", "refresh_token"], "backchannel_logout_uri": "…",
 *       "logo_uri": "…" } ] }
 *
 * Listed clients are created or updated (their secret sealed with SECRET_KEY); clients the file created
 * earlier and no longer lists are removed with their grants and tokens. Clients registered with the CLI are
 * never touched, and a file entry may not take a CLI client's id. Each change is audited.
 */
export class ClientsFileError extends Error {}

type Entry = {
  client_id: string;
  name: string;
  party: "first" | "third";
  client_secret: string | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  backchannel_logout_uri: string | null;
  logo_uri: string | null;
};

function parseEntries(path: string, text: string): Entry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ClientsFileError(`OIDC_CLIENTS ${path}: not JSON (${(error as Error).message})`);
  }
  const list = (data as { clients?: unknown })?.clients;
  if (!Array.isArray(list)) throw new ClientsFileError(`OIDC_CLIENTS ${path}: expected {"clients": [...]}`);
  const seen = new Set<string>();
  return list.map((raw, i) => {
    const at = `OIDC_CLIENTS ${path}: clients[${i}]`;
    const e = (raw ?? {}) as Record<string, unknown>;
    const str = (key: string) => (typeof e[key] === "string" ? (e[key] as string) : undefined);
    const strings = (key: string, fallback: string[] = []) => {
      const value = e[key] ?? fallback;
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
        throw new ClientsFileError(`${at}.${key}: a list of strings`);
      return value as string[];
    };
    const clientId = str("client_id");
    if (!clientId || !/^[\w.:-]{3,100}$/.test(clientId))
      throw new ClientsFileError(`${at}.client_id: 3–100 letters, digits, _ . : -`);
    if (seen.has(clientId)) throw new ClientsFileError(`${at}.client_id: ${clientId} is listed twice`);
    seen.add(clientId);
    const name = str("name")?.trim();
    if (!name || name.length > 120) throw new ClientsFileError(`${at}.name: 1–120 characters`);
    const party = str("party") ?? "first";
    if (party !== "first" && party !== "third") throw new ClientsFileError(`${at}.party: first or third`);
    const isPublic = e.public === true;
    const secret = str("client_secret") ?? null;
    if (isPublic && secret) throw new ClientsFileError(`${at}: a public client has no client_secret`);
    if (!isPublic && (!secret || secret.length < 32))
      throw new ClientsFileError(`${at}.client_secret: at least 32 characters (or "public": true)`);
    const redirectUris = strings("redirect_uris");
    if (redirectUris.length === 0) throw new ClientsFileError(`${at}.redirect_uris: at least one`);
    const grantTypes = strings("grant_types", ["authorization_code", "refresh_token"]);
    const unknown = grantTypes.find((g) => !GRANT_TYPES.has(g));
    if (unknown) throw new ClientsFileError(`${at}.grant_types: ${unknown} is not supported`);
    if (isPublic && grantTypes.includes("client_credentials"))
      throw new ClientsFileError(`${at}: a public client cannot use client_credentials`);
    const postLogout = strings("post_logout_redirect_uris");
    const backchannel = str("backchannel_logout_uri") ?? null;
    const logo = str("logo_uri") ?? null;
    const problems = [
      ...redirectUris.map((u) => urlProblem("redirect_uris", u)),
      ...postLogout.map((u) => urlProblem("post_logout_redirect_uris", u)),
      backchannel ? urlProblem("backchannel_logout_uri", backchannel) : undefined,
      logo ? urlProblem("logo_uri", logo) : undefined,
    ].filter((p): p is string => p !== undefined);
    if (problems.length) throw new ClientsFileError(`${at}: ${problems.join("; ")}`);
    return {
      client_id: clientId,
      name,
      party,
      client_secret: secret,
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogout,
      grant_types: grantTypes,
      backchannel_logout_uri: backchannel,
      logo_uri: logo,
    };
  });
}

/** Applies the file; answers what changed. Throws ClientsFileError (start-up stops) on a bad file. */
export async function applyClientsFile(
  db: Db,
  deps: { secretKey: Buffer; now: Date },
  path: string,
): Promise<{ added: string[]; updated: string[]; removed: string[] }> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ClientsFileError(`OIDC_CLIENTS ${path}: cannot be read (${(error as Error).message})`);
  }
  const entries = parseEntries(path, text);
  const at = deps.now.toISOString();
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom("oidc_clients").select(["client_id", "source"]).execute();
    const sources = new Map(existing.map((r) => [r.client_id, r.source]));
    const added: string[] = [];
    const updated: string[] = [];
    for (const e of entries) {
      if (sources.get(e.client_id) === "cli")
        throw new ClientsFileError(
          `OIDC_CLIENTS ${path}: ${e.client_id} is registered with the CLI; remove it there or use another id`,
        );
      const values = {
        name: e.name,
        secret_sealed: e.client_secret === null ? null : encryptSecret(deps.secretKey, e.client_secret),
        party: e.party,
        redirect_uris: JSON.stringify(e.redirect_uris),
        post_logout_redirect_uris: JSON.stringify(e.post_logout_redirect_uris),
        grant_types: JSON.stringify(e.grant_types),
        scopes: JSON.stringify([...OIDC_SCOPES]),
        backchannel_logout_uri: e.backchannel_logout_uri,
        logo_uri: e.logo_uri,
        source: "file" as const,
        updated_at: at,
      };
      if (sources.has(e.client_id)) {
        await trx.updateTable("oidc_clients").set(values).where("client_id", "=", e.client_id).execute();
        updated.push(e.client_id);
      } else {
        await trx
          .insertInto("oidc_clients")
          .values({ client_id: e.client_id, created_at: at, ...values })
          .execute();
        added.push(e.client_id);
      }
    }
    const listed = new Set(entries.map((e) => e.client_id));
    const removed = existing
      .filter((r) => r.source === "file" && !listed.has(r.client_id))
      .map((r) => r.client_id);
    for (const clientId of removed) {
      await trx
        .deleteFrom("oidc_payloads")
        .where("grant_id", "in", (eb) =>
          eb.selectFrom("oidc_authorizations").select("grant_id").where("client_id", "=", clientId),
        )
        .execute();
      await trx.deleteFrom("oidc_clients").where("client_id", "=", clientId).execute();
    }
    const audit = (action: string, clientId: string) =>
      recordAudit(
        trx,
        SYSTEM_ACTOR,
        {
          accountId: null,
          action,
          targetType: "oidc_client",
          targetId: clientId,
          changes: { source: "OIDC_CLIENTS" },
        },
        deps.now,
      );
    for (const id of added) await audit("oidc.client_added", id);
    for (const id of removed) await audit("oidc.client_removed", id);
    return { added, updated, removed };
  });
}
