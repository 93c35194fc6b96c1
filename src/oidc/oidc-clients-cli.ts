import { parseArgs } from "node:util";
import { recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import type { Db } from "../db/database.js";
import type { OidcClient, OidcClientsRepository } from "./oidc.clients.repository.js";
import type { OidcKeyRotation } from "./oidc.key-rotation.js";

export const OIDC_USAGE = `Usage: gatehouse oidc clients add --name NAME --redirect-uri URL [--redirect-uri URL…]
           [--party first|third] [--public] [--post-logout-redirect-uri URL…]
           [--backchannel-logout-uri URL] [--grant-type TYPE…] [--logo-uri URL] [--json]
       gatehouse oidc clients list [--json]
       gatehouse oidc clients remove CLIENT_ID
       gatehouse oidc clients rotate-secret CLIENT_ID
       gatehouse oidc keys rotate

  add            register a relying party; a confidential client's secret is printed once
                 (--public: no secret, PKCE only). First-party clients skip the consent screen;
                 third-party ones show it and are listed under Settings → Connected apps.
                 Grant types: authorization_code and refresh_token by default; client_credentials
                 for a backend that introspects tokens and calls POST /api/v1/authz/check.
  list           every client (never secrets)
  remove         delete a client with its grants and tokens
  rotate-secret  a new secret, printed once; the old one stops working at once
  keys rotate    a new signing key now (the oidc-key-rotation job makes one every
                 OIDC_KEY_ROTATION_DAYS); the old key stays published until every token it
                 signed has expired`;

type Out = { log(line: string): void; error(line: string): void };

export const GRANT_TYPES = new Set(["authorization_code", "refresh_token", "client_credentials"]);

/** An absolute http(s) URL without a fragment, or the reason it is not one. */
export function urlProblem(flag: string, value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== "https:" && url.protocol !== "http:")
      return `${flag}: ${value} is not an http(s) URL`;
    if (url.hash) return `${flag}: ${value} may not have a #fragment`;
    return undefined;
  } catch {
    return `${flag}: ${value} is not a full URL`;
  }
}

function view(client: OidcClient) {
  return {
    client_id: client.clientId,
    name: client.name,
    party: client.party,
    confidential: client.confidential,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    grant_types: client.grantTypes,
    backchannel_logout_uri: client.backchannelLogoutUri,
    source: client.source,
    created_at: client.createdAt,
  };
}

