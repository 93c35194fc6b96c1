import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { createScratchDatabase, type ServerProcess, startServer } from "../testing/server-process.js";
import { startTcpProxy } from "../testing/tcp-proxy.js";
import { isConnectionLoss } from "./database.js";

// A restart or failover of PostgreSQL ends every connection: what `pg_terminate_backend` does here.
// SQLite has no connection to lose, so these run on PostgreSQL only.
const postgres = testDialects().includes("postgres");
const PROCESS_TEST_TIMEOUT = 120_000;

async function terminateBackends(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()",
      [applicationName],
    );
    return rowCount ?? 0;
  } finally {
    await admin.end();
  }
}

const databaseTarget = () => {
  const url = new URL(process.env.TEST_DATABASE_URL as string);
  return { host: url.hostname, port: Number(url.port || 5432) };
};

type Answer = { status: number; type: string; code: unknown; retryAfter: string | null | undefined };

/** What a caller may get while the database goes away: a success, or 503 problem+json with retry-after. */
function unexpected(answers: Answer[]): Answer[] {
  return answers.filter(
    (a) =>
      !(a.status >= 200 && a.status < 300) &&
      !(
        a.status === 503 &&
        a.type.startsWith("application/problem+json") &&
        a.code === "unavailable" &&
        Number(a.retryAfter) > 0
      ),
  );
}

/** Runs `request` in `concurrency` loops until `stop()` resolves; every answer is kept. */
async function underLoad(
  concurrency: number,
  request: (loop: number, n: number) => Promise<Answer>,
  during: () => Promise<void>,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  let stopped = false;
  const loops = Array.from({ length: concurrency }, async (_, loop) => {
    for (let n = 0; !stopped; n++) answers.push(await request(loop, n));
  });
  try {
    await during();
  } finally {
    stopped = true;
    await Promise.all(loops);
  }
  return answers;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("telling a lost database connection from other errors", () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it("knows pg's and the network's ways of saying the connection is gone", () => {
    for (const error of [
      withCode("terminating connection due to administrator command", "57P01"),
      withCode("terminating connection due to crash of another server process", "57P02"),
      withCode("the database system is starting up", "57P03"),
      withCode("connection failure", "08006"),
      withCode("sorry, too many clients already", "53300"),
      withCode("read ECONNRESET", "ECONNRESET"),
      withCode("connect ECONNREFUSED 10.0.0.5:5432", "ECONNREFUSED"),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
      new Error("Client has encountered a connection error and is not queryable"),
      new Error("query failed", { cause: withCode("read ECONNRESET", "ECONNRESET") }),
    ])
      expect(isConnectionLoss(error), error.message).toBe(true);
  });

  it("leaves other database errors alone", () => {
    for (const error of [
      withCode('duplicate key value violates unique constraint "users_email_key"', "23505"),
      withCode("could not serialize access due to concurrent update", "40001"),
      withCode("SQLITE_BUSY: database is locked", "SQLITE_BUSY"),
      new Error("Something else"),
      "Connection terminated",
    ])
      expect(isConnectionLoss(error)).toBe(false);
  });
});

