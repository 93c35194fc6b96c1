import * as querystring from "node:querystring";
import { Readable } from "node:stream";
import type { KoaContextWithOIDC } from "oidc-provider";
import type { ClientKeys, Lock, LoginThrottle } from "../auth/login-throttle.js";
import { ipSubject } from "../lib/rate-limit.js";

/** Where a client proves a secret or presents a code or token (paths under the issuer). */
const GUARDED_PATHS = new Set(["/token", "/token/introspection", "/token/revocation"]);
/** oidc-provider's own limit on a form body: a longer one it refuses (400) without parsing it. */
const BODY_LIMIT = 56 * 1024;
/** Longest client id kept in a counter's key: ids are chosen by whoever sends the request. */
const MAX_CLIENT_ID = 200;

/**
 * Secret guessing at the provider's token, introspection and revocation endpoints, throttled per client
 * and per address on the log-in throttle's lanes (src/auth/login-throttle.ts): a wrong client secret
 * (`invalid_client`) counts, and so does an invalid code or refresh token of a public client
 * (`invalid_grant`), whose only secrets they are. A confidential client that authenticated and then
 * sent a stale code (a user reloading the callback page) is not guessing. While a lane is locked every
 * answer is 429 in the OAuth error shape, a right secret too: a guess learns nothing.
 */
export function createTokenThrottle(throttle: LoginThrottle) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    if (ctx.method !== "POST" || !GUARDED_PATHS.has(ctx.path)) return next();
    const clientId = basicClientId(ctx.get("authorization")) ?? (await peekClientId(ctx));
    const who: ClientKeys = { clientId: clientId?.slice(0, MAX_CLIENT_ID), ip: ipSubject(ctx.ip) };
    const { lock, known } = await throttle.clientLock(who);
    if (lock) return refuse(ctx, lock);

    await next();

    const error = ctx.status >= 400 ? (ctx.body as { error?: unknown } | undefined)?.error : undefined;
    const client = ctx.oidc?.client as { clientId: string; clientAuthMethod: string } | undefined;
    if (error === "invalid_client") await throttle.failClient(who, "secret");
    else if (error === "invalid_grant" && client?.clientAuthMethod === "none")
      await throttle.failClient(who, "grant");
    else if (ctx.status < 400 && !known && client && client.clientAuthMethod !== "none")
      await throttle.knownClient({ clientId: client.clientId, ip: who.ip });
  };
}

function refuse(ctx: KoaContextWithOIDC, lock: Lock): void {
  ctx.status = 429;
  ctx.set("retry-after", String(lock.retryAfter));
  ctx.set("cache-control", "no-store");
  ctx.body = {
    error: "rate_limited",
    error_description: `Too many failed attempts. Try again in ${lock.retryAfter} seconds.`,
  };
}

/** The client id of `authorization: Basic …` (RFC 6749 §2.3.1: form-encoded, then base64). */
function basicClientId(header: string): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0) return undefined;
  try {
    return decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, "%20"));
  } catch {
    return undefined;
  }
}

/**
 * The `client_id` of a form body (a public client names itself there), read before the provider reads
 * it. The provider reads a body through the request's `readable` and `iterator`: this request's are
 * pointed at the bytes read here, so it parses exactly what was sent (and refuses what it would have).
 */
async function peekClientId(ctx: KoaContextWithOIDC): Promise<string | undefined> {
  if (!ctx.is("application/x-www-form-urlencoded")) return undefined;
  const length = ctx.request.length as number | undefined;
  if (length !== undefined && length > BODY_LIMIT) return undefined;
  const req = ctx.req as Readable;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    chunks.push(chunk as Buffer);
    received += (chunk as Buffer).length;
    if (received > BODY_LIMIT) break;
  }
  const body = Buffer.concat(chunks);
  const replay = Readable.from([body]);
  Object.defineProperty(req, "readable", { value: true, configurable: true });
  req.iterator = (options) => replay.iterator(options);
  if (received > BODY_LIMIT) return undefined;
  const clientId = querystring.parse(body.toString()).client_id;
  return typeof clientId === "string" && clientId ? clientId : undefined;
}
