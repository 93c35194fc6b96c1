import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { transact } from "../db/database.js";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { EVENT_TYPES } from "./catalog.js";
import { EVENT_FAN_OUT, EVENT_FAN_OUT_JOB } from "./event-log.js";
import type { StoredEvent } from "./events.repository.js";

describe.each(testDialects())("the event stream on %s", (dialect) => {
  let t: TestApp;
  let accountId: string;
  const seen: StoredEvent[] = [];
  let failNext = false;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    t.services.events.subscribe("test-consumer", async (_trx, _effects, events) => {
      if (failNext && events.length > 0) {
        failNext = false;
        throw new Error("the consumer failed mid-batch");
      }
      seen.push(...events);
    });
    ({ accountId } = await signUpAndLogin(t, { email: "events@example.com", account: "Events Co" }));
  });
  afterAll(() => t?.close());

  const fanOut = () => t.services.jobs.runNow([EVENT_FAN_OUT_JOB]);
  const record = (data: Record<string, unknown>) =>
    transact(t.services.db, (trx, effects) =>
      t.services.events.record(trx, effects, SYSTEM_ACTOR, { accountId, type: "account.updated", data }),
    );
  const seenWith = (marker: string) => seen.filter((e) => e.data.marker === marker);

  it("records an event only when its change commits, and hands it on exactly once", async () => {
    await expect(
      transact(t.services.db, async (trx, effects) => {
        await t.services.events.record(trx, effects, SYSTEM_ACTOR, {
          accountId,
          type: "account.updated",
          data: { marker: "rolled-back" },
        });
        throw new Error("the change failed after recording its event");
      }),
    ).rejects.toThrow(/change failed/);
    await record({ marker: "committed" });
    await fanOut();
    await fanOut();
    expect(seenWith("rolled-back")).toEqual([]);
    expect(seenWith("committed")).toEqual([
      expect.objectContaining({
        id: expect.stringMatching(/^evt_/),
        accountId,
        type: "account.updated",
        actor: { type: "system", id: null },
        occurredAt: expect.any(String),
      }),
    ]);
    const stored = await t.services.db
      .selectFrom("events")
      .selectAll()
      .where("id", "=", seenWith("committed")[0]?.id ?? "")
      .executeTakeFirstOrThrow();
    expect(stored.fanned_out_at).not.toBeNull();
  });

  it("hands a whole batch on again when a consumer fails (nothing half-delivered)", async () => {
    failNext = true;
    // The commit kicks the fan-out, which fails: both events stay pending, neither half-handed on.
    await transact(t.services.db, async (trx, effects) => {
      for (const marker of ["retried-1", "retried-2"])
        await t.services.events.record(trx, effects, SYSTEM_ACTOR, {
          accountId,
          type: "account.updated",
          data: { marker },
        });
    });
    expect(failNext).toBe(false);
    expect(seenWith("retried-1")).toEqual([]);
    expect(await t.services.events.hasPending()).toBe(true);
    const retried = await fanOut();
    expect(retried[EVENT_FAN_OUT_JOB]).toMatchObject({ status: "ok", result: { events: 2 } });
    expect(seenWith("retried-1")).toHaveLength(1);
    expect(seenWith("retried-2")).toHaveLength(1);
    expect(await t.services.events.hasPending()).toBe(false);
  });

  it("goes through more events than one batch holds, in the order they happened", async () => {
    const count = EVENT_FAN_OUT.batchSize + 7;
    await transact(t.services.db, async (trx, effects) => {
      for (let i = 0; i < count; i++)
        await t.services.events.record(trx, effects, SYSTEM_ACTOR, {
          accountId,
          type: "account.updated",
          data: { marker: "bulk", i },
        });
    });
    await fanOut();
    expect(seenWith("bulk").map((e) => e.data.i)).toHaveLength(count);
    expect(new Set(seenWith("bulk").map((e) => e.id)).size).toBe(count);
  });

  it("purges handed-on events after the retention period, never pending ones", async () => {
    const now = t.services.clock.now();
    await record({ marker: "old" });
    await fanOut();
    t.services.clock.freeze(new Date(now.getTime() + (EVENT_FAN_OUT.retentionDays + 1) * 86_400_000));
    try {
      failNext = true;
      await record({ marker: "pending-at-purge" });
      expect(await t.services.events.hasPending()).toBe(true);
      expect((await t.services.events.purge()).events).toBeGreaterThan(0);
      const left = await t.services.db.selectFrom("events").select(["data", "fanned_out_at"]).execute();
      const markers = left.map((r) => JSON.parse(r.data).marker);
      expect(markers).toContain("pending-at-purge");
      expect(markers).not.toContain("old");
      expect(left.every((r) => r.fanned_out_at === null)).toBe(true);
    } finally {
      t.services.clock.reset();
    }
    await fanOut();
  });

  it("publishes the catalog with a description and an example per type", async () => {
    const response = await createClient(t.app).get("/api/v1/event-types");
    expect(response.statusCode).toBe(200);
    const { data } = response.json() as {
      data: Array<{ type: string; description: string; example: unknown }>;
    };
    expect(data.map((d) => d.type).sort()).toEqual(Object.keys(EVENT_TYPES).sort());
    for (const entry of data) {
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.example).toBeTypeOf("object");
    }
    expect(data.map((d) => d.type)).toEqual(
      expect.arrayContaining(["member.invited", "invoice.paid", "security.mfa_enabled"]),
    );
  });
});