describe.runIf(postgres)("a server process losing its PostgreSQL connections (postgres)", () => {
  let server: ServerProcess | undefined;
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill("SIGKILL");
    await proxy?.close();
    await database?.drop();
  });

  const answerOf = async (response: Response): Promise<Answer> => {
    const type = response.headers.get("content-type") ?? "";
    const body = type.includes("json") ? ((await response.json()) as { code?: unknown }) : {};
    return {
      status: response.status,
      type,
      code: body.code,
      retryAfter: response.headers.get("retry-after"),
    };
  };

  it(
    "stays up when its backends are terminated mid-load, answers 503 meanwhile, and serves again; /readyz follows the database",
    async () => {
      database = await createScratchDatabase("postgres");
      proxy = await startTcpProxy(databaseTarget());
      const applicationName = `gatehouse-failover-${randomBytes(4).toString("hex")}`;
      const url = new URL(proxy.urlFor(database.url));
      url.searchParams.set("application_name", applicationName);
      server = await startServer(url.toString());
      const { base } = server;

      const signup = async (loop: number, n: number) =>
        answerOf(
          await fetch(`${base}/api/v1/auth/signup`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              email: `load-${loop}-${n}@example.com`,
              password: STRONG_PASSWORD,
              name: "Load",
              account_name: `Load ${loop}-${n}`,
            }),
          }),
        );
      const ready = async () => answerOf(await fetch(`${base}/readyz`));

      // A restart: every backend of this process ends while sign-ups are in their transactions.
      const answers = await underLoad(
        6,
        (loop, n) => (loop === 0 ? ready() : signup(loop, n)),
        async () => {
          await pause(300);
          expect(await terminateBackends(applicationName)).toBeGreaterThan(0);
          for (let round = 0; round < 3; round++) {
            await pause(150);
            await terminateBackends(applicationName);
          }
          await pause(150);
        },
      );
      expect(server.child.exitCode).toBeNull();
      expect(unexpected(answers)).toEqual([]);
      await expect.poll(async () => (await signup(9, 0)).status, { timeout: 10_000 }).toBe(201);

      // The database out of reach (a failover in progress): 503 everywhere, then back.
      proxy.cut();
      const down = await ready();
      expect(down).toMatchObject({ status: 503, code: "unavailable" });
      expect(down.type).toMatch(/^application\/problem\+json/);
      const refused = await signup(9, 1);
      expect(unexpected([refused])).toEqual([]);
      expect(refused.status).toBe(503);
      // The OpenID Connect provider (a Koa app behind one route) reads its clients from the database too:
      // the OAuth error shape, with the same 503 and retry-after.
      const token = async () => {
        const response = await fetch(`${base}/oidc/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_id: "no-such-client",
            client_secret: "wrong",
          }),
        });
        return {
          status: response.status,
          retryAfter: response.headers.get("retry-after"),
          body: (await response.json()) as { error?: string },
        };
      };
      expect(await token()).toMatchObject({
        status: 503,
        retryAfter: "2",
        body: { error: "temporarily_unavailable" },
      });
      proxy.restore();
      await expect.poll(async () => (await ready()).status, { timeout: 10_000 }).toBe(200);
      expect((await signup(9, 2)).status).toBe(201);
      expect(await token()).toMatchObject({ status: 401, body: { error: "invalid_client" } });
      expect(server.child.exitCode).toBeNull();
    },
    PROCESS_TEST_TIMEOUT,
  );
});

describe.runIf(postgres)("two processes, one losing its PostgreSQL connections (postgres)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp("postgres");
  });
  afterAll(() => t?.close());

  const answerOf = (response: Awaited<ReturnType<Client["get"]>>): Answer => ({
    status: response.statusCode,
    type: String(response.headers["content-type"] ?? ""),
    code: response.body.code,
    retryAfter: response.headers["retry-after"]?.toString(),
  });

  /** A logged-in client of `app` that reads and changes its profile, one request a call. */
  const profileTraffic = (client: Client) => async (_loop: number, n: number) =>
    answerOf(
      n % 2 === 0
        ? await client.get("/api/v1/me")
        : await client.patch("/api/v1/me", { first_name: `N${n}` }),
    );
  const onApp = (app: FastifyInstance, from: Client) => {
    const client = createClient(app);
    client.cookie = from.cookie;
    client.csrf = from.csrf;
    return client;
  };

  it("only A's connections are terminated: B keeps serving throughout, A answers 503 meanwhile and recovers", async () => {
    const schema = t.services.database.schema as string;
    const aName = `gatehouse-test ${schema} A`;
    const a = await t.sibling({ applicationName: aName });
    const userA = await signUpAndLogin(t, { email: "failover-a@example.com" });
    const userB = await signUpAndLogin(t, { email: "failover-b@example.com" });
    const clientA = onApp(a.app, userA.client);
    const clientB = userB.client;
    expect((await clientA.get("/api/v1/me")).statusCode).toBe(200);

    // A transaction of A's between two statements when its connection ends (its client is checked out
    // and idle: pg reports the loss as an 'error' event on it, which nothing else would hear).
    let terminated: () => void = () => {};
    const untilTerminated = new Promise<void>((resolve) => {
      terminated = resolve;
    });
    let began: () => void = () => {};
    const hasBegun = new Promise<void>((resolve) => {
      began = resolve;
    });
    const inFlight = a.services.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      began();
      await untilTerminated;
      await sql`select 1`.execute(trx);
    });
    await hasBegun;

    let onB: Answer[] = [];
    const onA = await underLoad(3, profileTraffic(clientA), async () => {
      onB = await underLoad(3, profileTraffic(clientB), async () => {
        await pause(100);
        expect(await terminateBackends(aName)).toBeGreaterThan(0);
        await pause(50);
        terminated();
        await expect(inFlight).rejects.toSatisfy(isConnectionLoss);
        for (let round = 0; round < 3; round++) {
          await pause(100);
          await terminateBackends(aName);
        }
        await pause(100);
      });
    });
    expect(onB.length).toBeGreaterThan(0);
    expect(onB.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(unexpected(onA)).toEqual([]);
    await expect
      .poll(async () => (await clientA.get("/api/v1/me")).statusCode, { timeout: 10_000 })
      .toBe(200);
    expect((await clientA.patch("/api/v1/me", { first_name: "Back" })).statusCode).toBe(200);
    expect((await a.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });

  it("a revocation or role change made while A could not hear invalidations is honoured by A, during and after", async () => {
    const proxy = await startTcpProxy(databaseTarget());
    const a = await t.sibling({ databaseUrl: proxy.urlFor(process.env.TEST_DATABASE_URL as string) });
    try {
      const root = await signUpAndLogin(t, { email: "deaf-root@example.com" });
      const member = await addMember(t, root, { email: "deaf-member@example.com", roleKey: "developer" });
      const roles = (await root.client.get(`/api/v1/accounts/${root.accountId}/roles`)).body.data as Array<{
        key: string;
        id: string;
      }>;
      const monitor = roles.find((r) => r.key === "monitor")?.id;
      const other = createClient(t.app);
      await other.post("/api/v1/auth/login", { email: "deaf-root@example.com", password: root.password });
      const sessionOnA = onApp(a.app, other);
      const rootOnA = onApp(a.app, root.client);
      const check = async () =>
        (
          await rootOnA.post("/api/v1/authz/check", {
            account_id: root.accountId,
            user_id: member.userId,
            permission: "resources:write",
          })
        ).body.allowed;
      // Cached in A.
      expect((await sessionOnA.get("/api/v1/me")).statusCode).toBe(200);
      expect((await sessionOnA.get("/api/v1/me")).statusCode).toBe(200);
      expect(await check()).toBe(true);
      expect(await check()).toBe(true);

      proxy.cutListen();
      await expect.poll(() => a.services.invalidator.healthy(), { timeout: 10_000 }).toBe(false);
      expect((await other.post("/api/v1/auth/logout")).statusCode).toBe(204);
      const changed = await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
        role_id: monitor,
      });
      expect(changed.statusCode).toBe(200);
      // A heard nothing, and trusts nothing it cached.
      expect((await sessionOnA.get("/api/v1/me")).statusCode).toBe(401);
      expect(await check()).toBe(false);

      proxy.restore();
      await expect.poll(() => a.services.invalidator.healthy(), { timeout: 15_000 }).toBe(true);
      expect((await sessionOnA.get("/api/v1/me")).statusCode).toBe(401);
      expect(await check()).toBe(false);
      // Listening again: invalidations reach A as before.
      await root.client.patch(`/api/v1/accounts/${root.accountId}/members/${member.userId}`, {
        role_id: roles.find((r) => r.key === "developer")?.id,
      });
      await expect.poll(check, { timeout: 2000, interval: 5 }).toBe(true);
    } finally {
      await a.close();
      await proxy.close();
    }
  });
});
