import type { FastifyBaseLogger } from "fastify";
import type { JWK } from "jose";
import Provider, {
  type Configuration,
  errors,
  type GrantModel,
  interactionPolicy,
  type KoaContextWithOIDC,
} from "oidc-provider";
import type { LoginThrottle } from "../auth/login-throttle.js";
import type { Config } from "../config.js";
import type { Db } from "../db/database.js";
import { hmac } from "../lib/crypto.js";
import { type AccessTokenVerifier, createAccessTokenVerifier } from "./oidc.access-tokens.js";
import { createAdapterFactory } from "./oidc.adapter.js";
import { loadClaims, SCOPE_CLAIMS } from "./oidc.claims.js";
import { OIDC_SCOPES, type OidcClientsRepository } from "./oidc.clients.repository.js";
import { loadSigningKeys, SIGNING_ALG } from "./oidc.keys.js";
import { answerServerErrors } from "./oidc.server-errors.js";
import { createTokenThrottle } from "./oidc.token-throttle.js";

/** The provider's path under PUBLIC_URL (the issuer is `${PUBLIC_URL}/oidc`). */
export const OIDC_MOUNT = "/oidc";
/** Binds an interaction to the browser that started it: the interaction API checks it on complete. */
export const INTERACTION_COOKIE = "gatehouse_oidc_interaction";
/** Scopes of the API resource (`${PUBLIC_URL}/api`): what an access token can carry. */
export const API_SCOPES = ["gatehouse:account", "gatehouse:accounts", "gatehouse:authz"] as const;
/** The prompt a client sends to have the user choose the account again (answered on /authorize/{uid}). */
export const SELECT_ACCOUNT_PROMPT = "select_account";
/** ID-token lifetime: with the access-token lifetime, how long a retired signing key stays published. */
export const ID_TOKEN_TTL_SECONDS = 3600;

export function apiAudience(publicUrl: string): string {
  return `${publicUrl}/api`;
}

export function interactionBinding(secretKey: Buffer, uid: string): string {
  return hmac(secretKey, `oidc-interaction:${uid}`);
}

export type OidcProviderDeps = {
  config: Config;
  db: Db;
  clients: OidcClientsRepository;
  /** The user of the Gatehouse session cookie's value, when it is a live session. */
  sessionUser: (cookie: string) => Promise<string | undefined>;
  accessTokenTtl: number;
  /** The instant keys are loaded at (keys whose publication ended are left out). */
  now: () => Date;
  log: FastifyBaseLogger;
  /** Counts failed client authentication and invalid codes at the token endpoints (oidc.token-throttle.ts). */
  throttle: LoginThrottle;
};

/** A provider for one set of signing keys, with the access-token verifier for the same keys. */
type Built = {
  provider: Provider;
  /** The provider's Node request handler (made once: it composes the middleware). */
  callback: ReturnType<Provider["callback"]>;
  accessTokens: AccessTokenVerifier;
  kids: string[];
  /** The current key (private JWK): what the provider signs with. */
  signingKey: JWK;
};

/**
 * This process's OpenID Connect provider for the signing keys in force. oidc-provider takes its keys at
 * construction, so when the keys change (a rotation, oidc.key-rotation.ts) `reload` builds a new provider
 * and access-token verifier. Every user (the mount, the interaction routes, the Bearer hook) asks for
 * the current one on each request; a request in flight finishes on the one it started with.
 */
export async function createOidcProvider(deps: OidcProviderDeps) {
  const loadKeys = () => loadSigningKeys(deps.db, deps.config.secretKey, deps.now());
  const build = (keys: JWK[]): Built => {
    const kids = keys.map((k) => k.kid ?? "");
    const signingKey = { ...(keys[0] as JWK) };
    const { provider, accessTokens } = buildOidcProvider(deps, keys);
    return { provider, callback: provider.callback(), accessTokens, kids, signingKey };
  };
  let current = build(await loadKeys());
  // One reload at a time, in the order asked: the last one reads the keys after the last change.
  let reloading: Promise<void> = Promise.resolve();

  return {
    provider: () => current.provider,
    callback: () => current.callback,
    /** The kids of the published keys, current key first. */
    kids: () => current.kids,
    /** The key this process's provider signs with, for tokens Gatehouse signs itself (logout tokens). */
    signingKey: () => current.signingKey,
    accessTokens: {
      verify: (token: string) => current.accessTokens.verify(token),
    } satisfies AccessTokenVerifier,
    /** Loads the keys again; builds a new provider only when they differ from the ones in use. */
    reload(): Promise<void> {
      reloading = reloading
        .catch(() => {})
        .then(async () => {
          const keys = await loadKeys();
          if (keys.map((k) => k.kid ?? "").join(" ") !== current.kids.join(" ")) current = build(keys);
        });
      return reloading;
    },
  };
}

