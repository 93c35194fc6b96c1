import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Actor } from "../audit/audit.repository.js";
import type { Config } from "../config.js";
import type { Executor } from "../db/database.js";
import { SESSION_COOKIE } from "../http/auth-hook.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { parseUserAgent } from "../users/user-agent.js";
import { deviceFamily, networkOf } from "./device-identity.js";
import type { DevicesRepository } from "./devices.repository.js";

export const DEVICE_COOKIE = "gatehouse_device";
export const DEVICE_COOKIE_SECONDS = 365 * 86_400;
/** A little longer than the cookie lives: a device not seen for that long cannot come back as itself. */
const FORGET_AFTER_MS = (DEVICE_COOKIE_SECONDS + 35 * 86_400) * 1000;

declare module "fastify" {
  interface FastifyRequest {
    /** The browser's device identifier on sign-in requests (from its cookie, or new). */
    deviceToken: string | null;
  }
}

/**
 * Every POST under /api/v1/auth/ (log-in, its second step, passkey log-in, …) carries a device
 * identifier: the browser's `gatehouse_device` cookie, or a new one. A response that starts a session
 * sets (or refreshes, for a year) that cookie.
 */
export function registerDeviceCookie(app: FastifyInstance, config: Config) {
  app.decorateRequest("deviceToken", null);
  const readDevice = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const existing = request.cookies[DEVICE_COOKIE];
    request.deviceToken = existing && /^[\w-]{32,128}$/.test(existing) ? existing : newSecretToken();
    done();
  };
  // A route hook, so it runs after @fastify/cookie's own onSend and sees the session cookie.
  const setDevice = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: DoneWith) => {
    if (request.deviceToken && startsSession(reply.getHeader("set-cookie")))
      reply.setCookie(DEVICE_COOKIE, request.deviceToken, {
        path: "/",
        httpOnly: true,
        sameSite: "lax",
        secure: config.secureCookies,
        maxAge: DEVICE_COOKIE_SECONDS,
      });
    done(null, payload);
  };
  // Decided per route when it is registered: only the POST routes under /api/v1/auth/ get the hooks.
  app.addHook("onRoute", (route) => {
    if (![route.method].flat().includes("POST") || !route.url.startsWith("/api/v1/auth/")) return;
    route.onRequest = [...[route.onRequest ?? []].flat(), readDevice];
    route.onSend = [...[route.onSend ?? []].flat(), setDevice];
  });
}

type DoneWith = (error: Error | null, payload: unknown) => void;

function startsSession(header: ReturnType<FastifyReply["getHeader"]>): boolean {
  const cookies = Array.isArray(header) ? header : header === undefined ? [] : [String(header)];
  return cookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`));
}

export type SignInDevice = { browser: string; os: string; ip: string | null };

/** A device without its cookie counts as one seen on the same network within this window. */
const SIMILAR_WITHIN_MS = 90 * 86_400 * 1000;
/** At most one "New sign-in" mail per user in this window, however many new devices sign in. */
export const ANNOUNCE_AT_MOST_EVERY_MS = 3600 * 1000;

/**
 * Remembers the device of a completed log-in and answers whether to announce it by mail:
 * - its cookie is known: no;
 * - no known cookie (an API client, the CLI, a browser that cleared its cookies), but the user signed
 *   in within 90 days with the same browser family and system from the same /24 (IPv4) or /48 (IPv6):
 *   no, and that device is marked seen (no row is added, so cookie-less clients do not pile up rows);
 * - the user's very first device: no (there is nothing to compare it with);
 * - otherwise it is remembered and announced, unless a mail went out for another device of the user
 *   within the last hour (`newDevice` still tells the audit event it was new).
 */
export async function recognizeDevice(
  trx: Executor,
  devices: DevicesRepository,
  userId: string,
  actor: Actor,
  now: Date,
): Promise<{ announce: boolean; newDevice?: SignInDevice }> {
  if (!actor.deviceToken) return { announce: false };
  const deviceHash = hashToken(actor.deviceToken);
  const iso = now.toISOString();
  const before = new Date(now.getTime() - FORGET_AFTER_MS).toISOString();
  if (await devices.forgetStaleAndTouch(trx, { userId, deviceHash, now: iso, before }))
    return { announce: false };
  const family = deviceFamily(actor.userAgent);
  const network = networkOf(actor.ip);
  const since = new Date(now.getTime() - SIMILAR_WITHIN_MS).toISOString();
  if (network && (await devices.touchSimilar(trx, { userId, family, network, now: iso, since })))
    return { announce: false };
  const first = !(await devices.hasAny(trx, userId));
  await devices.remember(trx, {
    userId,
    deviceHash,
    userAgent: actor.userAgent,
    ip: actor.ip,
    family,
    network,
    now: iso,
  });
  if (first) return { announce: false };
  const { browser, os } = parseUserAgent(actor.userAgent);
  const device = { browser, os, ip: actor.ip };
  const announce = await devices.claimAnnouncement(trx, {
    userId,
    deviceHash,
    now: iso,
    since: new Date(now.getTime() - ANNOUNCE_AT_MOST_EVERY_MS).toISOString(),
  });
  return { announce, newDevice: device };
}
