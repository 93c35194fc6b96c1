import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { loadPlans, type Plan } from "./billing/plans.js";

export type Config = Readonly<{
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string;
  smtpUrl: string | undefined;
  mailFrom: string;
  secretKey: Buffer;
  redisUrl: string | undefined;
  production: boolean;
  secureCookies: boolean;
  logLevel: string;
  /** Fastify's trustProxy: which hops' X-Forwarded-For to believe (see parseTrustProxy). */
  trustProxy: boolean | number | string[];
  /** Text messages go to this JSON webhook; unset = the development SMS outbox. */
  smsWebhookUrl: string | undefined;
  smsWebhookToken: string | undefined;
  /** The plan catalog (defaults, changed by BILLING_PLANS). */
  plans: readonly Plan[];
  /** Host-product permission keys for every account (PERMISSIONS="flows:deploy=Deploy flows,flows:read"). */
  extraPermissions: ReadonlyArray<{ key: string; description: string }>;
}>;

export class ConfigError extends Error {}

const DEFAULT_DATABASE_URL = "sqlite:./data/gatehouse.db";

/** Reads the environment once; a bad value stops start-up with a message that names the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === "production";
  const port = parsePort(env.PORT ?? "8080");
  const publicUrl = parseUrl("PUBLIC_URL", env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, "");
  const databaseUrl = env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (!databaseUrl.startsWith("sqlite:") && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL must start with sqlite: or postgres://");
  }
  if (env.SMTP_URL && !/^smtps?:\/\//.test(env.SMTP_URL)) {
    throw new ConfigError("SMTP_URL must be smtp://user:pass@host:port or smtps://…");
  }
  return Object.freeze({
    port,
    host: env.HOST ?? "127.0.0.1",
    publicUrl,
    databaseUrl,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.MAIL_FROM ?? "Gatehouse <no-reply@localhost>",
    secretKey: loadSecretKey(env.SECRET_KEY, databaseUrl, production),
    redisUrl: env.REDIS_URL || undefined,
    production,
    secureCookies: publicUrl.startsWith("https:"),
    logLevel: env.LOG_LEVEL ?? (production ? "info" : "info"),
    trustProxy: parseTrustProxy(env.TRUST_PROXY ?? ""),
    smsWebhookUrl: env.SMS_WEBHOOK_URL ? parseUrl("SMS_WEBHOOK_URL", env.SMS_WEBHOOK_URL) : undefined,
    smsWebhookToken: env.SMS_WEBHOOK_TOKEN || undefined,
    plans: loadPlans(env.BILLING_PLANS),
    extraPermissions: parsePermissions(env.PERMISSIONS ?? ""),
  });
}

function parsePermissions(value: string): Array<{ key: string; description: string }> {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const [key = "", ...rest] = item.split("=");
      if (!/^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$/.test(key.trim())) {
        throw new ConfigError(`PERMISSIONS: "${key}" is not a permission key like flows:deploy`);
      }
      return { key: key.trim(), description: rest.join("=").trim() || key.trim() };
    });
}

/**
 * Client IPs (sessions, audit, throttling, IP allowlists) come from X-Forwarded-For only for trusted
 * hops: a number N trusts the N nearest proxies (`1` for one reverse proxy), a list trusts those proxy
 * addresses/CIDRs, `true` trusts every hop (only safe when the proxy overwrites the header).
 */
function parseTrustProxy(value: string): boolean | number | string[] {
  const trimmed = value.trim();
  if (trimmed === "" || trimmed === "false" || trimmed === "0") return false;
  if (trimmed === "true") return true;
  if (/^[1-9][0-9]?$/.test(trimmed)) return Number(trimmed);
  const entries = trimmed.split(",").map((entry) => entry.trim());
  const bad = entries.find((entry) => !/^[0-9a-fA-F.:]+(\/[0-9]{1,3})?$/.test(entry));
  if (bad !== undefined)
    throw new ConfigError(`TRUST_PROXY must be true, a hop count, or proxy addresses/CIDRs: "${bad}"`);
  return entries;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`PORT is not a port: ${value}`);
  return port;
}

function parseUrl(name: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
    return url.toString();
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL: ${value}`);
  }
}

/**
 * SECRET_KEY may be any string of ≥ 32 characters; it is stretched to 32 bytes with SHA-256 by its users.
 * Outside production a key is generated once into the data folder so a fresh clone just works.
 */
function loadSecretKey(value: string | undefined, databaseUrl: string, production: boolean): Buffer {
  if (value !== undefined && value !== "") {
    if (value.length < 32) throw new ConfigError("SECRET_KEY must be at least 32 characters");
    return Buffer.from(value, "utf8");
  }
  if (production) throw new ConfigError("SECRET_KEY is required when NODE_ENV=production");
  const dataDir = databaseUrl.startsWith("sqlite:")
    ? dirname(resolve(databaseUrl.slice("sqlite:".length)))
    : resolve("data");
  const file = resolve(dataDir, "secret.key");
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "utf8");
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(32).toString("base64url");
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  return Buffer.from(generated, "utf8");
}
