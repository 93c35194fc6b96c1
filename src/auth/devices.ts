import type { FastifyInstance, FastifyReply } from "fastify";
import type { Actor } from "../audit/audit.repository.js";
import type { Config } from "../config.js";
import type { Executor } from "../db/database.js";
import { SESSION_COOKIE } from "../http/auth-hook.js";
import { hashToken, newSecretToken } from "../lib/crypto.js";
import { parseUserAgent } from "../users/user-agent.js";
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
  app.addHook("onRequest", async (request) => {
    if (request.method !== "POST" || !request.url.startsWith("/api/v1/auth/")) return;
    const existing = request.cookies[DEVICE_COOKIE];
    request.deviceToken = existing && /^[\w-]{32,128}$/.test(existing) ? existing : newSecretToken();
  });
  // Runs after @fastify/cookie's own onSend (registered earlier), so the session cookie is visible here.
  app.addHook("onSend", async (request, reply) => {
    if (!request.deviceToken || !startsSession(reply.getHeader("set-cookie"))) return;
    reply.setCookie(DEVICE_COOKIE, request.deviceToken, {
      path: "/",
      httpOnly: true,
      sameSite: "lax",
      secure: config.secureCookies,
      maxAge: DEVICE_COOKIE_SECONDS,
    });
  });
}

function startsSession(header: ReturnType<FastifyReply["getHeader"]>): boolean {
  const cookies = Array.isArray(header) ? header : header === undefined ? [] : [String(header)];
  return cookies.some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !c.startsWith(`${SESSION_COOKIE}=;`));
}

export type SignInDevice = { browser: string; os: string; ip: string | null };

/**
 * Remembers the device of a completed log-in. Answers whether to announce it: a device the user
 * never signed in from, unless it is their very first one (there is nothing to compare it with).
 */
export async function recognizeDevice(
  trx: Executor,
  devices: DevicesRepository,
  userId: string,
  actor: Actor,
  now: Date,
): Promise<{ announce: false } | { announce: true; device: SignInDevice }> {
  if (!actor.deviceToken) return { announce: false };
  const deviceHash = hashToken(actor.deviceToken);
  const iso = now.toISOString();
  const before = new Date(now.getTime() - FORGET_AFTER_MS).toISOString();
  if (await devices.forgetStaleAndTouch(trx, { userId, deviceHash, now: iso, before }))
    return { announce: false };
  const first = (await devices.countForUser(trx, userId)) === 0;
  await devices.remember(trx, { userId, deviceHash, userAgent: actor.userAgent, ip: actor.ip, now: iso });
  if (first) return { announce: false };
  const { browser, os } = parseUserAgent(actor.userAgent);
  return { announce: true, device: { browser, os, ip: actor.ip } };
}