/** `gatehouse oidc clients …`, `gatehouse oidc keys rotate`; returns the exit code (0 done, 1 not found, 2 bad usage). */
export async function runOidcCommand(
  args: string[],
  services: {
    db: Db;
    oidcClients: OidcClientsRepository;
    oidcKeyRotation: OidcKeyRotation;
    clock: { now(): Date };
  },
  out: Out = console,
): Promise<number> {
  const usage = (problem: string) => {
    out.error(`${problem}\n\n${OIDC_USAGE}`);
    return 2;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  const [group, command, ...rest] = parsed.positionals;
  if (group === "keys") return rotateKeys(command, rest, services, out, usage);
  if (group !== "clients") return usage(group ? `Unknown oidc command: ${group}` : "Missing oidc command");
  const v = parsed.values;
  const { db, oidcClients } = services;
  const audit = (trx: Db, action: string, clientId: string, changes?: Record<string, unknown>) =>
    recordAudit(
      trx,
      SYSTEM_ACTOR,
      {
        accountId: null,
        action,
        targetType: "oidc_client",
        targetId: clientId,
        ...(changes ? { changes } : {}),
      },
      services.clock.now(),
    );

  switch (command) {
    case "add": {
      if (rest.length) return usage(`Unexpected argument: ${rest.join(" ")}`);
      const name = v.name?.trim();
      if (!name || name.length > 120) return usage("oidc clients add needs --name (1–120 characters)");
      const redirectUris = v["redirect-uri"] ?? [];
      if (redirectUris.length === 0) return usage("oidc clients add needs at least one --redirect-uri");
      const party = v.party ?? "first";
      if (party !== "first" && party !== "third") return usage("--party is first or third");
      const grantTypes = v["grant-type"] ?? ["authorization_code", "refresh_token"];
      const unknownGrant = grantTypes.find((g) => !GRANT_TYPES.has(g));
      if (unknownGrant)
        return usage(`--grant-type ${unknownGrant} is not one of ${[...GRANT_TYPES].join(", ")}`);
      if (v.public && grantTypes.includes("client_credentials"))
        return usage("a --public client cannot use client_credentials (it has no secret)");
      const problems = [
        ...redirectUris.map((u) => urlProblem("--redirect-uri", u)),
        ...(v["post-logout-redirect-uri"] ?? []).map((u) => urlProblem("--post-logout-redirect-uri", u)),
        v["backchannel-logout-uri"]
          ? urlProblem("--backchannel-logout-uri", v["backchannel-logout-uri"])
          : undefined,
        v["logo-uri"] ? urlProblem("--logo-uri", v["logo-uri"]) : undefined,
      ].filter((p): p is string => p !== undefined);
      if (problems.length) return usage(problems.join("\n"));
      // The client and its audit event in one transaction.
      const { client, secret } = await db.transaction().execute(async (trx) => {
        const added = await oidcClients.add(trx, {
          name,
          confidential: !v.public,
          party,
          redirectUris,
          postLogoutRedirectUris: v["post-logout-redirect-uri"] ?? [],
          grantTypes,
          backchannelLogoutUri: v["backchannel-logout-uri"] ?? null,
          logoUri: v["logo-uri"] ?? null,
          source: "cli",
        });
        await audit(trx, "oidc.client_added", added.client.clientId, {
          name,
          party,
          grant_types: grantTypes,
        });
        return added;
      });
      if (v.json) out.log(JSON.stringify({ ...view(client), client_secret: secret }, null, 2));
      else {
        out.log(`Registered ${client.name}: client_id ${client.clientId}`);
        if (secret) out.log(`Client secret (shown once): ${secret}`);
        else out.log("Public client: no secret (PKCE only).");
      }
      return 0;
    }
    case "list": {
      if (rest.length) return usage(`Unexpected argument: ${rest.join(" ")}`);
      const clients = await oidcClients.list(db);
      if (v.json) {
        out.log(JSON.stringify(clients.map(view), null, 2));
        return 0;
      }
      if (clients.length === 0) {
        out.log("No OpenID Connect clients.");
        return 0;
      }
      for (const c of clients)
        out.log(
          `${c.clientId}  ${c.name}  ${c.party}-party  ${c.confidential ? "confidential" : "public"}  ${c.grantTypes.join(",")}  ${c.redirectUris.join(" ")}`,
        );
      return 0;
    }
    case "remove":
    case "rotate-secret": {
      const [clientId, ...extra] = rest;
      if (!clientId || extra.length) return usage(`oidc clients ${command} needs exactly one client id`);
      if (command === "remove") {
        const removed = await db.transaction().execute(async (trx) => {
          const gone = await oidcClients.remove(trx, clientId);
          if (gone) await audit(trx, "oidc.client_removed", clientId);
          return gone;
        });
        if (!removed) {
          out.error(`No OpenID Connect client ${clientId}.`);
          return 1;
        }
        out.log(`Removed ${clientId} with its grants and tokens.`);
        return 0;
      }
      const secret = await db.transaction().execute(async (trx) => {
        const fresh = await oidcClients.rotateSecret(trx, clientId);
        if (fresh) await audit(trx, "oidc.client_secret_rotated", clientId);
        return fresh;
      });
      if (!secret) {
        out.error(`No confidential OpenID Connect client ${clientId}.`);
        return 1;
      }
      out.log(`New client secret for ${clientId} (shown once; the old one no longer works): ${secret}`);
      return 0;
    }
    default:
      return usage(command ? `Unknown oidc clients command: ${command}` : "Missing oidc clients command");
  }
}

/** `gatehouse oidc keys rotate`: the rotation and its audit event in one transaction. */
async function rotateKeys(
  command: string | undefined,
  rest: string[],
  services: Parameters<typeof runOidcCommand>[1],
  out: Out,
  usage: (problem: string) => number,
): Promise<number> {
  if (command !== "rotate")
    return usage(command ? `Unknown oidc keys command: ${command}` : "Missing oidc keys command");
  if (rest.length) return usage(`Unexpected argument: ${rest.join(" ")}`);
  const { rotated } = await services.oidcKeyRotation.rotateNow(async (trx, rotation) => {
    if (!rotation.rotated) return;
    await recordAudit(
      trx,
      SYSTEM_ACTOR,
      {
        accountId: null,
        action: "oidc.signing_key_rotated",
        targetType: "oidc_signing_key",
        targetId: rotation.rotated,
      },
      services.clock.now(),
    );
  });
  if (!rotated) {
    // Another rotation made a key in this very moment; it is the current one.
    out.error("No key was rotated: another rotation ran at the same moment.");
    return 1;
  }
  const minutes = Math.ceil(services.oidcKeyRotation.publishSeconds / 60);
  out.log(
    `New signing key ${rotated}; the previous one stays published ${minutes} minutes (until every token it signed has expired).`,
  );
  return 0;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      party: { type: "string" },
      public: { type: "boolean" },
      "redirect-uri": { type: "string", multiple: true },
      "post-logout-redirect-uri": { type: "string", multiple: true },
      "backchannel-logout-uri": { type: "string" },
      "grant-type": { type: "string", multiple: true },
      "logo-uri": { type: "string" },
      json: { type: "boolean" },
    },
  });
}
