// Notes: a host product that signs its users in with Gatehouse. It is an OpenID Connect relying party
// built on openid-client (code flow with PKCE), keeps its own server-side sessions, shows who is signed in
// and in which account with which role, lets the user switch account, guards "Publish" behind a host
// permission that Gatehouse manages (PERMISSIONS=notes:publish=…), and ends sessions when Gatehouse says so
// through back-channel logout.
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { createRemoteJWKSet, jwtVerify } from "jose";
import * as oidc from "openid-client";

export type NotesOptions = {
  /** Gatehouse's issuer, e.g. http://localhost:3000/oidc */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where this app is reachable, e.g. http://localhost:4000 (the redirect URI is {publicUrl}/callback). */
  publicUrl: string;
  /** The host permission that "Publish" needs. */
  permission?: string;
};

type Claims = {
  sub: string;
  email?: string;
  name?: string;
  sid?: string;
  account_id?: string | null;
  account_name?: string | null;
  role?: { key: string; name: string } | null;
  permissions?: string[];
  accounts?: Array<{ account_id: string; account_name: string; role: { key: string; name: string } }>;
};

type Session = {
  claims: Claims;
  idToken: string | undefined;
  accessToken: string;
  refreshToken: string | undefined;
  expiresAt: number;
};

type Pending = { verifier: string; state: string; nonce: string; createdAt: number };

const COOKIE = "notes_session";
const SCOPES = "openid profile email offline_access gatehouse:account gatehouse:accounts";
const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";

const html = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html(title)} · Notes</title>
<style>body{font:16px system-ui;margin:2rem auto;max-width:40rem;padding:0 1rem}dt{font-weight:600}
.ok{color:#136f2b}.refused{color:#a11}</style></head><body><h1>Notes</h1>${body}</body></html>`;
}

