import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
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
  /** Shared API rate-limit counters (optional); see docs/api-keys.md "Rate limits". */
  redisUrl: string | undefined;
  /** Starts every Redis key Gatehouse writes, so installations (or test runs) can share one Redis. */
  redisKeyPrefix: string;
  production: boolean;
  secureCookies: boolean;
  logLevel: string;
  /** Fastify's trustProxy: which hops' X-Forwarded-For to believe (see parseTrustProxy). */
  trustProxy: boolean | number | string[];
  /** Text messages go to this JSON webhook; unset = the development SMS outbox. */
  smsWebhookUrl: string | undefined;
  smsWebhookToken: string | undefined;
  /**
   * Webhook URLs may reach loopback, private and link-local addresses (development and tests only):
   * WEBHOOK_ALLOW_PRIVATE_NETWORKS=true. See src/lib/outbound-http.ts.
   */
  webhookAllowPrivateNetworks: boolean;
  /** The plan catalog (defaults, changed by BILLING_PLANS). */
  plans: readonly Plan[];
  /** Host-product permission keys for every account (PERMISSIONS="flows:deploy=Deploy flows,flows:read"). */
  extraPermissions: ReadonlyArray<{ key: string; description: string }>;
  /** CNAME target shown for custom domains (PUBLIC_HOSTNAME; default PUBLIC_URL's host name). */
  publicHostname: string;
  /** Resolvers (`ip` or `ip:port`) that verify custom domains (DNS_SERVERS); empty = the system's. */
  dnsServers: readonly string[];
  /** Graceful shutdown gets this long to finish in-flight requests; then the process exits non-zero. */
  shutdownTimeoutSeconds: number;
  /**
   * The data folder (DATA_DIR; else the SQLite file's folder, or ./data): the generated secret key and,
   * without STORAGE_URL, uploaded files (`<dataDir>/files`).
   */
  dataDir: string;
  /** Where files are kept: the data folder, or S3-compatible object storage (STORAGE_URL=s3://…). */
  storage: StorageConfig;
  /** Scheduled backups into BACKUP_DIR (unset = none), every BACKUP_INTERVAL, the newest BACKUP_KEEP kept. */
  backups: BackupsConfig | undefined;
  /** The folder of pg_dump and pg_restore (PG_BIN_DIR); unset = PATH, then /usr/lib/postgresql/<n>/bin. */
  pgBinDir: string | undefined;
  /** Server processes on one port (WORKERS; `auto` = the CPUs); more than 1 needs PostgreSQL. */
  workers: number;
  /** OpenID Connect provider (docs/oidc.md): access-token lifetime and signing-key rotation period. */
  oidc: {
    accessTokenTtlSeconds: number;
    keyRotationDays: number;
    /** OIDC_CLIENTS: a JSON file of clients applied at start-up (src/oidc/oidc.clients-file.ts). */
    clientsFile: string | undefined;
  };
}>;

export type BackupsConfig = { dir: string; intervalSeconds: number; keep: number };

export type StorageConfig =
  | { kind: "local"; dir: string }
  | {
      kind: "s3";
      bucket: string;
      /** Object keys start with it: "" or ending in "/". */
      prefix: string;
      /** An S3-compatible server (MinIO, R2, s3rver…); unset = AWS. */
      endpoint: string | undefined;
      region: string;
      forcePathStyle: boolean;
    };

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
  const dataDir = dataDirOf(env.DATA_DIR, databaseUrl);
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
    secretKey: loadSecretKey(env.SECRET_KEY, dataDir, production),
    redisUrl: parseRedisUrl(env.REDIS_URL || undefined),
    redisKeyPrefix: env.REDIS_KEY_PREFIX || "gatehouse:",
    production,
    secureCookies: publicUrl.startsWith("https:"),
    logLevel: env.LOG_LEVEL ?? (production ? "info" : "info"),
    trustProxy: parseTrustProxy(env.TRUST_PROXY ?? ""),
    smsWebhookUrl: env.SMS_WEBHOOK_URL ? parseUrl("SMS_WEBHOOK_URL", env.SMS_WEBHOOK_URL) : undefined,
    smsWebhookToken: env.SMS_WEBHOOK_TOKEN || undefined,
    webhookAllowPrivateNetworks: parseBoolean(
      "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
      env.WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? "",
    ),
    plans: loadPlans(env.BILLING_PLANS),
    extraPermissions: parsePermissions(env.PERMISSIONS ?? ""),
    shutdownTimeoutSeconds: parseShutdownTimeout(env.SHUTDOWN_TIMEOUT_SECONDS || "10"),
    publicHostname: parsePublicHostname(env.PUBLIC_HOSTNAME || new URL(publicUrl).hostname),
    dnsServers: parseDnsServers(env.DNS_SERVERS ?? ""),
    dataDir,
    storage: parseStorageUrl(env.STORAGE_URL || undefined, dataDir),
    backups: parseBackups(env),
    pgBinDir: env.PG_BIN_DIR ? resolve(env.PG_BIN_DIR) : undefined,
    workers: parseWorkers(env.WORKERS || "1", databaseUrl),
    oidc: {
      accessTokenTtlSeconds: parseWholeNumber(
        "OIDC_ACCESS_TOKEN_TTL",
        env.OIDC_ACCESS_TOKEN_TTL || "300",
        30,
        86_400,
      ),
      keyRotationDays: parseWholeNumber(
        "OIDC_KEY_ROTATION_DAYS",
        env.OIDC_KEY_ROTATION_DAYS || "30",
        1,
        3650,
      ),
      clientsFile: env.OIDC_CLIENTS ? resolve(env.OIDC_CLIENTS) : undefined,
    },
  });
}

