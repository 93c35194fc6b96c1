import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  createLocalInvalidator,
  createPostgresInvalidator,
  createSessionCache,
  invalidationChannel,
  reconnectDelayMs,
} from "./session-cache.js";
import type { Session } from "./sessions.repository.js";

const session = (n: number, userId = `usr_${n}`): Session => ({
  id: `sess_${n}`,
  tokenHash: `hash_${n}`,
  userId,
  accountId: null,
  createdAt: "",
  lastSeenAt: "",
  idleExpiresAt: "",
  expiresAt: "",
  idleMinutes: 30,
  ip: null,
  userAgent: null,
  passwordChangeRequired: false,
  reauthUntil: null,
  mfaEnrollmentDueAt: null,
  revokedAt: null,
});

describe("session cache", () => {
  it("evicts every session of a user at once", () => {
    const cache = createSessionCache(createLocalInvalidator());
    cache.set(session(1, "usr_a"));
    cache.set(session(2, "usr_a"));
    cache.set(session(3, "usr_b"));
    cache.evictUser("usr_a");
    expect(cache.get("hash_1")).toBeUndefined();
    expect(cache.get("hash_2")).toBeUndefined();
    expect(cache.get("hash_3")?.id).toBe("sess_3");
  });

  it("evicts the sessions in an account when the account changes (acct:<id>), and only those", () => {
    const invalidator = createLocalInvalidator();
    const cache = createSessionCache(invalidator);
    cache.set({ ...session(1, "usr_a"), accountId: "acct_x" });
    cache.set({ ...session(2, "usr_b"), accountId: "acct_x" });
    cache.set({ ...session(3, "usr_a"), accountId: "acct_y" });
    cache.set({ ...session(1, "usr_a"), accountId: "acct_y" }); // moved to another account
    invalidator.deliverLocally("acct:acct_x");
    expect(cache.get("hash_2")).toBeUndefined();
    expect(cache.get("hash_1")?.accountId).toBe("acct_y");
    expect(cache.get("hash_3")?.id).toBe("sess_3");
    invalidator.deliverLocally("acct:acct_y");
    expect(cache.size()).toBe(0);
  });

  it("stays within its size bound, dropping the oldest entries", () => {
    const cache = createSessionCache(createLocalInvalidator(), { maxEntries: 3, ttlMs: 60_000 });
    for (let i = 0; i < 5; i++) cache.set(session(i));
    expect(cache.size()).toBe(3);
    expect(cache.get("hash_0")).toBeUndefined();
    expect(cache.get("hash_4")?.id).toBe("sess_4");
  });

  it("does not trust anything while the invalidation channel is down", () => {
    let healthy = true;
    const invalidator = { ...createLocalInvalidator(), healthy: () => healthy };
    const cache = createSessionCache(invalidator);
    cache.set(session(1));
    healthy = false;
    expect(cache.get("hash_1")).toBeUndefined();
    cache.set(session(2));
    healthy = true;
    expect(cache.get("hash_2")).toBeUndefined();
  });

  it("forgets entries older than its time-to-live", () => {
    const cache = createSessionCache(createLocalInvalidator(), { maxEntries: 10, ttlMs: -1 });
    cache.set(session(1));
    expect(cache.get("hash_1")).toBeUndefined();
    expect(cache.size()).toBe(0);
  });
});

describe("reconnecting the invalidation channel", () => {
  it("waits 0.25 s doubling to 10 s, each wait jittered within the upper half", () => {
    const lowest = (attempt: number) => reconnectDelayMs(attempt, () => 0);
    const highest = (attempt: number) => reconnectDelayMs(attempt, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map(highest)).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
    expect([0, 1, 6, 50].map(lowest)).toEqual([125, 250, 5000, 5000]);
    expect(reconnectDelayMs(3, () => 0.5)).toBe(1500);
  });
});

describe("the invalidation channel on PostgreSQL", () => {
  it("is one per schema, within PostgreSQL's 63 bytes", () => {
    expect(invalidationChannel()).toBe("gatehouse_sessions");
    expect(invalidationChannel("tenant_a")).toBe("gatehouse_sessions.tenant_a");
    const long = invalidationChannel("s".repeat(63));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long).not.toBe(invalidationChannel(`${"s".repeat(62)}t`));
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    "is not heard by processes working in another schema of the same database",
    async () => {
      const config = { connectionString: process.env.TEST_DATABASE_URL };
      const events = { error: () => {}, restored: () => {} };
      const heard = { a: [] as string[], b: [] as string[] };
      const a = await createPostgresInvalidator(config, events, "channel_test_a");
      const b = await createPostgresInvalidator(config, events, "channel_test_b");
      a.onInvalidate((m) => heard.a.push(m));
      b.onInvalidate((m) => heard.b.push(m));
      const sender = new pg.Client(config);
      await sender.connect();
      try {
        // One sender, two commits in order: by the time B hears the second, it would have heard the first.
        await sender.query("select pg_notify($1, 'usr_for_a')", [invalidationChannel("channel_test_a")]);
        await sender.query("select pg_notify($1, 'usr_for_b')", [invalidationChannel("channel_test_b")]);
        await expect.poll(() => heard.b.includes("usr_for_b")).toBe(true);
        await expect.poll(() => heard.a.includes("usr_for_a")).toBe(true);
        expect(heard.b).not.toContain("usr_for_a");
        expect(heard.a).not.toContain("usr_for_b");
      } finally {
        await sender.end();
        await a.close();
        await b.close();
      }
    },
  );
});
