import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWriteBehind } from "../lib/write-behind.js";
import {
  addMember,
  type Client,
  createApiKey,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import type { KeyRequestLog } from "./usage.repository.js";
import { createUsageRecorder, type UsageBatch } from "./usage-recorder.js";

type Owner = { client: Client; accountId: string; userId: string };

const DAY_MS = 86_400_000;
const dateOf = (date: Date) => date.toISOString().slice(0, 10);

describe.each(testDialects())("API key usage and request logs on %s", (dialect) => {
  let t: TestApp;
  let root: Owner;
  let base: string;

  /** Now, to the second: a frozen clock near real time keeps the test sessions alive. */
  const freezeNow = () => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    t.services.clock.freeze(now);
    return now;
  };
  const usageOf = (owner: Owner, keyId: string, query = "") =>
    owner.client.get(`/api/v1/accounts/${owner.accountId}/api-keys/${keyId}/usage${query}`);
  const logsOf = (owner: Owner, keyId: string, query = "") =>
    owner.client.get(`/api/v1/accounts/${owner.accountId}/api-keys/${keyId}/logs${query}`);
  const flush = () => t.services.writeBehind.flush();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, { email: "usage-root@example.com", account: "Usage Co" });
    base = `/api/v1/accounts/${root.accountId}`;
    await onPaidPlan(t, root.accountId, { plan: "team" });
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  it("counts each request a key makes by status class on its UTC day, once flushed", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const client = createKeyClient(t.app, key.secret);
    const today = dateOf(freezeNow());
    expect((await client.get(`${base}/members`)).statusCode).toBe(200);
    expect((await client.get(`${base}/members?limit=5`)).statusCode).toBe(200);
    expect((await client.get(`${base}/members/usr_doesnotexist`)).statusCode).toBe(404);
    expect((await client.get(`${base}/teams`)).statusCode).toBe(403);
    expect((await client.get(`${base}/members?limit=0`)).statusCode).toBe(400);
    t.services.clock.reset();

    // The endpoints read the database: nothing shows before the flush.
    const before = await usageOf(root, key.id, `?from=${today}&to=${today}`);
    expect(before.statusCode, before.payload).toBe(200);
    expect(before.body.data).toEqual([
      { date: today, requests: 0, status_2xx: 0, status_4xx: 0, status_5xx: 0 },
    ]);
    await flush();
    const after = await usageOf(root, key.id, `?from=${today}&to=${today}`);
    expect(after.body.data).toEqual([
      { date: today, requests: 5, status_2xx: 2, status_4xx: 3, status_5xx: 0 },
    ]);
    // A second flush adds to the stored day rather than replacing it.
    expect((await client.get(`${base}/members`)).statusCode).toBe(200);
    await flush();
    expect((await usageOf(root, key.id, `?from=${today}&to=${today}`)).body.data[0]).toMatchObject({
      requests: 6,
      status_2xx: 3,
    });
  });

  it("answers one row per day of the range, days without requests as zeros; the last 30 days by default", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const client = createKeyClient(t.app, key.secret);
    const now = new Date();
    const day = (offset: number) => dateOf(new Date(now.getTime() + offset * DAY_MS));
    t.services.clock.freeze(new Date(now.getTime() - 2 * DAY_MS));
    await client.get(`${base}/members`);
    await client.get(`${base}/members`);
    t.services.clock.freeze(now);
    await client.get(`${base}/members`);
    await client.get(`${base}/teams`);
    t.services.clock.reset();
    await flush();

    const range = await usageOf(root, key.id, `?from=${day(-3)}&to=${day(1)}`);
    expect(range.statusCode, range.payload).toBe(200);
    expect(range.body.data).toEqual([
      { date: day(-3), requests: 0, status_2xx: 0, status_4xx: 0, status_5xx: 0 },
      { date: day(-2), requests: 2, status_2xx: 2, status_4xx: 0, status_5xx: 0 },
      { date: day(-1), requests: 0, status_2xx: 0, status_4xx: 0, status_5xx: 0 },
      { date: day(0), requests: 2, status_2xx: 1, status_4xx: 1, status_5xx: 0 },
      { date: day(1), requests: 0, status_2xx: 0, status_4xx: 0, status_5xx: 0 },
    ]);

    const fallback = (await usageOf(root, key.id)).body.data as Array<{ date: string; requests: number }>;
    expect(fallback).toHaveLength(30);
    expect(fallback[0]?.date).toBe(day(-29));
    expect(fallback.at(-1)?.date).toBe(day(0));
    expect(fallback.reduce((sum, d) => sum + d.requests, 0)).toBe(4);
    // From alone: 30 days from there.
    const from = (await usageOf(root, key.id, `?from=${day(-2)}`)).body.data as Array<{ date: string }>;
    expect(from).toHaveLength(30);
    expect(from[0]?.date).toBe(day(-2));
  });

  it("refuses ranges that are not real dates, backwards or longer than 366 days (400, every field)", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const bad = async (query: string, paths: string[]) => {
      const response = await usageOf(root, key.id, query);
      expect(response.statusCode, `${query}: ${response.payload}`).toBe(400);
      expect(response.body.code).toBe("validation_failed");
      expect([...new Set((response.body.errors as Array<{ path: string }>).map((e) => e.path))]).toEqual(
        paths,
      );
    };
    await bad("?from=2026-02-30&to=2026-13-01", ["from", "to"]);
    await bad("?from=2026-03-01&to=2026-02-28", ["to"]);
    await bad("?from=2025-01-01&to=2026-01-02", ["to"]);
    await bad("?from=yesterday", ["from"]);
    await bad("?from=2026-03-01T00:00:00Z", ["from"]);
    // 366 days, both ends included, is the most.
    const longest = await usageOf(root, key.id, "?from=2024-01-01&to=2024-12-31");
    expect(longest.statusCode, longest.payload).toBe(200);
    expect(longest.body.data).toHaveLength(366);
    const logs = await logsOf(root, key.id, "?cursor=bm90LWEtY3Vyc29y");
    expect(logs.statusCode).toBe(400);
    expect(logs.body.errors[0].path).toBe("cursor");
    expect((await logsOf(root, key.id, "?limit=0")).statusCode).toBe(400);
    expect((await logsOf(root, key.id, "?limit=201")).statusCode).toBe(400);
  });

  it("logs each request: newest first, the route pattern without ids or query string, status, IP, duration", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const client = createKeyClient(t.app, key.secret, { ip: "203.0.113.9" });
    const start = freezeNow();
    expect((await client.get(`${base}/members?q=secret-search-term&limit=3`)).statusCode).toBe(200);
    t.services.clock.advance(1);
    expect((await client.get(`${base}/members/${root.userId}`)).statusCode).toBe(200);
    t.services.clock.advance(1);
    expect((await client.get(`${base}/teams`)).statusCode).toBe(403);
    t.services.clock.reset();
    await flush();

    const page = await logsOf(root, key.id);
    expect(page.statusCode, page.payload).toBe(200);
    expect(page.body.next_cursor).toBeNull();
    expect(page.body.data).toEqual([
      {
        at: new Date(start.getTime() + 2000).toISOString(),
        method: "GET",
        route: "/api/v1/accounts/:account_id/teams",
        status: 403,
        ip: "203.0.113.9",
        duration_ms: expect.any(Number),
      },
      {
        at: new Date(start.getTime() + 1000).toISOString(),
        method: "GET",
        route: "/api/v1/accounts/:account_id/members/:user_id",
        status: 200,
        ip: "203.0.113.9",
        duration_ms: expect.any(Number),
      },
      {
        at: start.toISOString(),
        method: "GET",
        route: "/api/v1/accounts/:account_id/members",
        status: 200,
        ip: "203.0.113.9",
        duration_ms: expect.any(Number),
      },
    ]);
    for (const entry of page.body.data) expect(entry.duration_ms).toBeGreaterThanOrEqual(0);
    expect(page.payload).not.toContain("secret-search-term");
    expect(page.payload).not.toContain(root.userId);
    expect(page.payload).not.toContain(root.accountId);
    // Requests made with a session are not a key's: never logged or counted.
    await root.client.get(`${base}/members`);
    await flush();
    expect((await logsOf(root, key.id)).body.data).toHaveLength(3);
  });

  it("pages the log with a cursor, newest first, without repeats or gaps", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const client = createKeyClient(t.app, key.secret);
    const start = freezeNow();
    for (let i = 0; i < 5; i++) {
      await client.get(`${base}/members`);
      // Two requests in the same instant: the cursor still tells them apart.
      if (i !== 2) t.services.clock.advance(1);
    }
    t.services.clock.reset();
    await flush();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await logsOf(root, key.id, query);
      expect(page.statusCode, page.payload).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((e: { at: string }) => e.at));
      cursor = page.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    const at = (s: number) => new Date(start.getTime() + s * 1000).toISOString();
    expect(seen).toEqual([at(3), at(2), at(2), at(1), at(0)]);
  });

  it("keeps another account's key usage and logs out of reach (404), and a revoked key's too", async () => {
    const key = await createApiKey(root, ["members:read"]);
    await createKeyClient(t.app, key.secret).get(`${base}/members`);
    await flush();
    const other = await signUpAndLogin(t, { email: "usage-other@example.com", account: "Other Co" });
    const otherKey = await createApiKey(other, ["members:read"]);
    for (const path of [
      `/api/v1/accounts/${other.accountId}/api-keys/${key.id}/usage`,
      `/api/v1/accounts/${other.accountId}/api-keys/${key.id}/logs`,
      `${base}/api-keys/${key.id}/usage`,
      `${base}/api-keys/${key.id}/logs`,
    ]) {
      const response = await other.client.get(path);
      expect(response.statusCode, path).toBe(404);
      expect(response.payload).not.toContain("/members");
    }
    // B's key on A's key usage: another account's id is not found.
    const asKey = await createKeyClient(t.app, otherKey.secret).get(`${base}/api-keys/${key.id}/usage`);
    expect(asKey.statusCode).toBe(404);

    expect((await root.client.delete(`${base}/api-keys/${key.id}`)).statusCode).toBe(204);
    expect((await root.client.get(`${base}/api-keys/${key.id}`)).statusCode).toBe(404);
    expect((await usageOf(root, key.id)).statusCode).toBe(404);
    expect((await logsOf(root, key.id)).statusCode).toBe(404);
  });

  it("needs api_keys:manage, as the key itself does", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const monitor = {
      ...(await addMember(t, root, { email: "usage-monitor@example.com", roleKey: "monitor" })),
      accountId: root.accountId,
    };
    for (const response of [await usageOf(monitor, key.id), await logsOf(monitor, key.id)]) {
      expect(response.statusCode).toBe(403);
      expect(response.body.code).toBe("forbidden");
    }
    // A key holding api_keys:manage may read usage (its own requests included).
    const manager = await createApiKey(root, ["api_keys:manage"]);
    const read = await createKeyClient(t.app, manager.secret).get(`${base}/api-keys/${key.id}/usage`);
    expect(read.statusCode, read.payload).toBe(200);
  });

  it("shows the month's key calls as usage.api_calls in the billing overview", async () => {
    const owner = await signUpAndLogin(t, { email: "usage-billing@example.com", account: "Billed Co" });
    const ownerBase = `/api/v1/accounts/${owner.accountId}`;
    const billing = async () => (await owner.client.get(`${ownerBase}/billing`)).body.usage.api_calls;
    expect(await billing()).toBe(0);
    const first = await createApiKey(owner, ["members:read"]);
    const second = await createApiKey(owner, ["members:read"]);
    for (let i = 0; i < 3; i++) await createKeyClient(t.app, first.secret).get(`${ownerBase}/members`);
    await createKeyClient(t.app, second.secret).get(`${ownerBase}/teams`);
    // Session requests are not API calls.
    await owner.client.get(`${ownerBase}/members`);
    await flush();
    expect(await billing()).toBe(4);
    await createKeyClient(t.app, second.secret).get(`${ownerBase}/members`);
    await flush();
    expect(await billing()).toBe(5);
    // Other accounts' calls are theirs.
    expect((await root.client.get(`${base}/billing`)).body.usage.api_calls).not.toBe(5);
  });

  it("purges log entries older than 30 days with the api-key-logs-purge job; counts stay", async () => {
    const key = await createApiKey(root, ["members:read"]);
    const client = createKeyClient(t.app, key.secret);
    const now = new Date();
    t.services.clock.freeze(new Date(now.getTime() - 31 * DAY_MS));
    await client.get(`${base}/members`);
    t.services.clock.freeze(new Date(now.getTime() - 29 * DAY_MS));
    await client.get(`${base}/members`);
    t.services.clock.reset();
    await flush();
    expect((await logsOf(root, key.id)).body.data).toHaveLength(2);

    const outcome = await t.services.jobs.runNow(["api-key-logs-purge"]);
    expect(outcome["api-key-logs-purge"]).toMatchObject({ status: "ok", result: { deleted: 1 } });
    const left = (await logsOf(root, key.id)).body.data as Array<{ at: string }>;
    expect(left).toHaveLength(1);
    expect(left[0]?.at).toBe(new Date(now.getTime() - 29 * DAY_MS).toISOString());
    const days = (await usageOf(root, key.id, `?from=${dateOf(new Date(now.getTime() - 32 * DAY_MS))}`)).body
      .data as Array<{ requests: number }>;
    expect(days.reduce((sum, d) => sum + d.requests, 0)).toBe(2);
  });

  it("deletes a key's usage and logs with the key when its member leaves, and drops counts still in memory", async () => {
    const developer = {
      ...(await addMember(t, root, { email: "usage-dev@example.com", roleKey: "developer" })),
      accountId: root.accountId,
    };
    const key = await createApiKey(developer, ["members:read"]);
    const client = createKeyClient(t.app, key.secret);
    await client.get(`${base}/members`);
    await flush();
    await client.get(`${base}/members`); // still in memory when the key goes
    const rows = async () => ({
      days: (
        await t.services.db
          .selectFrom("api_key_usage_days")
          .select("key_id")
          .where("key_id", "=", key.id)
          .execute()
      ).length,
      logs: (
        await t.services.db
          .selectFrom("api_key_request_logs")
          .select("key_id")
          .where("key_id", "=", key.id)
          .execute()
      ).length,
    });
    expect(await rows()).toEqual({ days: 1, logs: 1 });
    expect((await root.client.delete(`${base}/members/${developer.userId}`)).statusCode).toBe(204);
    expect(await rows()).toEqual({ days: 0, logs: 0 });
    await flush();
    expect(await rows()).toEqual({ days: 0, logs: 0 });
    expect(t.services.keyUsageRecorder.pending()).toMatchObject({ days: [], logs: 0 });
  });
});