export type OidcProvider = Awaited<ReturnType<typeof createOidcProvider>>;

/**
 * oidc-provider configured for Gatehouse: storage on the database, operator-registered clients, keys from
 * oidc_signing_keys, claims computed from the database at issue time, the web app as login UI.
 */
function buildOidcProvider(
  deps: OidcProviderDeps,
  keys: JWK[],
): { provider: Provider; accessTokens: AccessTokenVerifier } {
  const { config, db } = deps;
  const audience = apiAudience(config.publicUrl);
  const accessTokens = createAccessTokenVerifier({
    issuer: `${config.publicUrl}${OIDC_MOUNT}`,
    audience,
    keys,
  });

  const policy = interactionPolicy.base() as Array<{
    name: string;
    checks: { add(check: unknown): void };
  }> & {
    get(name: string): { checks: unknown[] };
    add(prompt: unknown, index?: number): void;
  };
  const PromptClass = interactionPolicy.Prompt as new (options: {
    name: string;
    requestable: boolean;
  }) => unknown;
  const CheckClass = interactionPolicy.Check as new (
    reason: string,
    description: string,
    check: (ctx: KoaContextWithOIDC) => Promise<boolean>,
  ) => unknown;
  // The provider's own session never outlives the Gatehouse one: no Gatehouse session, or another user's,
  // sends the browser to the login UI again.
  (policy.get("login").checks as unknown[]).push(
    new CheckClass("gatehouse_session", "The Gatehouse session ended or changed", async (ctx) => {
      const accountId = ctx.oidc.session.accountId as string | undefined;
      if (!accountId) return true;
      const cookie = ctx.cookies.get("gatehouse_session") as string | undefined;
      const userId = cookie ? await deps.sessionUser(cookie) : undefined;
      return userId !== accountId;
    }),
  );

  // `prompt=select_account` (a client's "switch account"): the user chooses the account to act in again,
  // on the same page as the sign-in; the interaction routes resolve it with the choice.
  policy.add(new PromptClass({ name: SELECT_ACCOUNT_PROMPT, requestable: true }), 1);

  const configuration: Configuration = {
    adapter: createAdapterFactory({ db, clients: deps.clients }),
    jwks: { keys },
    cookies: {
      keys: [hmac(config.secretKey, "oidc-cookies")],
      long: { signed: true, secure: config.secureCookies },
      short: { signed: true, secure: config.secureCookies },
    },
    scopes: [...OIDC_SCOPES],
    claims: Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    // ID tokens of the code flow carry the scopes' claims too (clients read the account from them).
    conformIdTokenClaims: false,
    findAccount: async (ctx: KoaContextWithOIDC, sub: string, token?: { grantId?: string }) => {
      const grantId = token?.grantId ?? ctx?.oidc?.entities?.Grant?.jti;
      const claims = await loadClaims(db, config.publicUrl, sub, grantId);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => claims };
    },
    interactions: {
      policy,
      url: async (ctx: KoaContextWithOIDC, interaction: { uid: string }) => {
        ctx.cookies.set(INTERACTION_COOKIE, interactionBinding(config.secretKey, interaction.uid), {
          path: `/api/v1/oidc/interactions/${interaction.uid}`,
          httpOnly: true,
          sameSite: "lax",
          signed: false,
          secure: config.secureCookies,
          maxAge: 3600 * 1000,
        });
        return `${config.publicUrl}/authorize/${interaction.uid}`;
      },
    },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const grantId =
        ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (!grantId) return undefined;
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (!grant) return undefined;
      // A first-party client never shows consent: what it asks for now is added to its grant.
      const client = await deps.clients.find(db, ctx.oidc.client.clientId);
      if (client?.party === "first" && ctx.oidc.params.scope) {
        const requested = String(ctx.oidc.params.scope).split(" ");
        grant.addOIDCScope(requested.filter((s) => (OIDC_SCOPES as readonly string[]).includes(s)).join(" "));
        const api = requested.filter((s) => (API_SCOPES as readonly string[]).includes(s));
        if (api.length) grant.addResourceScope(audience, api.join(" "));
        await grant.save();
      }
      return grant;
    },
    pkce: {
      required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === "none",
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (
      _ctx: unknown,
      client: { grantTypeAllowed(type: string): boolean },
      code: { scopes: Set<string> },
    ) => client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
    ttl: {
      AccessToken: deps.accessTokenTtl,
      ClientCredentials: deps.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: ID_TOKEN_TTL_SECONDS,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      // A client introspects its own tokens; a host product's backend (a client allowed client
      // credentials) also the tokens of the product's other clients.
      introspection: {
        enabled: true,
        allowedPolicy: async (
          _ctx: unknown,
          client: { clientId: string; grantTypeAllowed(type: string): boolean },
          token: { clientId: string },
        ) => token.clientId === client.clientId || client.grantTypeAllowed("client_credentials"),
      },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== audience) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES.join(" "),
            audience,
            accessTokenTTL: deps.accessTokenTtl,
            accessTokenFormat: "jwt",
            jwt: { sign: { alg: SIGNING_ALG } },
          };
        },
      },
    },
    // A user's access token carries the claims its grant's scopes release (computed now, like the ID
    // token's): resource servers (the SDK's middleware) answer from the token alone, and a role change
    // shows in the token of the next refresh. `account_id` always: the API scopes the token to it.
    extraTokenClaims: async (
      ctx: KoaContextWithOIDC,
      token: { kind: string; grantId?: string; accountId?: string; scope?: string },
    ) => {
      if (token.kind !== "AccessToken" || !token.grantId || !token.accountId) return undefined;
      // The token endpoint has loaded the account (findAccount) and the grant already: no second query.
      const account = ctx.oidc.account as
        | { accountId: string; claims(): Promise<Record<string, unknown>> }
        | undefined;
      const claims =
        account?.accountId === token.accountId
          ? await account.claims()
          : await loadClaims(db, config.publicUrl, token.accountId, token.grantId);
      if (!claims) return undefined;
      const found = ctx.oidc.entities.Grant as GrantModel | undefined;
      const grant =
        found?.jti === token.grantId
          ? found
          : await (ctx.oidc.provider as Provider).Grant.find(token.grantId);
      const scopes = new Set(`${grant?.getOIDCScope() ?? ""} ${token.scope ?? ""}`.split(" "));
      const released = Object.entries(SCOPE_CLAIMS)
        .filter(([scope]) => scopes.has(scope))
        .flatMap(([, names]) => names.filter((name) => name !== "sub"));
      const extra: Record<string, unknown> = {};
      for (const name of ["account_id", ...released])
        if (claims[name] !== undefined) extra[name] = claims[name];
      return extra;
    },
    enabledJWA: { idTokenSigningAlgValues: [SIGNING_ALG] },
    clientDefaults: {
      grant_types: ["authorization_code"],
      id_token_signed_response_alg: SIGNING_ALG,
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
    renderError: async (ctx: KoaContextWithOIDC, out: Record<string, string>) => {
      ctx.type = "json";
      ctx.body = out;
    },
  };

  const provider = new Provider(`${config.publicUrl}${OIDC_MOUNT}`, configuration);
  // The mount (oidc.mount.ts) replaces the forwarded headers: X-Forwarded-For is the client address
  // Fastify resolved under TRUST_PROXY, X-Forwarded-Proto PUBLIC_URL's scheme.
  provider.proxy = true;
  provider.maxIpsCount = 1;
  answerServerErrors(provider, deps.log);
  provider.use(createTokenThrottle(deps.throttle));
  // The provider's session id for this client (`sid` of ID and logout tokens), known once the
  // authorization succeeds: kept with the authorization for back-channel logout.
  provider.on("authorization.success", (ctx: KoaContextWithOIDC) => {
    const clientId = ctx.oidc.client?.clientId as string | undefined;
    const session = ctx.oidc.session;
    const grantId = clientId && session ? (session.grantIdFor(clientId) as string | undefined) : undefined;
    const sid = clientId && session ? (session.sidFor(clientId) as string | undefined) : undefined;
    if (!grantId || !sid) return;
    db.updateTable("oidc_authorizations")
      .set({ sid })
      .where("grant_id", "=", grantId)
      .execute()
      .catch((error: unknown) => ctx.app?.emit?.("error", error));
  });
  return { provider, accessTokens };
}
