import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type Dialect, STRONG_PASSWORD, testDialects } from "../testing/harness.js";
import { createScratchDatabase, type ServerProcess, startServer } from "../testing/server-process.js";

// Real server processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 120_000;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Free: 5 requests per key per minute, so the test reaches the limit. */
const SMALL_FREE = JSON.stringify({ free: { api_rate_per_minute: 5 } });

async function call(base: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const response = await fetch(`${base}${path}`, {
    ...rest,
    headers: {
      ...(json !== undefined ? { "content-type": "application/json" } : {}),
      ...(rest.headers as Record<string, string> | undefined),
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const body = response.headers.get("content-type")?.includes("json")
    ? ((await response.json()) as Record<string, unknown>)
    : {};
  return { response, body };
}

/** Through server `base`'s API, as a person would: sign up, confirm, log in, create a key. */
async function accountWithKey(base: string): Promise<{ accountId: string; secret: string }> {
  const email = `processes-${randomBytes(4).toString("hex")}@example.com`;
  const signup = await call(base, "/api/v1/auth/signup", {
    method: "POST",
    json: { email, password: STRONG_PASSWORD, name: "Two Processes", account_name: "Two Processes" },
  });
  expect(signup.response.status).toBe(201);
  const outbox = await call(base, `/dev/mail?to=${encodeURIComponent(email)}`);
  const text = (outbox.body.data as Array<{ text: string }>)[0]?.text ?? "";
  const token = /[?&]token=([\w-]+)/.exec(text)?.[1];
  expect(token).toBeDefined();
  expect(
    (await call(base, "/api/v1/auth/verify-email", { method: "POST", json: { token } })).response.status,
  ).toBe(200);
  const login = await call(base, "/api/v1/auth/login", {
    method: "POST",
    json: { email, password: STRONG_PASSWORD },
  });
  expect(login.response.status).toBe(200);
  const cookie = /gatehouse_session=[^;]+/.exec(login.response.headers.get("set-cookie") ?? "")?.[0] ?? "";
  const accountId = login.body.account_id as string;
  const created = await call(base, `/api/v1/accounts/${accountId}/api-keys`, {
    method: "POST",
    headers: { cookie, "x-csrf-token": login.body.csrf_token as string },
    json: { name: "Shared", scopes: ["members:read"] },
  });
  expect(created.response.status).toBe(201);
  return { accountId, secret: created.body.secret as string };
}

/**
 * Starts two processes on one database, makes a key through the first, sets both clocks 1 s into the
 * next minute (a window that has 59 s left), then calls with the key on both in turn.
 */
async function alternate(servers: ServerProcess[], requests: number) {
  const [first] = servers;
  if (!first) throw new Error("no server");
  const { accountId, secret } = await accountWithKey(first.base);
  const now = new Date((Math.floor(Date.now() / 60_000) + 1) * 60_000 + 1000).toISOString();
  for (const server of servers) await call(server.base, "/dev/clock", { method: "POST", json: { now } });
  const answers: Array<{
    server: number;
    status: number;
    remaining: string | null;
    retryAfter: string | null;
  }> = [];
  for (let i = 0; i < requests; i++) {
    const server = i % servers.length;
    const { response } = await call(servers[server]?.base ?? "", `/api/v1/accounts/${accountId}/members`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    answers.push({
      server,
      status: response.status,
      remaining: response.headers.get("ratelimit-remaining"),
      retryAfter: response.headers.get("retry-after"),
    });
  }
  return answers;
}

/** What 8 calls alternating between two processes get when the limit is global: 5 pass, 3 do not. */
const GLOBAL_LIMIT = [
  { server: 0, status: 200, remaining: "4", retryAfter: null },
  { server: 1, status: 200, remaining: "3", retryAfter: null },
  { server: 0, status: 200, remaining: "2", retryAfter: null },
  { server: 1, status: 200, remaining: "1", retryAfter: null },
  { server: 0, status: 200, remaining: "0", retryAfter: null },
  { server: 1, status: 429, remaining: "0", retryAfter: expect.stringMatching(/^(59|58|57)$/) },
  { server: 0, status: 429, remaining: "0", retryAfter: expect.stringMatching(/^(59|58|57)$/) },
  { server: 1, status: 429, remaining: "0", retryAfter: expect.stringMatching(/^(59|58|57)$/) },
];

function twoProcesses(dialect: Dialect, env: Record<string, string>) {
  const started: ServerProcess[] = [];
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  return {
    async start(): Promise<ServerProcess[]> {
      database = await createScratchDatabase(dialect);
      // One after the other: the first migrates the empty database.
      for (let i = 0; i < 2; i++)
        started.push(await startServer(database.url, { BILLING_PLANS: SMALL_FREE, ...env }));
      return started;
    },
    async stop() {
      for (const server of started) {
        if (server.child.exitCode === null) {
          server.child.kill("SIGTERM");
          await server.exited;
        }
      }
      await database?.drop();
    },
  };
}

describe.runIf(testDialects().includes("postgres"))(
  "one API rate limit across two server processes on PostgreSQL",
  () => {
    const processes = twoProcesses("postgres", {});
    afterAll(() => processes.stop());

    it(
      "counts a key's requests to either process in the database: the fifth of either is the last",
      async () => {
        const servers = await processes.start();
        expect(await alternate(servers, 8)).toEqual(GLOBAL_LIMIT);
      },
      PROCESS_TEST_TIMEOUT,
    );
  },
);

describe.each(testDialects())("one API rate limit across two server processes with Redis (%s)", (dialect) => {
  const prefix = `gatehouse-test-${randomBytes(6).toString("hex")}:`;
  const processes = twoProcesses(dialect, { REDIS_URL, REDIS_KEY_PREFIX: prefix });
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  afterAll(async () => {
    await processes.stop();
    if (redis.status === "wait") await redis.connect();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it(
    "counts a key's requests to either process in Redis, under this run's key prefix",
    async () => {
      const servers = await processes.start();
      expect(await alternate(servers, 8)).toEqual(GLOBAL_LIMIT);
      await redis.connect();
      const counters = await redis.keys(`${prefix}rl:key_*`);
      expect(counters).toHaveLength(1);
      expect(await redis.get(counters[0] as string)).toBe("8");
    },
    PROCESS_TEST_TIMEOUT,
  );
});