describe("the usage buffer", () => {
  const log = pino({ level: "silent" });
  const request = (status: number, at = "2026-03-01T10:00:00.000Z", keyId = "key_a"): KeyRequestLog => ({
    accountId: "acct_a",
    keyId,
    at,
    method: "GET",
    route: "/api/v1/accounts/:account_id/members",
    status,
    ip: "203.0.113.1",
    durationMs: 1,
  });
  /** A real write target that refuses while `down` is set, as a database out of reach would. */
  const target = () => {
    const written: UsageBatch[] = [];
    const state = { down: false, written };
    return {
      state,
      write: async (batch: UsageBatch) => {
        if (state.down) throw new Error("database unavailable");
        written.push(batch);
      },
    };
  };

  it("counts 1xx and 3xx with 2xx, 4xx and 5xx apart, per key and UTC day", async () => {
    const out = target();
    const recorder = createUsageRecorder({ log, write: out.write });
    for (const status of [101, 200, 204, 304, 400, 404, 429, 500, 503]) recorder.record(request(status));
    recorder.record(request(200, "2026-03-02T00:00:00.000Z"));
    recorder.record(request(500, "2026-03-01T23:59:59.999Z", "key_b"));
    await recorder.flush();
    expect(out.state.written[0]?.days).toEqual([
      { keyId: "key_a", accountId: "acct_a", day: "2026-03-01", status2xx: 4, status4xx: 3, status5xx: 2 },
      { keyId: "key_a", accountId: "acct_a", day: "2026-03-02", status2xx: 1, status4xx: 0, status5xx: 0 },
      { keyId: "key_b", accountId: "acct_a", day: "2026-03-01", status2xx: 0, status4xx: 0, status5xx: 1 },
    ]);
    expect(out.state.written[0]?.logs).toHaveLength(11);
    await recorder.flush(); // nothing new: nothing written
    expect(out.state.written).toHaveLength(1);
  });

  it("keeps a failed flush's counts and logs for the next one, merged with what came meanwhile", async () => {
    const out = target();
    const recorder = createUsageRecorder({ log, write: out.write });
    recorder.record(request(200));
    recorder.record(request(404));
    out.state.down = true;
    await expect(recorder.flush()).rejects.toThrow("database unavailable");
    recorder.record(request(200));
    await expect(recorder.flush()).rejects.toThrow("database unavailable");
    expect(recorder.pending()).toMatchObject({
      days: [{ keyId: "key_a", day: "2026-03-01", status2xx: 2, status4xx: 1, status5xx: 0 }],
      logs: 3,
    });
    out.state.down = false;
    await recorder.flush();
    expect(out.state.written).toHaveLength(1);
    expect(out.state.written[0]?.days).toEqual([
      { keyId: "key_a", accountId: "acct_a", day: "2026-03-01", status2xx: 2, status4xx: 1, status5xx: 0 },
    ]);
    expect(out.state.written[0]?.logs.map((l) => l.status)).toEqual([200, 404, 200]);
    expect(recorder.pending()).toMatchObject({ days: [], logs: 0 });
  });

  it("drops log entries past its cap while the database is away, never counts", async () => {
    const out = target();
    const recorder = createUsageRecorder({
      log,
      write: out.write,
      maxPendingLogs: 3,
    });
    out.state.down = true;
    for (let i = 0; i < 5; i++) recorder.record(request(200));
    expect(recorder.pending()).toMatchObject({ logs: 3, droppedLogs: 2 });
    await expect(recorder.flush()).rejects.toThrow();
    for (let i = 0; i < 2; i++) recorder.record(request(500));
    expect(recorder.pending()).toMatchObject({ logs: 3, droppedLogs: 4 });
    await expect(recorder.flush()).rejects.toThrow();
    expect(recorder.pending()).toMatchObject({ logs: 3, droppedLogs: 4 });
    out.state.down = false;
    await recorder.flush();
    expect(out.state.written[0]?.days[0]).toMatchObject({ status2xx: 5, status5xx: 2 });
    // The oldest entries are the ones kept.
    expect(out.state.written[0]?.logs.map((l) => l.status)).toEqual([200, 200, 200]);
  });

  it("a failing flush never throws out of the write-behind timer's flush", async () => {
    const out = target();
    const recorder = createUsageRecorder({ log, write: out.write });
    const writeBehind = createWriteBehind({ log });
    writeBehind.register("api-key-usage", recorder.flush);
    recorder.record(request(200));
    out.state.down = true;
    await expect(writeBehind.flush()).resolves.toBeUndefined();
    out.state.down = false;
    await writeBehind.stop();
    expect(out.state.written).toHaveLength(1);
  });
});
