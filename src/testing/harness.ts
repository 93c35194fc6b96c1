import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import pg from "pg";
import pino from "pino";
import { SMTPServer } from "smtp-server";
import { createAccountsRepository } from "../accounts/accounts.repository.js";
import { buildApp } from "../app.js";
import { periodEnd } from "../billing/periods.js";
import type { PlanId } from "../billing/plans.js";
import { type Config, loadConfig } from "../config.js";
import { type DatabaseHandle, openDatabase } from "../db/database.js";
import { migrateToLatest } from "../db/migrate.js";
import { createClock } from "../lib/clock.js";
import { createServices, type Services } from "../services.js";

export type Dialect = "sqlite" | "postgres";

/** SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it, and then it must work). */
export function testDialects(): Dialect[] {
  return process.env.TEST_DATABASE_URL ? ["sqlite", "postgres"] : ["sqlite"];
}

/**
 * Test workers each have a schema in one PostgreSQL database. Kysely's migrator lists the tables of
 * every schema, which fails if another worker drops its schema at that moment; creating+migrating and
 * dropping therefore take turns under one advisory lock.
 */
export async function withSchemaLock<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock(727274)");
    return await work(client);
  } finally {
    await client.query("select pg_advisory_unlock(727274)").catch(() => {});
    await client.end();
  }
}

/** A fresh, migrated, private database: its own SQLite file, or its own PostgreSQL schema. */
export async function openTestDatabase(dialect: Dialect): Promise<{
  database: DatabaseHandle;
  url: string;
  /** Another handle on the same database; on PostgreSQL through `url` (a proxy) when given. */
  reopen(options?: { url?: string; applicationName?: string }): DatabaseHandle;
  drop(): Promise<void>;
}> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-test-"));
    const url = `sqlite:${join(dir, "test.db")}`;
    const database = openDatabase(url, { recordQueries: true });
    await migrateToLatest(database);
    return {
      database,
      url,
      reopen: () => openDatabase(url),
      drop: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = process.env.TEST_DATABASE_URL as string;
  const schema = `t_${randomBytes(6).toString("hex")}`;
  // Named after the schema, so a test can find (and terminate) exactly its own connections.
  const database = openDatabase(url, {
    schema,
    poolSize: 5,
    applicationName: `gatehouse-test ${schema}`,
    recordQueries: true,
  });
  await withSchemaLock(url, async (client) => {
    await client.query(`create schema ${schema}`);
    await migrateToLatest(database);
  });
  return {
    database,
    url,
    reopen: (options = {}) =>
      openDatabase(options.url ?? url, {
        schema,
        poolSize: 5,
        applicationName: options.applicationName ?? `gatehouse-test ${schema}`,
      }),
    drop: async () => {
      await database.close();
      await withSchemaLock(url, (client) => client.query(`drop schema ${schema} cascade`));
    },
  };
}

export type CapturedMail = {
  to: string;
  subject: string;
  text: string;
  /** The decoded text/html part ("" when there is none). */
  html: string;
  /** The message's headers, names lower-cased, folded lines joined. */
  headers: Record<string, string>;
};

export type SmtpSink = {
  url: string;
  mails: CapturedMail[];
  /** From now on every recipient is refused with this SMTP reply (`451`, `550` …); `null` accepts again. */
  refuse(reply: { code: number; text: string } | null): void;
  close(): Promise<void>;
};

/** A real SMTP peer on a free port that keeps what it receives. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: CapturedMail[] = [];
  let refusal: { code: number; text: string } | null = null;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (!refusal) return callback();
      callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const to = session.envelope.rcptTo.map((r) => r.address).join(",");
        mails.push({ to, ...parseMail(Buffer.concat(chunks).toString("utf8")) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    refuse: (reply) => {
      refusal = reply;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The decoded body of the first part of this content type, if any. */
