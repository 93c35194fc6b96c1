import { describe, expect, it } from "vitest";
import { createLocalInvalidator, createSessionCache, reconnectDelayMs } from "./session-cache.js";
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