function parseWholeNumber(name: string, value: string, min: number, max: number): number {
  const number = Number(value.trim());
  if (!/^[0-9]+$/.test(value.trim()) || number < min || number > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}: ${value}`);
  return number;
}

/**
 * WORKERS: a whole number of processes, or `auto` for one per CPU. Several processes share nothing but
 * the database, so they need PostgreSQL: a SQLite file has one writer, and its caches would not hear
 * each other's invalidations.
 */
function parseWorkers(value: string, databaseUrl: string): number {
  const text = value.trim().toLowerCase();
  const workers = text === "auto" ? availableParallelism() : Number(text);
  if (text !== "auto" && (!/^[0-9]+$/.test(text) || workers < 1 || workers > 256))
    throw new ConfigError(`WORKERS must be auto or a whole number of processes from 1 to 256: ${value}`);
  if (workers > 1 && databaseUrl.startsWith("sqlite:"))
    throw new ConfigError(
      `WORKERS=${value} needs PostgreSQL: with DATABASE_URL=sqlite:… only one process may serve (WORKERS=1)`,
    );
  return workers;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `30m`, `6h`, `1d`: a duration in whole seconds; undefined when it is none of these. */
export function parseDuration(value: string): number | undefined {
  const match = /^([0-9]{1,9})\s*([smhd]?)$/.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  return Number(match[1]) * (DURATION_UNITS[match[2] || "s"] ?? 1);
}

/** BACKUP_INTERVAL and BACKUP_KEEP are checked even while BACKUP_DIR is unset, so a typo shows at once. */
function parseBackups(env: NodeJS.ProcessEnv): BackupsConfig | undefined {
  const interval = env.BACKUP_INTERVAL || "24h";
  const intervalSeconds = parseDuration(interval);
  if (intervalSeconds === undefined || intervalSeconds < 60 || intervalSeconds > 366 * 86_400)
    throw new ConfigError(
      `BACKUP_INTERVAL must be a duration from 1 minute to 366 days, like 30m, 6h, 1d or 3600 (seconds): ${interval}`,
    );
  const keepText = env.BACKUP_KEEP || "7";
  const keep = Number(keepText);
  if (!/^[0-9]+$/.test(keepText.trim()) || keep < 1 || keep > 10_000)
    throw new ConfigError(`BACKUP_KEEP must be a whole number of backups from 1 to 10000: ${keepText}`);
  return env.BACKUP_DIR ? { dir: resolve(env.BACKUP_DIR), intervalSeconds, keep } : undefined;
}

/** DATA_DIR, else the folder of the SQLite file (an in-memory or PostgreSQL database: ./data). */
function dataDirOf(value: string | undefined, databaseUrl: string): string {
  if (value) return resolve(value);
  const file = databaseUrl.startsWith("sqlite:") ? databaseUrl.slice("sqlite:".length) : "";
  return file && file !== ":memory:" ? dirname(resolve(file)) : resolve("data");
}

const S3_PARAMETERS = new Set(["endpoint", "region", "force_path_style"]);

/**
 * STORAGE_URL=s3://bucket/prefix?endpoint=http://host:9000&region=eu-west-1&force_path_style=true;
 * unset = `<dataDir>/files`. Credentials come from the standard AWS variables, never from the URL.
 */
export function parseStorageUrl(value: string | undefined, dataDir: string): StorageConfig {
  if (value === undefined) return { kind: "local", dir: resolve(dataDir, "files") };
  const bad = (why: string) =>
    new ConfigError(`STORAGE_URL must be s3://bucket/prefix?endpoint=…&region=…: ${why}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad("not a URL");
  }
  if (url.protocol !== "s3:") throw bad(`unknown scheme ${url.protocol}`);
  if (url.username || url.password)
    throw bad("credentials do not belong in it (use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  // S3's bucket naming rules: 3–63 lower-case letters, digits, dots and hyphens.
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw bad(`"${bucket}" is not a bucket name`);
  const path = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  if (!/^[A-Za-z0-9._/-]*$/.test(path) || path.split("/").some((part) => part === "." || part === ".."))
    throw bad("the prefix may hold letters, digits, . _ - and /, and no . or .. segments");
  const unknown = [...url.searchParams.keys()].find((key) => !S3_PARAMETERS.has(key));
  if (unknown !== undefined) throw bad(`unknown parameter ${unknown}`);
  const endpoint = url.searchParams.get("endpoint") ?? undefined;
  if (endpoint !== undefined) {
    try {
      const parsed = new URL(endpoint);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
    } catch {
      throw bad(`endpoint must be an http(s) URL: ${endpoint}`);
    }
  }
  const region = url.searchParams.get("region") ?? "us-east-1";
  if (!/^[a-z0-9-]{1,32}$/.test(region)) throw bad(`"${region}" is not a region`);
  const pathStyle = url.searchParams.get("force_path_style") ?? "false";
  if (pathStyle !== "true" && pathStyle !== "false") throw bad("force_path_style must be true or false");
  return {
    kind: "s3",
    bucket,
    prefix: path ? `${path}/` : "",
    endpoint,
    region,
    forcePathStyle: pathStyle === "true",
  };
}