function decodedPart(raw: string, type: "plain" | "html"): string | undefined {
  const part = new RegExp(
    `Content-Type: text/${type}[\\s\\S]*?\\r?\\n\\r?\\n([\\s\\S]*?)(?:\\r?\\n--|$)`,
    "i",
  ).exec(raw);
  if (!part) return undefined;
  const header = new RegExp(`Content-Type: text/${type}[\\s\\S]*?\\r?\\n\\r?\\n`, "i").exec(raw)?.[0] ?? "";
  let body = part[1] ?? "";
  if (/quoted-printable/i.test(header)) {
    body = Buffer.from(
      body
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      "latin1",
    ).toString("utf8");
  } else if (/base64/i.test(header)) {
    body = Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  return body;
}

/** Enough MIME to read a nodemailer message: subject and the decoded text/plain and text/html parts. */
function parseMail(raw: string): {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
} {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "";
  const textPart = /Content-Type: text\/plain[\s\S]*?\r?\n\r?\n([\s\S]*?)(?:\r?\n--|$)/i.exec(raw);
  const header = /Content-Type: text\/plain[\s\S]*?\r?\n\r?\n/i.exec(raw)?.[0] ?? "";
  let text = textPart?.[1] ?? raw;
  if (/quoted-printable/i.test(header)) {
    text = Buffer.from(
      text
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      "latin1",
    ).toString("utf8");
  } else if (/base64/i.test(header)) {
    text = Buffer.from(text.replace(/\s+/g, ""), "base64").toString("utf8");
  }
  return { subject, text, html: decodedPart(raw, "html") ?? "", headers };
}

export type TestApp = {
  app: FastifyInstance;
  services: Services;
  config: Config;
  mails: CapturedMail[];
  /** The SMTP server the app delivers to. */
  smtp: SmtpSink;
  /** The action link of the newest mail to `to` (with subject matching, when given). */
  linkFor(to: string, subject?: RegExp): Promise<string>;
  /**
   * Another server process's worth of app (own pool, cache and listener) on the same database; on
   * PostgreSQL its connections carry `applicationName`, and go through `databaseUrl` when given.
   */
  sibling(options?: {
    databaseUrl?: string;
    applicationName?: string;
  }): Promise<{ app: FastifyInstance; services: Services; close(): Promise<void> }>;
  close(): Promise<void>;
};

export async function createTestApp(
  dialect: Dialect,
  env: Record<string, string> = {},
  /** Parts of the services a test replaces with its own real ones (a DNS server, a short timeout). */
  extra: Pick<
    Parameters<typeof createServices>[0],
    "resolveHost" | "webhookTimeoutMs" | "branding" | "exports"
  > = {},
): Promise<TestApp> {
  const { database, drop, reopen } = await openTestDatabase(dialect);
  const smtp = await startSmtpSink();
  // Its own data folder: uploaded files never land in the working tree or another test's folder.
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-data-"));
  const config = loadConfig({
    NODE_ENV: "test",
    PUBLIC_URL: "http://gatehouse.test",
    DATABASE_URL: "sqlite::memory:",
    SECRET_KEY: randomBytes(32).toString("hex"),
    SMTP_URL: smtp.url,
    DATA_DIR: dataDir,
    ...env,
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  // A commit that queues mail waits for its delivery here (production answers first), so tests read
  // the SMTP sink right after an answer. The job loop itself is not started: tests run jobs when they
  // mean to (`/dev/jobs/run`, `services.jobs`), never at a moment a tick happens to pick.
  const services = await createServices({
    config,
    database,
    clock: createClock(),
    log,
    waitForMail: true,
    ...extra,
  });
  const app = await buildApp(config, services, { logger: log });
  await app.ready();
  const linkFor = async (to: string, subject?: RegExp) => {
    await services.jobs.idle();
    for (let i = 0; i < 100; i++) {
      const mail = [...smtp.mails]
        .reverse()
        .find((m) => m.to.toLowerCase() === to.toLowerCase() && (!subject || subject.test(m.subject)));
      const link = mail && /https?:\/\/\S+\?token=[\w-]+/.exec(mail.text)?.[0];
      if (link) return link;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no mail with a link to ${to}`);
  };
  const siblings: Array<() => Promise<void>> = [];
  const sibling = async (options: { databaseUrl?: string; applicationName?: string } = {}) => {
    const otherDatabase = reopen({
      ...(options.databaseUrl ? { url: options.databaseUrl } : {}),
      ...(options.applicationName ? { applicationName: options.applicationName } : {}),
    });
    const otherServices = await createServices({
      config,
      database: otherDatabase,
      clock: services.clock,
      log,
      waitForMail: true,
    });
    const otherApp = await buildApp(config, otherServices, { logger: log });
    await otherApp.ready();
    const close = async () => {
      await otherApp.close();
      await otherServices.close();
      await otherDatabase.close();
    };
    siblings.push(close);
    return { app: otherApp, services: otherServices, close };
  };
  return {
    app,
    services,
    config,
    mails: smtp.mails,
    smtp,
    linkFor,
    sibling,
    close: async () => {
      for (const close of siblings) await close().catch(() => {});
      await app.close();
      await services.close();
      await smtp.close();
      await drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function tokenOf(link: string): string {
  return new URL(link).searchParams.get("token") as string;
}

type Json = Record<string, unknown>;

/** A browser-like client: keeps the session cookie and sends the CSRF token on unsafe requests. */
export function createClient(app: FastifyInstance, options: { ip?: string; userAgent?: string } = {}) {
  let cookie: string | undefined;
  // Like a browser, the client keeps its device cookie (new-device sign-in mails) across log-ins.
  let device: string | undefined;
  let csrf: string | undefined;
  const request = async (
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await app.inject({
      method: method as "GET",
      url,
      remoteAddress: options.ip ?? "127.0.0.1",
      headers: {
        "user-agent": options.userAgent ?? "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36",
        ...(cookie || device
          ? {
              cookie: [
                ...(cookie ? [`gatehouse_session=${cookie}`] : []),
                ...(device ? [`gatehouse_device=${device}`] : []),
              ].join("; "),
            }
          : {}),
        ...(csrf && method !== "GET" ? { "x-csrf-token": csrf } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const set = response.cookies.find((c) => c.name === "gatehouse_session");
    if (set) cookie = set.value || undefined;
    const deviceSet = response.cookies.find((c) => c.name === "gatehouse_device");
    if (deviceSet) device = deviceSet.value || undefined;
    const json = response.headers["content-type"]?.toString().includes("json")
      ? (response.json() as Json)
      : undefined;
    if (json && typeof json.csrf_token === "string") csrf = json.csrf_token;
    return Object.assign(response, { body: json ?? ({} as Json) }) as Omit<LightMyRequestResponse, "body"> & {
      // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely; the API schemas are tested elsewhere
      body: Record<string, any>;
    };
  };
  return {
    request,
    get: (url: string, headers?: Record<string, string>) => request("GET", url, undefined, headers),
    post: (url: string, body?: unknown, headers?: Record<string, string>) =>
      request("POST", url, body ?? {}, headers),
    put: (url: string, body?: unknown) => request("PUT", url, body ?? {}),
    patch: (url: string, body?: unknown) => request("PATCH", url, body ?? {}),
    delete: (url: string) => request("DELETE", url),
    get cookie() {
      return cookie;
    },
    set cookie(value: string | undefined) {
      cookie = value;
    },
    get device() {
      return device;
    },
    set device(value: string | undefined) {
      device = value;
    },
    get csrf() {
      return csrf;
    },
    set csrf(value: string | undefined) {
      csrf = value;
    },
  };
}

export type Client = ReturnType<typeof createClient>;

/** A machine calling with an API key (`authorization: Bearer`): no cookie, no CSRF token. */
export function createKeyClient(app: FastifyInstance, secret: string, options: { ip?: string } = {}) {
  const request = async (method: string, url: string, body?: unknown) => {
    const response = await app.inject({
      method: method as "GET",
      url,
      remoteAddress: options.ip ?? "127.0.0.1",
      headers: {
        authorization: `Bearer ${secret}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    const json = response.headers["content-type"]?.toString().includes("json")
      ? (response.json() as Json)
      : undefined;
    return Object.assign(response, { body: json ?? ({} as Json) }) as Omit<LightMyRequestResponse, "body"> & {
      // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely, as with the session client
      body: Record<string, any>;
    };
  };
  return {
    request,
    get: (url: string) => request("GET", url),
    post: (url: string, body?: unknown) => request("POST", url, body ?? {}),
    patch: (url: string, body?: unknown) => request("PATCH", url, body ?? {}),
    put: (url: string, body?: unknown) => request("PUT", url, body ?? {}),
    delete: (url: string, body?: unknown) => request("DELETE", url, body),
  };
}

export type KeyClient = ReturnType<typeof createKeyClient>;

/**
 * Creates an API key through the API as `owner` (confirming their password first, so the fresh
 * authentication never runs out mid-test) and returns its id and secret.
 */
export async function createApiKey(
  owner: { client: Client; accountId: string; password?: string },
  scopes: string[],
  extra: { name?: string; expires_at?: string | null; allowed_ips?: string[] } = {},
): Promise<{ id: string; secret: string }> {
  const reauth = await owner.client.post("/api/v1/auth/reauth", {
    password: owner.password ?? STRONG_PASSWORD,
  });
  if (reauth.statusCode !== 200) throw new Error(`reauth failed: ${reauth.payload}`);
  const created = await owner.client.post(`/api/v1/accounts/${owner.accountId}/api-keys`, {
    name: extra.name ?? `Key ${scopes.join(" ")}`.slice(0, 100),
    scopes,
    ...extra,
  });
  if (created.statusCode !== 201) throw new Error(`key creation failed: ${created.payload}`);
  return { id: created.body.id as string, secret: created.body.secret as string };
}

export const STRONG_PASSWORD = "violet-Harbor-sunrise-42";

/** Signs up and confirms the address through the mailed link; returns the (not yet logged-in) client. */
export async function signUpVerified(
  t: TestApp,
  input: { email: string; name?: string; account?: string; password?: string },
) {
  const client = createClient(t.app);
  const signup = await client.post("/api/v1/auth/signup", {
    email: input.email,
    password: input.password ?? STRONG_PASSWORD,
    name: input.name ?? "Test Person",
    account_name: input.account ?? "Test Co",
  });
  if (signup.statusCode !== 201) throw new Error(`signup failed: ${signup.payload}`);
  const link = await t.linkFor(input.email, /Confirm/);
  const verify = await client.post("/api/v1/auth/verify-email", { token: tokenOf(link) });
  if (verify.statusCode !== 200) throw new Error(`verify failed: ${verify.payload}`);
  return client;
}

/** Signs up, verifies through the mailed link and logs in; returns the logged-in client. */
export async function signUpAndLogin(
  t: TestApp,
  input: { email: string; name?: string; account?: string; password?: string },
) {
  const password = input.password ?? STRONG_PASSWORD;
  const client = await signUpVerified(t, input);
  const login = await client.post("/api/v1/auth/login", { email: input.email, password });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.payload}`);
  return {
    client,
    password,
    userId: login.body.user.id as string,
    accountId: login.body.account_id as string,
  };
}

/**
 * Invites `email` into the owner's account with the role `roleKey` (through the API, as an admin
 * would), accepts through the mailed link as a new user, and returns their logged-in client.
 */
export async function addMember(
  t: TestApp,
  owner: { client: Client; accountId: string },
  input: { email: string; roleKey?: string; firstName?: string; password?: string },
) {
  const roles = await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`);
  const role = (roles.body.data as Array<{ id: string; key: string }>).find(
    (r) => r.key === (input.roleKey ?? "monitor"),
  );
  if (!role) throw new Error(`no role ${input.roleKey}`);
  const invite = await owner.client.post(`/api/v1/accounts/${owner.accountId}/invitations`, {
    emails: [input.email],
    role_id: role.id,
  });
  if (invite.statusCode !== 201 || invite.body.data[0].error)
    throw new Error(`invite failed: ${invite.payload}`);
  const link = await t.linkFor(input.email, /invited/);
  const client = createClient(t.app);
  const password = input.password ?? STRONG_PASSWORD;
  const accepted = await client.post("/api/v1/invitations/accept", {
    token: tokenOf(link),
    password,
    first_name: input.firstName ?? "Member",
    last_name: "Person",
  });
  if (accepted.statusCode !== 200) throw new Error(`accept failed: ${accepted.payload}`);
  return { client, userId: accepted.body.user.id as string, password, roleId: role.id };
}

/**
 * Puts the account on a paid plan directly in the database (as if it had upgraded now), for tests
 * that need more seats than Free has and are not about billing: Pro monthly at the catalog price,
 * billed for the members holding a seat (pending invitations are billed when accepted). `seatLimit`
 * sets an operator's Enterprise-style limit.
 */
export async function onPaidPlan(
  t: TestApp,
  accountId: string,
  options: { plan?: PlanId; seatLimit?: number | null } = {},
) {
  const db = t.services.db;
  const plan = options.plan ?? "pro";
  const now = t.services.clock.now();
  const { used, pending } = await createAccountsRepository().seatCounts(db, accountId, now.toISOString());
  const catalog = t.config.plans.find((p) => p.id === plan);
  await db.deleteFrom("subscriptions").where("account_id", "=", accountId).execute();
  await db
    .insertInto("subscriptions")
    .values({
      account_id: accountId,
      plan,
      interval: "month",
      unit_price: catalog?.prices.month ?? 0,
      seat_limit: options.seatLimit ?? null,
      anchor_day: now.getUTCDate(),
      period_start: now.toISOString(),
      period_end: periodEnd(now, "month").toISOString(),
      billed_seats: used - pending,
      ends_with: null,
      credit_balance: 0,
      auto_pay: 1,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .execute();
}

/**
 * The SQL statements `work` issued through the app's database handle (its query budget); needs a
 * database opened by openTestDatabase, which records them. Background work of the same process
 * (mail delivery, a job run) lands here too: keep it out of the measured window.
 */
export async function statementsDuring(t: Pick<TestApp, "services">, work: () => Promise<unknown>) {
  const statements = t.services.database.statements;
  if (!statements) throw new Error("statementsDuring needs a database opened with recordQueries");
  const start = statements.length;
  await work();
  return statements.slice(start);
}
