import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runBillingCommand } from "../billing/billing-cli.js";
import { DEFAULT_PLANS, loadPlans } from "../billing/plans.js";
import { ConfigError } from "../config.js";
import {
  type Client,
  createApiKey,
  createKeyClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** A small limit so tests reach it: Free gets 5 requests per key per minute here. */
const SMALL_FREE = JSON.stringify({ free: { api_rate_per_minute: 5 } });

type Owner = { client: Client; accountId: string; userId: string };

const header = (response: { headers: Record<string, unknown> }, name: string) =>
  response.headers[name] === undefined ? undefined : String(response.headers[name]);
const rate = (response: { headers: Record<string, unknown> }) => ({
  limit: header(response, "ratelimit-limit"),
  remaining: header(response, "ratelimit-remaining"),
  reset: header(response, "ratelimit-reset"),
});

describe("the plan catalog's API limits", () => {
  it("has per-minute rates and key limits by plan, changed by BILLING_PLANS", () => {
    const byId = Object.fromEntries(DEFAULT_PLANS.map((p) => [p.id, p]));
    expect(byId.free).toMatchObject({ api_rate_per_minute: 60, api_keys_limit: 2 });
    expect(byId.pro).toMatchObject({ api_rate_per_minute: 600, api_keys_limit: 25 });
    expect(byId.team).toMatchObject({ api_rate_per_minute: 3000, api_keys_limit: 100 });
    const changed = loadPlans(
      '{"pro":{"api_rate_per_minute":1000,"api_keys_limit":50},"team":{"api_keys_limit":null}}',
    );
    expect(changed.find((p) => p.id === "pro")).toMatchObject({
      api_rate_per_minute: 1000,
      api_keys_limit: 50,
    });
    expect(changed.find((p) => p.id === "team")).toMatchObject({
      api_rate_per_minute: 3000,
      api_keys_limit: null,
    });
  });

  it("refuses bad values with a ConfigError naming the field and plan", () => {
    for (const [json, message] of [
      ['{"pro":{"api_rate_per_minute":0}}', /api_rate_per_minute of "pro"/],
      ['{"pro":{"api_rate_per_minute":null}}', /api_rate_per_minute of "pro"/],
      ['{"free":{"api_rate_per_minute":"60"}}', /api_rate_per_minute of "free"/],
      ['{"free":{"api_rate_per_minute":1.5}}', /api_rate_per_minute of "free"/],
      ['{"team":{"api_keys_limit":-1}}', /api_keys_limit of "team"/],
      ['{"team":{"api_keys_limit":"many"}}', /api_keys_limit of "team"/],
    ] as const) {
      expect(() => loadPlans(json)).toThrow(ConfigError);
      expect(() => loadPlans(json)).toThrow(message);
    }
  });
});

describe.each(testDialects())("API rate and key limits on %s", (dialect) => {
  let t: TestApp;
  let serial = 0;

  beforeAll(async () => {
    t = await createTestApp(dialect, { BILLING_PLANS: SMALL_FREE });
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const newOwner = async (): Promise<Owner & { base: string }> => {
    const n = ++serial;
    const owner = await signUpAndLogin(t, { email: `rate-${n}@example.com`, account: `Rate ${n}` });
    return { ...owner, base: `/api/v1/accounts/${owner.accountId}` };
  };
  /** The clock stopped 1 s into the next minute: a window starts, and 59 s of it are left. */
  const freezeAtMinuteStart = () => {
    const at = new Date((Math.floor(Date.now() / 60_000) + 1) * 60_000 + 1000);
    t.services.clock.freeze(at);
    return at;
  };

  it("counts each key's requests in a fixed minute: RateLimit-* headers, then 429 with Retry-After and no work done", async () => {
    const owner = await newOwner();
    freezeAtMinuteStart();
    const key = await createApiKey(owner, ["members:read", "api_keys:manage"], { name: "Counted" });
    const machine = createKeyClient(t.app, key.secret);

    const seen: Array<ReturnType<typeof rate>> = [];
    for (let i = 0; i < 3; i++) {
      const response = await machine.get(`${owner.base}/members`);
      expect(response.statusCode).toBe(200);
      seen.push(rate(response));
    }
    expect(seen).toEqual([
      { limit: "5", remaining: "4", reset: "59" },
      { limit: "5", remaining: "3", reset: "59" },
      { limit: "5", remaining: "2", reset: "59" },
    ]);
    // Errors produced after the key authenticated carry them too: a missing scope, another account.
    const forbidden = await machine.get(`${owner.base}/audit-events`);
    expect(forbidden.statusCode).toBe(403);
    expect(rate(forbidden)).toEqual({ limit: "5", remaining: "1", reset: "59" });
    t.services.clock.advance(20);
    const elsewhere = await machine.get("/api/v1/accounts/acct_00000000000000000000/members");
    expect(elsewhere.statusCode).toBe(404);
    expect(rate(elsewhere)).toEqual({ limit: "5", remaining: "0", reset: "39" });

    const refused = await machine.patch(`${owner.base}/api-keys/${key.id}`, { name: "Renamed" });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: "rate_limited", status: 429 });
    expect(refused.body.detail).toMatch(/more than 5 requests this minute/);
    expect(refused.headers["retry-after"]).toBe("39");
    expect(rate(refused)).toEqual({ limit: "5", remaining: "0", reset: "39" });
    const stored = await t.services.db
      .selectFrom("api_keys")
      .select("name")
      .where("id", "=", key.id)
      .executeTakeFirstOrThrow();
    expect(stored.name).toBe("Counted");

    // A bad key is not a key: 401 without RateLimit headers.
    // (The last character changed, never to itself: a secret ending in "x" stays the same key.)
    const last = key.secret.slice(-1) === "x" ? "y" : "x";
    const bad = await createKeyClient(t.app, `${key.secret.slice(0, -1)}${last}`).get(
      `${owner.base}/members`,
    );
    expect(bad.statusCode).toBe(401);
    expect(rate(bad)).toEqual({ limit: undefined, remaining: undefined, reset: undefined });
  });

  it("starts a new window at the next minute, not a minute after the first request", async () => {
    const owner = await newOwner();
    freezeAtMinuteStart();
    const key = await createApiKey(owner, ["members:read"]);
    const machine = createKeyClient(t.app, key.secret);
    t.services.clock.advance(30);
    for (let i = 0; i < 5; i++) expect((await machine.get(`${owner.base}/members`)).statusCode).toBe(200);
    t.services.clock.advance(28);
    const last = await machine.get(`${owner.base}/members`);
    expect(last.statusCode).toBe(429);
    expect(last.headers["retry-after"]).toBe("1");
    t.services.clock.advance(1);
    const next = await machine.get(`${owner.base}/members`);
    expect(next.statusCode).toBe(200);
    expect(rate(next)).toEqual({ limit: "5", remaining: "4", reset: "60" });
  });

  it("leaves people's (cookie) requests alone: no RateLimit headers, not refused when the account's key is", async () => {
    const owner = await newOwner();
    freezeAtMinuteStart();
    const key = await createApiKey(owner, ["members:read"]);
    const machine = createKeyClient(t.app, key.secret);
    for (let i = 0; i < 6; i++) await machine.get(`${owner.base}/members`);
    expect((await machine.get(`${owner.base}/members`)).statusCode).toBe(429);
    for (let i = 0; i < 8; i++) {
      const response = await owner.client.get(`${owner.base}/members`);
      expect(response.statusCode).toBe(200);
      expect(rate(response)).toEqual({ limit: undefined, remaining: undefined, reset: undefined });
    }
    // Each key has its own window.
    const other = await createApiKey(owner, ["members:read"]);
    const fresh = await createKeyClient(t.app, other.secret).get(`${owner.base}/members`);
    expect(fresh.statusCode).toBe(200);
    expect(rate(fresh).remaining).toBe("4");
  });

  it("lets exactly the limit through when requests arrive at once", async () => {
    const owner = await newOwner();
    freezeAtMinuteStart();
    const key = await createApiKey(owner, ["members:read"]);
    const machine = createKeyClient(t.app, key.secret);
    const answers = await Promise.all(Array.from({ length: 12 }, () => machine.get(`${owner.base}/members`)));
    const ok = answers.filter((a) => a.statusCode === 200);
    expect(ok).toHaveLength(5);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(7);
    expect(ok.map((a) => rate(a).remaining).sort()).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("limits the number of keys by plan: 402 plan_limit_reached naming it; revoked keys do not count", async () => {
    const owner = await newOwner();
    const first = await createApiKey(owner, ["members:read"], { name: "one" });
    await createApiKey(owner, ["members:read"], { name: "two" });
    const third = await owner.client.post(`${owner.base}/api-keys`, {
      name: "three",
      scopes: ["members:read"],
    });
    expect(third.statusCode).toBe(402);
    expect(third.body).toMatchObject({ code: "plan_limit_reached", status: 402 });
    expect(third.body.detail).toBe(
      "The Free plan allows 2 API keys and this account has 2. Revoke a key you no longer use, or upgrade the plan.",
    );
    expect((await owner.client.delete(`${owner.base}/api-keys/${first.id}`)).statusCode).toBe(204);
    await createApiKey(owner, ["members:read"], { name: "three" });
    const audit = await owner.client.get(`${owner.base}/audit-events?action=api_key.created`);
    expect(audit.body.data.map((e: { changes: { name: string } }) => e.changes.name).sort()).toEqual([
      "one",
      "three",
      "two",
    ]);
  });

  it("never lets concurrent creations pass the key limit", async () => {
    const owner = await newOwner();
    await createApiKey(owner, ["members:read"], { name: "warm-up" });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        owner.client.post(`${owner.base}/api-keys`, { name: `parallel ${i}`, scopes: ["members:read"] }),
      ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 402, 402, 402, 402, 402]);
    const count = await t.services.db
      .selectFrom("api_keys")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("account_id", "=", owner.accountId)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
  });

  it("shows the plan's limits in the billing overview and the catalog", async () => {
    const owner = await newOwner();
    const billing = await owner.client.get(`${owner.base}/billing`);
    expect(billing.statusCode).toBe(200);
    expect(billing.body.limits).toEqual({ api_rate_per_minute: 5, api_keys: 2, webhooks: 1 });
    const plans = await owner.client.get("/api/v1/plans");
    expect(
      plans.body.data.map((p: Record<string, unknown>) => [p.id, p.api_rate_per_minute, p.api_keys_limit]),
    ).toEqual([
      ["free", 5, 2],
      ["pro", 600, 25],
      ["team", 3000, 100],
      ["enterprise", 3000, 100],
    ]);
  });

  it("takes an operator's Enterprise rate and key limit (gatehouse billing enterprise --api-rate --api-keys) at once", async () => {
    const owner = await newOwner();
    freezeAtMinuteStart();
    const key = await createApiKey(owner, ["members:read"]);
    const machine = createKeyClient(t.app, key.secret);
    expect(rate(await machine.get(`${owner.base}/members`))).toMatchObject({ limit: "5", remaining: "4" });

    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
    const args = [
      "enterprise",
      "--account",
      owner.accountId,
      "--price-cents",
      "0",
      "--api-rate",
      "3",
      "--api-keys",
      "4",
    ];
    expect(await runBillingCommand(args, t.services, out)).toBe(0);
    expect(lines.at(-1)).toMatch(/3 API requests per key per minute, 4 API key limit/);
    expect((await owner.client.get(`${owner.base}/billing`)).body).toMatchObject({
      plan: "enterprise",
      limits: { api_rate_per_minute: 3, api_keys: 4 },
    });
    // The cached limit was dropped by the change: the count goes on, against the new limit.
    expect(rate(await machine.get(`${owner.base}/members`))).toMatchObject({ limit: "3", remaining: "1" });
    expect(rate(await machine.get(`${owner.base}/members`))).toMatchObject({ limit: "3", remaining: "0" });
    expect((await machine.get(`${owner.base}/members`)).statusCode).toBe(429);
    for (const n of [2, 3, 4]) await createApiKey(owner, ["members:read"], { name: `key ${n}` });
    const fifth = await owner.client.post(`${owner.base}/api-keys`, {
      name: "five",
      scopes: ["members:read"],
    });
    expect(fifth.statusCode).toBe(402);
    expect(fifth.body.detail).toMatch(/^The Enterprise plan allows 4 API keys and this account has 4\./);

    // Without them, Enterprise's catalog values; bad values are refused.
    const plain = ["enterprise", "--account", owner.accountId, "--price-cents", "0"];
    expect(await runBillingCommand(plain, t.services, out)).toBe(0);
    expect(lines.at(-1)).toMatch(/3000 API requests per key per minute, 100 API key limit/);
    expect(await runBillingCommand([...plain, "--api-rate", "0"], t.services, out)).toBe(1);
    expect(lines.at(-1)).toMatch(/API rate is a whole number/);
    expect(await runBillingCommand([...plain, "--api-keys", "lots"], t.services, out)).toBe(1);
    expect(lines.at(-1)).toMatch(/API key limit is a whole number/);
    expect(await runBillingCommand([...plain, "--api-rate"], t.services, out)).toBe(2);
  });

  if (dialect === "postgres") {
    it("keeps PostgreSQL's counters in api_rate_windows, and the job loop deletes past minutes", async () => {
      const owner = await newOwner();
      const at = freezeAtMinuteStart();
      const key = await createApiKey(owner, ["members:read"]);
      const machine = createKeyClient(t.app, key.secret);
      for (let i = 0; i < 3; i++) await machine.get(`${owner.base}/members`);
      const rows = () =>
        t.services.db.selectFrom("api_rate_windows").selectAll().where("key_id", "=", key.id).execute();
      expect(await rows()).toEqual([{ key_id: key.id, minute: Math.floor(at.getTime() / 60_000), count: 3 }]);
      t.services.clock.advance(60);
      await machine.get(`${owner.base}/members`);
      expect(await rows()).toHaveLength(2);
      t.services.clock.advance(60);
      const outcome = await t.services.jobs.runNow(["api-rate-windows"]);
      expect(outcome["api-rate-windows"]).toMatchObject({ status: "ok" });
      expect(await rows()).toEqual([
        { key_id: key.id, minute: Math.floor(at.getTime() / 60_000) + 1, count: 1 },
      ]);
      // Unlogged: no WAL flush per request.
      const table = await sql<{ relpersistence: string }>`
        select relpersistence from pg_class
        where relname = 'api_rate_windows' and relnamespace = current_schema()::regnamespace`.execute(
        t.services.db,
      );
      expect(table.rows).toEqual([{ relpersistence: "u" }]);
    });
  }
});

describe.each(testDialects())("API rate limits with Redis on %s", (dialect) => {
  const prefix = `gatehouse-test-${randomBytes(6).toString("hex")}:`;
  let t: TestApp;
  let down: TestApp;
  const redis = new Redis(REDIS_URL, { lazyConnect: true });

  beforeAll(async () => {
    await redis.connect();
    t = await createTestApp(dialect, { BILLING_PLANS: SMALL_FREE, REDIS_URL, REDIS_KEY_PREFIX: prefix });
    // Nothing listens on port 1: Redis is "down" for this one from the start.
    down = await createTestApp(dialect, { BILLING_PLANS: SMALL_FREE, REDIS_URL: "redis://127.0.0.1:1" });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await t?.close();
    await down?.close();
  });

  it("counts in Redis, one key per API key and minute that expires by itself, and no database row", async () => {
    const owner = await signUpAndLogin(t, { email: "redis-rate@example.com", account: "Redis Rate" });
    const base = `/api/v1/accounts/${owner.accountId}`;
    const at = new Date((Math.floor(Date.now() / 60_000) + 1) * 60_000 + 1000);
    t.services.clock.freeze(at);
    const key = await createApiKey(owner, ["members:read"]);
    const machine = createKeyClient(t.app, key.secret);
    const answers = await Promise.all(Array.from({ length: 8 }, () => machine.get(`${base}/members`)));
    expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(5);
    expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(3);
    const counter = `${prefix}rl:${key.id}:${Math.floor(at.getTime() / 60_000)}`;
    expect(await redis.get(counter)).toBe("8");
    const ttl = await redis.pttl(counter);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120_000);
    expect(t.services.keyRateLimit.store.name).toBe("redis");
    const rows = await t.services.db.selectFrom("api_rate_windows").selectAll().execute();
    expect(rows).toEqual([]);
  });

  it("still limits while Redis is unreachable: the database (memory on SQLite) counts meanwhile", async () => {
    const owner = await signUpAndLogin(down, { email: "redis-down@example.com", account: "Redis Down" });
    const base = `/api/v1/accounts/${owner.accountId}`;
    down.services.clock.freeze(new Date((Math.floor(Date.now() / 60_000) + 1) * 60_000 + 1000));
    const key = await createApiKey(owner, ["members:read"]);
    const machine = createKeyClient(down.app, key.secret);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await machine.get(`${base}/members`)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(down.services.keyRateLimit.store.name).toBe(dialect === "postgres" ? "database" : "memory");
  });
});
