import type { FastifyInstance } from "fastify";
import * as oc from "openid-client";
import type { Client } from "../testing/harness.js";

/** openid-client's HTTP calls answered by the test app (same requests, no socket). */
export function injectFetch(app: FastifyInstance): oc.CustomFetch {
  return async (url, options) => {
    const target = new URL(url);
    const headers: Record<string, string> = {};
    new Headers(options.headers as ConstructorParameters<typeof Headers>[0]).forEach((value, key) => {
      headers[key] = value;
    });
    const response = await app.inject({
      method: (options.method ?? "GET") as "GET",
      url: `${target.pathname}${target.search}`,
      headers,
      ...(options.body ? { payload: options.body.toString() } : {}),
    });
    const out = new Headers();
    for (const [key, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [String(value)]) out.append(key, v);
    }
    const empty = response.statusCode === 204 || response.statusCode === 304;
    return new Response(empty ? null : response.rawPayload, { status: response.statusCode, headers: out });
  };
}

/** Discovers the test app's issuer with openid-client, for one registered client. */
export async function discover(
  app: FastifyInstance,
  issuer: string,
  clientId: string,
  secret: string | null,
): Promise<oc.Configuration> {
  const fetch = injectFetch(app);
  const config = await oc.discovery(
    new URL(issuer),
    clientId,
    secret ? { client_secret: secret } : {},
    secret ? oc.ClientSecretBasic(secret) : oc.None(),
    { execute: [oc.allowInsecureRequests], [oc.customFetch]: fetch },
  );
  config[oc.customFetch] = fetch;
  return config;
}

/** The browser's side: the provider's cookies plus the Gatehouse session of a logged-in test client. */
export function createBrowser(app: FastifyInstance, user: Client) {
  const jar = new Map<string, string>();
  const cookieHeader = (extra: string[] = []) =>
    [
      ...[...jar].map(([k, v]) => `${k}=${v}`),
      ...(user.cookie ? [`gatehouse_session=${user.cookie}`] : []),
      ...extra,
    ].join("; ");
  const remember = (setCookie: string | string[] | undefined) => {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(";");
      const index = pair?.indexOf("=") ?? -1;
      if (!pair || index < 0) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (value && !/expires=Thu, 01 Jan 1970/i.test(line)) jar.set(name, value);
      else jar.delete(name);
    }
  };
  const request = async (method: "GET" | "POST", url: string, body?: unknown) => {
    const target = new URL(url, "http://gatehouse.test");
    const response = await app.inject({
      method,
      url: `${target.pathname}${target.search}`,
      headers: {
        cookie: cookieHeader(),
        ...(method === "POST" && user.csrf ? { "x-csrf-token": user.csrf } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    remember(response.headers["set-cookie"]);
    return response;
  };
  return { request, jar };
}

export type Browser = ReturnType<typeof createBrowser>;

/**
 * Follows an authorization URL to the login UI (`/authorize/{uid}`), answers through the interaction
 * API and follows the provider back to the client's redirect URI. Returns that callback URL.
 * `publicUrl`: the test app's PUBLIC_URL (where the provider's redirects stay inside Gatehouse).
 */
export async function authorize(
  browser: Browser,
  url: URL,
  answer: { approve: boolean; account_id?: string } | undefined,
  publicUrl = "http://gatehouse.test",
): Promise<{ callback: URL; uid: string | undefined; interaction: Record<string, unknown> | undefined }> {
  let location = url.href;
  let uid: string | undefined;
  let interaction: Record<string, unknown> | undefined;
  for (let hop = 0; hop < 10; hop++) {
    const here = new URL(location, publicUrl);
    const page = /^\/authorize\/([^/]+)$/.exec(here.pathname);
    if (page?.[1]) {
      uid = page[1];
      const details = await browser.request("GET", `/api/v1/oidc/interactions/${uid}`);
      if (details.statusCode !== 200) throw new Error(`interaction details: ${details.payload}`);
      interaction = details.json();
      if (!answer) throw new Error("the provider asked for an interaction");
      const done = await browser.request("POST", `/api/v1/oidc/interactions/${uid}/complete`, answer);
      if (done.statusCode !== 200) throw new Error(`complete: ${done.statusCode} ${done.payload}`);
      location = done.json().redirect_to as string;
      continue;
    }
    if (here.origin !== new URL(publicUrl).origin) return { callback: here, uid, interaction };
    const response = await browser.request("GET", here.href);
    const next = response.headers.location;
    if (response.statusCode < 300 || response.statusCode >= 400 || typeof next !== "string") {
      throw new Error(`no redirect from ${here.pathname}: ${response.statusCode} ${response.payload}`);
    }
    location = new URL(next, here).href;
  }
  throw new Error("too many redirects");
}

/**
 * A user's sign-in to a client through code + PKCE (openid-client), consenting in `accountId`: the
 * token endpoint's answer (ID token, access token, refresh token when `offline_access` is asked).
 */
export async function signInWithCode(
  app: FastifyInstance,
  config: oc.Configuration,
  user: Client,
  options: { accountId: string; redirectUri: string; scope?: string },
) {
  const verifier = oc.randomPKCECodeVerifier();
  const url = oc.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope ?? "openid offline_access gatehouse:account",
    code_challenge: await oc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: "st",
    prompt: "consent",
  });
  const { callback } = await authorize(createBrowser(app, user), url, {
    approve: true,
    account_id: options.accountId,
  });
  return oc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: "st" });
}
