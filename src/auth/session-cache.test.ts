import { describe, expect, it } from "vitest";
import { createLocalInvalidator, createSessionCache } from "./session-cache.js";
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