function parseBoolean(name: string, value: string): boolean {
  const normalized = value.trim().toLowerCase();
  if (normalized === "" || normalized === "false" || normalized === "0") return false;
  if (normalized === "true" || normalized === "1") return true;
  throw new ConfigError(`${name} must be true or false`);
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

function parsePublicHostname(value: string): string {
  const name = value.trim().toLowerCase().replace(/\.$/, "");
  const label = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;
  if (name.length > 253 || !name.split(".").every((l) => label.test(l)))
    throw new ConfigError(`PUBLIC_HOSTNAME must be a host name like gatehouse.example.com: ${value}`);
  return name;
}

/**
 * DNS_SERVERS: comma-separated resolvers as node's Resolver takes them: `1.1.1.1`, `1.1.1.1:53`,
 * `2606:4700::1111` or `[2606:4700::1111]:53` (addresses only: a name would need a resolver itself).
 */
function parseDnsServers(value: string): string[] {
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(entry);
    const v4 = /^([\d.]+)(?::(\d{1,5}))?$/.exec(entry);
    const [address, port] = bracketed
      ? [bracketed[1], bracketed[2]]
      : v4
        ? [v4[1], v4[2]]
        : [entry, undefined];
    const family = isIP(address ?? "");
    const portOk = port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
    if (family === 0 || !portOk || (bracketed && family !== 6) || (v4 && family !== 4))
      throw new ConfigError(`DNS_SERVERS: "${entry}" is not an IP address with an optional port`);
  }
  return entries;
}

function parseShutdownTimeout(value: string): number {
  const seconds = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || seconds < 1 || seconds > 3600)
    throw new ConfigError(
      `SHUTDOWN_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 3600: ${value}`,
    );
  return seconds;
}

function parseRedisUrl(value: string | undefined): string | undefined {
  if (value !== undefined && !/^rediss?:\/\//.test(value))
    throw new ConfigError("REDIS_URL must be redis://[user:password@]host:port[/db] or rediss://…");
  return value;
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
function loadSecretKey(value: string | undefined, dataDir: string, production: boolean): Buffer {
  if (value !== undefined && value !== "") {
    if (value.length < 32) throw new ConfigError("SECRET_KEY must be at least 32 characters");
    return Buffer.from(value, "utf8");
  }
  if (production) throw new ConfigError("SECRET_KEY is required when NODE_ENV=production");
  const file = resolve(dataDir, "secret.key");
  if (existsSync(file)) return Buffer.from(readFileSync(file, "utf8").trim(), "utf8");
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(32).toString("base64url");
  writeFileSync(file, `${generated}\n`, { mode: 0o600 });
  return Buffer.from(generated, "utf8");
}
