import { describe, expect, it } from "vitest";
import { createLocalInvalidator } from "../auth/session-cache.js";
import { createAccountCache } from "./account-cache.js";
import { createGuardedCache } from "./guarded-cache.js";

/** A load that resolves when told to, counting its calls. */
function gate<V>(value: V) {
  let release: () => void = () => {};
  const calls = { n: 0 };
  const load = () => {
    calls.n++;
    return new Promise<V>((resolve) => {
      release = () => resolve(value);
    });
  };
  return { load, release: () => release(), calls };
}

describe("guarded cache", () => {
  const options = { ttlMs: 60_000, maxEntries: 100 };

  it("answers a hit at once (no promise) and a miss with the load's promise", async () => {
    const cache = createGuardedCache<string>(createLocalInvalidator(), options);
    const first = cache.get("a", async () => "loaded");
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe("loaded");
    expect(cache.get("a", async () => "again")).toBe("loaded");
  });

  it("does not keep a load that an invalidation overtook, and keeps the next one", async () => {
    const cache = createGuardedCache<string>(createLocalInvalidator(), options);
    const stale = gate("before the change");
    const pending = cache.get("a", stale.load);
    cache.forget("a");
    stale.release();
    expect(await pending).toBe("before the change");
    const fresh = gate("after the change");
    const reloaded = cache.get("a", fresh.load);
    expect(reloaded).toBeInstanceOf(Promise);
    fresh.release();
    expect(await reloaded).toBe("after the change");
    expect(cache.get("a", fresh.load)).toBe("after the change");
    expect(fresh.calls.n).toBe(1);
  });

  it("forgets a group's entries and only those, and clears everything", async () => {
    const cache = createGuardedCache<{ accounts: string[] }>(createLocalInvalidator(), {
      ...options,
      groupsOf: (_key, value) => value.accounts,
    });
    await cache.get("u1", async () => ({ accounts: ["acct_a", "acct_b"] }));
    await cache.get("u2", async () => ({ accounts: ["acct_b"] }));
    await cache.get("u3", async () => ({ accounts: ["acct_c"] }));
    cache.forgetGroup("acct_b");
    expect(cache.size()).toBe(1);
    expect(cache.get("u1", async () => ({ accounts: [] }))).toBeInstanceOf(Promise);
    expect(cache.get("u3", async () => ({ accounts: [] }))).toEqual({ accounts: ["acct_c"] });
    cache.clear();
    expect(cache.size()).toBe(0);
  });

  it("keeps at most maxEntries, dropping the oldest from its groups too", async () => {
    const cache = createGuardedCache<string>(createLocalInvalidator(), {
      ttlMs: 60_000,
      maxEntries: 2,
      groupsOf: () => ["acct_x"],
    });
    for (const key of ["k1", "k2", "k3"]) await cache.get(key, async () => key);
    expect(cache.size()).toBe(2);
    expect(cache.get("k1", async () => "reloaded")).toBeInstanceOf(Promise);
    expect(cache.get("k3", async () => "reloaded")).toBe("k3");
    // k1 came back and pushed k2 out; the group holds exactly what is cached.
    cache.forgetGroup("acct_x");
    expect(cache.size()).toBe(0);
  });

  it("neither answers nor keeps anything while the invalidation channel is down, nor after ttlMs", async () => {
    let healthy = true;
    const invalidator = { ...createLocalInvalidator(), healthy: () => healthy };
    const cache = createGuardedCache<string>(invalidator, options);
    await cache.get("a", async () => "kept");
    healthy = false;
    expect(await cache.get("a", async () => "from the database")).toBe("from the database");
    await cache.get("b", async () => "not kept");
    healthy = true;
    expect(cache.get("a", async () => "unused")).toBe("kept");
    expect(cache.get("b", async () => "now kept")).toBeInstanceOf(Promise);
    const expiring = createGuardedCache<string>(invalidator, { ttlMs: -1, maxEntries: 10 });
    await expiring.get("a", async () => "one");
    expect(await expiring.get("a", async () => "two")).toBe("two");
  });

  it("per-account cache: acct:<id> drops that account's value in this process, * drops all", async () => {
    const invalidator = createLocalInvalidator();
    const counts = createAccountCache<number>(invalidator);
    await counts.get("acct_a", async () => 1);
    await counts.get("acct_b", async () => 2);
    invalidator.deliverLocally("acct:acct_a");
    invalidator.deliverLocally("me:usr_x");
    expect(counts.get("acct_a", async () => 10)).toBeInstanceOf(Promise);
    expect(counts.get("acct_b", async () => 20)).toBe(2);
    invalidator.deliverLocally("*");
    expect(counts.get("acct_b", async () => 20)).toBeInstanceOf(Promise);
  });
});