export async function buildNotesApp(options: NotesOptions) {
  const permission = options.permission ?? "notes:publish";
  const insecure = new URL(options.issuer).protocol === "http:";
  const config = await oidc.discovery(
    new URL(options.issuer),
    options.clientId,
    options.clientSecret,
    undefined,
    insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
  );
  const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri as string));
  const sessions = new Map<string, Session>();
  const pending = new Map<string, Pending>();
  const published: Array<{ by: string; account: string; at: string }> = [];
  const redirectUri = `${options.publicUrl}/callback`;

  const app = Fastify({ logger: false });
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  const cookieOf = (request: FastifyRequest, name: string) =>
    (request.headers.cookie ?? "")
      .split(";")
      .map((c) => c.trim().split("="))
      .find(([key]) => key === name)?.[1];
  const sessionOf = (request: FastifyRequest) => {
    const id = cookieOf(request, COOKIE);
    return id ? { id, session: sessions.get(id) } : undefined;
  };
  const setCookie = (reply: FastifyReply, name: string, value: string, maxAge: number) =>
    reply.header("set-cookie", `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`);

  /** Starts a sign-in at Gatehouse; `prompt` lets the user pick another account. */
  async function signIn(reply: FastifyReply, prompt?: string) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    pending.set(state, { verifier, state, nonce, createdAt: Date.now() });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: SCOPES,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...(prompt ? { prompt } : {}),
    });
    return reply.redirect(url.href);
  }

  /** The session's claims, refreshed through the refresh token once the access token has expired. */
  async function current(id: string, session: Session): Promise<Session | undefined> {
    if (Date.now() < session.expiresAt - 5_000) return session;
    if (!session.refreshToken) return undefined;
    try {
      const tokens = await oidc.refreshTokenGrant(config, session.refreshToken);
      const fresh = toSession(tokens, session);
      sessions.set(id, fresh);
      return fresh;
    } catch {
      sessions.delete(id);
      return undefined;
    }
  }

  function toSession(
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
    before?: Session,
  ) {
    const claims = (tokens.claims() ?? before?.claims) as Claims;
    return {
      claims,
      idToken: tokens.id_token ?? before?.idToken,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? before?.refreshToken,
      expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
    };
  }

  /** What the access token says the user may do in the account they act in (verified with Gatehouse's keys). */
  async function permissionsOf(session: Session): Promise<string[]> {
    const { payload } = await jwtVerify(session.accessToken, jwks, {
      issuer: config.serverMetadata().issuer,
    });
    const fromToken = (payload as { permissions?: unknown }).permissions;
    if (Array.isArray(fromToken)) return fromToken.map(String);
    return session.claims.permissions ?? [];
  }

  app.get("/", async (request, reply) => {
    const found = sessionOf(request);
    const session = found?.session && (await current(found.id, found.session));
    reply.type("text/html");
    if (!found || !session)
      return page(
        "Welcome",
        `<p>You are not signed in.</p><p><a id="sign-in" href="/login">Sign in with Gatehouse</a></p>`,
      );
    const { claims } = session;
    const others = (claims.accounts ?? []).filter((a) => a.account_id !== claims.account_id);
    return page(
      "Home",
      `<dl>
<dt>Signed in as</dt><dd id="user">${html(claims.name ?? "")} &lt;${html(claims.email ?? "")}&gt;</dd>
<dt>Account</dt><dd id="account">${html(claims.account_name ?? "none")}</dd>
<dt>Role</dt><dd id="role">${html(claims.role?.name ?? "none")}</dd>
</dl>
${others.length ? `<p><a id="switch-account" href="/switch-account">Switch account</a> (${others.length} more)</p>` : ""}
<form method="post" action="/publish"><button id="publish" type="submit">Publish (needs ${html(permission)})</button></form>
<form method="post" action="/logout"><button id="sign-out" type="submit">Sign out</button></form>`,
    );
  });

  app.get("/login", async (_request, reply) => signIn(reply));
  app.get("/switch-account", async (_request, reply) => signIn(reply, "select_account"));

  app.get("/callback", async (request, reply) => {
    const url = new URL(request.url, options.publicUrl);
    const state = url.searchParams.get("state") ?? "";
    const started = pending.get(state);
    pending.delete(state);
    if (!started || Date.now() - started.createdAt > 10 * 60_000) {
      reply.code(400).type("text/html");
      return page("Sign-in failed", `<p>This sign-in expired. <a href="/login">Try again</a>.</p>`);
    }
    if (url.searchParams.get("error")) {
      reply.code(403).type("text/html");
      return page("Sign-in refused", `<p>Gatehouse said: ${html(url.searchParams.get("error") ?? "")}.</p>`);
    }
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
    });
    const id = randomBytes(32).toString("base64url");
    sessions.set(id, toSession(tokens));
    setCookie(reply, COOKIE, id, 8 * 3600);
    return reply.redirect("/");
  });

  app.post("/publish", async (request, reply) => {
    const found = sessionOf(request);
    const session = found?.session && (await current(found.id, found.session));
    reply.type("text/html");
    if (!found || !session) {
      reply.code(401);
      return page("Signed out", `<p id="result" class="refused">Sign in first.</p>`);
    }
    const allowed = (await permissionsOf(session)).includes(permission);
    if (!allowed) {
      reply.code(403);
      return page(
        "Refused",
        `<p id="result" class="refused">Refused: your role does not include ${html(permission)}.</p><p><a href="/">Back</a></p>`,
      );
    }
    published.push({
      by: session.claims.sub,
      account: session.claims.account_id ?? "",
      at: new Date().toISOString(),
    });
    return page("Published", `<p id="result" class="ok">Published.</p><p><a href="/">Back</a></p>`);
  });

  app.post("/logout", async (request, reply) => {
    const found = sessionOf(request);
    if (found) sessions.delete(found.id);
    setCookie(reply, COOKIE, "", 0);
    const idToken = found?.session?.idToken;
    return reply.redirect(
      oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: `${options.publicUrl}/`,
        ...(idToken ? { id_token_hint: idToken } : {}),
      }).href,
    );
  });

  // Gatehouse posts a signed logout token when the user's Gatehouse session ends (logout, revocation,
  // suspension, password reset, removal): every session of that sid (or that user, without sid) ends here.
  app.post<{ Body: { logout_token?: string } }>("/backchannel-logout", async (request, reply) => {
    const token = request.body?.logout_token;
    if (!token) return reply.code(400).send({ error: "invalid_request" });
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: config.serverMetadata().issuer,
        audience: options.clientId,
        maxTokenAge: "5m",
      });
      const events = payload.events as Record<string, unknown> | undefined;
      if (!events || !(BACKCHANNEL_EVENT in events) || "nonce" in payload)
        throw new Error("not a logout token");
      const sid = payload.sid as string | undefined;
      for (const [id, session] of sessions)
        if ((sid && session.claims.sid === sid) || (!sid && session.claims.sub === payload.sub))
          sessions.delete(id);
      return reply.code(200).header("cache-control", "no-store").send();
    } catch {
      return reply.code(400).send({ error: "invalid_request" });
    }
  });

  return {
    server: app,
    /** For tests: how many sessions this app holds, and what was published. */
    sessionCount: () => sessions.size,
    published,
  };
}
