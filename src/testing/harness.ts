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
export async function openTestDatabase(
  dialect: Dialect,
): Promise<{ database: DatabaseHandle; url: string; reopen(): DatabaseHandle; drop(): Promise<void> }> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-test-"));
    const url = `sqlite:${join(dir, "test.db")}`;
    const database = openDatabase(url);
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
  const database = openDatabase(url, { schema, poolSize: 5 });
  await withSchemaLock(url, async (client) => {
    await client.query(`create schema ${schema}`);
    await migrateToLatest(database);
  });
  return {
    database,
    url,
    reopen: () => openDatabase(url, { schema, poolSize: 5 }),
    drop: async () => {
      await database.close();
      await withSchemaLock(url, (client) => client.query(`drop schema ${schema} cascade`));
    },
  };
}

export type CapturedMail = { to: string; subject: string; text: string };

/** A real SMTP peer on a free port that keeps what it receives. */
export async function startSmtpSink(): Promise<{
  url: string;
  mails: CapturedMail[];
  close(): Promise<void>;
}> {
  const mails: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Enough MIME to read a nodemailer message: subject and the decoded text/plain part. */
function parseMail(raw: string): { subject: string; text: string } {
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
  return { subject, text };
}

export type TestApp = {
  app: FastifyInstance;
  services: Services;
  config: Config;
  mails: CapturedMail[];
  /** The action link of the newest mail to `to` (with subject matching, when given). */
  linkFor(to: string, subject?: RegExp): Promise<string>;
  /** Another server process's worth of app (own pool, cache and listener) on the same database. */
  sibling(): Promise<{ app: FastifyInstance; close(): Promise<void> }>;
  close(): Promise<void>;
};

export async function createTestApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const { database, drop, reopen } = await openTestDatabase(dialect);
  const smtp = await startSmtpSink();
  const config = loadConfig({
    NODE_ENV: "test",
    PUBLIC_URL: "http://gatehouse.test",
    DATABASE_URL: "sqlite::memory:",
    SECRET_KEY: randomBytes(32).toString("hex"),
    SMTP_URL: smtp.url,
    ...env,
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const services = await createServices({ config, database, clock: createClock(), log });
  const app = await buildApp(config, services, { logger: log });
  await app.ready();
  const linkFor = async (to: string, subject?: RegExp) => {
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
  const sibling = async () => {
    const otherDatabase = reopen();
    const otherServices = await createServices({
      config,
      database: otherDatabase,
      clock: services.clock,
      log,
    });
    const otherApp = await buildApp(config, otherServices, { logger: log });
    await otherApp.ready();
    const close = async () => {
      await otherApp.close();
      await otherServices.close();
      await otherDatabase.close();
    };
    siblings.push(close);
    return { app: otherApp, close };
  };
  return {
    app,
    services,
    config,
    mails: smtp.mails,
    linkFor,
    sibling,
    close: async () => {
      for (const close of siblings) await close().catch(() => {});
      await app.close();
      await services.close();
      await smtp.close();
      await drop();
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
 * billed for the seats in use. `seatLimit` sets an operator's Enterprise-style limit.
 */
export async function onPaidPlan(
  t: TestApp,
  accountId: string,
  options: { plan?: PlanId; seatLimit?: number | null } = {},
) {
  const db = t.services.db;
  const plan = options.plan ?? "pro";
  const now = t.services.clock.now();
  const { used } = await createAccountsRepository().seatCounts(db, accountId, now.toISOString());
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
      billed_seats: used,
      ends_with: null,
      credit_balance: 0,
      auto_pay: 1,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .execute();
}
