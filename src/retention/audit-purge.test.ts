import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { verifyChains } from "../audit/audit.service.js";
import { runAuditCommand } from "../audit/audit-cli.js";
import { createTestApp, onPaidPlan, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";

const DAY = 86_400;
const T0 = new Date("2027-01-04T10:00:00.000Z");

describe.each(testDialects())("audit log retention on %s", (dialect) => {
  let t: TestApp;
  let serial = 0;

  const clock = () => t.services.clock;
  const db = () => t.services.db;
  /** An audit event in the account now (what any change would record). */
  const event = (accountId: string, label: string) =>
    recordAudit(db(), SYSTEM_ACTOR, { accountId, action: "test.event", changes: { label } }, clock().now());
  const labels = async (accountId: string) => {
    const rows = await db()
      .selectFrom("audit_events")
      .select(["changes", "seq"])
      .where("account_id", "=", accountId)
      .where("action", "=", "test.event")
      .orderBy("seq")
      .execute();
    return rows.map((r) => (JSON.parse(r.changes ?? "{}") as { label: string }).label);
  };
  const runRetention = async () => {
    const outcome = await t.services.jobs.runNow(["data-retention"]);
    expect(outcome["data-retention"]?.status, JSON.stringify(outcome)).toBe("ok");
  };
  const verify = (accountId: string) =>
    verifyChains(db(), accountId, { checkpointKey: t.services.auditCheckpointKey }).then((r) => r[0]);
  const newAccount = async () => {
    serial += 1;
    return signUpAndLogin(t, { email: `purge-${serial}@example.com`, account: `Purge ${serial}` });
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => clock().reset());

  it("a newly introduced limit counts from when it took effect, then purges and the chain still verifies", async () => {
    clock().freeze(T0);
    const owner = await newAccount();
    await event(owner.accountId, "day-0");
    clock().advance(40 * DAY);
    await event(owner.accountId, "day-40");
    // First run: Free's 30 days take effect now; what is older was kept under the old terms (forever).
    await runRetention();
    expect(await labels(owner.accountId)).toEqual(["day-0", "day-40"]);
    clock().advance(29 * DAY);
    await runRetention();
    expect(await labels(owner.accountId)).toEqual(["day-0", "day-40"]);
    await event(owner.accountId, "day-69");
    // 30 days after the limit took effect: older than 30 days goes.
    clock().advance(2 * DAY);
    await runRetention();
    expect(await labels(owner.accountId)).toEqual(["day-69"]);
    const result = await verify(owner.accountId);
    expect(result?.ok, JSON.stringify(result)).toBe(true);
    if (!result?.ok) return;
    expect(result.checkpoint_seq).toBeGreaterThan(0);
    const checkpoint = await db()
      .selectFrom("audit_checkpoints")
      .selectAll()
      .where("account_id", "=", owner.accountId)
      .executeTakeFirstOrThrow();
    const firstLeft = await db()
      .selectFrom("audit_events")
      .select(["seq", "prev_hash"])
      .where("account_id", "=", owner.accountId)
      .orderBy("seq")
      .executeTakeFirstOrThrow();
    expect(Number(firstLeft.seq)).toBe(Number(checkpoint.seq) + 1);
    expect(firstLeft.prev_hash).toBe(checkpoint.hash);
    // The audit CLI proves the rest from the checkpoint.
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
    expect(await runAuditCommand(["verify", "--account", owner.accountId], t.services, out)).toBe(0);
    expect(lines.join("\n")).toMatch(/^ok .*after the purge checkpoint at seq \d+/m);
  });

  it("a remaining event edited after a purge, or an edited or forged checkpoint, fails verification", async () => {
    clock().freeze(T0);
    const owner = await newAccount();
    await event(owner.accountId, "old");
    await runRetention();
    clock().advance(31 * DAY);
    await event(owner.accountId, "new-1");
    await event(owner.accountId, "new-2");
    await runRetention();
    expect(await labels(owner.accountId)).toEqual(["new-1", "new-2"]);
    expect((await verify(owner.accountId))?.ok).toBe(true);
    // Without SECRET_KEY's checkpoint key the cut cannot be proven.
    expect((await verifyChains(db(), owner.accountId, {}))[0]?.ok).toBe(false);

    // A remaining event edited.
    const target = await db()
      .selectFrom("audit_events")
      .select(["id", "changes"])
      .where("account_id", "=", owner.accountId)
      .where("action", "=", "test.event")
      .orderBy("seq", "desc")
      .executeTakeFirstOrThrow();
    await db()
      .updateTable("audit_events")
      .set({ changes: '{"label":"forged"}' })
      .where("id", "=", target.id)
      .execute();
    const edited = await verify(owner.accountId);
    expect(edited?.ok).toBe(false);
    if (edited && !edited.ok) expect(edited.reason).toMatch(/hash does not match/);
    await db()
      .updateTable("audit_events")
      .set({ changes: target.changes })
      .where("id", "=", target.id)
      .execute();
    expect((await verify(owner.accountId))?.ok).toBe(true);

    // The checkpoint moved (hiding more deleted events) or its hash changed: its MAC no longer fits.
    const checkpoint = await db()
      .selectFrom("audit_checkpoints")
      .selectAll()
      .where("account_id", "=", owner.accountId)
      .executeTakeFirstOrThrow();
    await db()
      .updateTable("audit_checkpoints")
      .set({ hash: "f".repeat(64) })
      .where("account_id", "=", owner.accountId)
      .execute();
    const forged = await verify(owner.accountId);
    expect(forged?.ok).toBe(false);
    if (forged && !forged.ok) expect(forged.reason).toMatch(/signature does not match/);
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
    expect(await runAuditCommand(["verify", "--account", owner.accountId], t.services, out)).toBe(1);
    expect(lines.join("\n")).toMatch(/BROKEN/);
    // A purge does not launder a forged checkpoint into a signed one.
    clock().advance(DAY);
    const outcome = await t.services.jobs.runNow(["data-retention"]);
    expect(outcome["data-retention"]?.status).toBe("failed");
    await db()
      .updateTable("audit_checkpoints")
      .set({ hash: checkpoint.hash })
      .where("account_id", "=", owner.accountId)
      .execute();
    expect((await verify(owner.accountId))?.ok).toBe(true);

    // The checkpoint deleted: the chain's start is missing.
    await db().deleteFrom("audit_checkpoints").where("account_id", "=", owner.accountId).execute();
    const gone = await verify(owner.accountId);
    expect(gone?.ok).toBe(false);
    if (gone && !gone.ok) expect(gone.reason).toMatch(/missing/);
    // A broken account does not hold up the others' retention; put it back for the tests after this one.
    const another = await newAccount();
    await event(another.accountId, "another-old");
    await runRetention(); // nothing of the broken chain is due yet
    clock().advance(31 * DAY);
    const failed = await t.services.jobs.runNow(["data-retention"]);
    expect(failed["data-retention"]).toMatchObject({
      status: "failed",
      error: expect.stringContaining(owner.accountId),
    });
    expect(await labels(another.accountId)).toEqual([]);
    await db().insertInto("audit_checkpoints").values(checkpoint).execute();
    await runRetention();
  });

  it("a downgrade lowers the limit in force from the moment billing changes the plan", async () => {
    clock().freeze(T0);
    const owner = await newAccount();
    await onPaidPlan(t, owner.accountId, { plan: "pro" });
    await event(owner.accountId, "day-0");
    await runRetention(); // Pro's 365 days take effect now
    clock().advance(100 * DAY);
    await event(owner.accountId, "day-100");
    clock().advance(280 * DAY);
    await event(owner.accountId, "day-380");
    clock().advance(20 * DAY);
    await runRetention();
    // Day 400: older than 365 days goes (the limit took effect 400 days ago).
    expect(await labels(owner.accountId)).toEqual(["day-100", "day-380"]);

    // The period ends with a scheduled downgrade to Free: billing's renewal ends the subscription.
    await db()
      .updateTable("subscriptions")
      .set({ ends_with: "free", period_end: clock().now().toISOString() })
      .where("account_id", "=", owner.accountId)
      .execute();
    const renewal = await t.services.jobs.runNow(["billing-renewals"]);
    expect(renewal["billing-renewals"]?.status).toBe("ok");
    const limit = await db()
      .selectFrom("retention_limits")
      .selectAll()
      .where("account_id", "=", owner.accountId)
      .where("setting", "=", "audit_log_days")
      .executeTakeFirstOrThrow();
    expect(Number(limit.days)).toBe(30);
    expect(limit.since).toBe(clock().now().toISOString());
    expect(Number(limit.days_before)).toBe(365);

    // History kept under Pro's terms stays until 30 days have passed since the downgrade.
    clock().advance(DAY);
    await runRetention();
    expect(await labels(owner.accountId)).toEqual(["day-100", "day-380"]);
    await event(owner.accountId, "day-401");
    clock().advance(28 * DAY);
    await runRetention();
    expect(await labels(owner.accountId)).toEqual(["day-100", "day-380", "day-401"]);
    clock().advance(2 * DAY);
    await runRetention();
    // Day 431: 30 days since the downgrade; older than 30 days (before day 401) goes.
    expect(await labels(owner.accountId)).toEqual(["day-401"]);
    expect((await verify(owner.accountId))?.ok).toBe(true);
  });

  it("purges only the account's own events, and an upgrade keeps more at once", async () => {
    clock().freeze(T0);
    const free = await newAccount();
    const team = await newAccount();
    await onPaidPlan(t, team.accountId, { plan: "team" });
    await event(free.accountId, "free-0");
    await event(team.accountId, "team-0");
    await runRetention();
    clock().advance(31 * DAY);
    await event(free.accountId, "free-31");
    await runRetention();
    expect(await labels(free.accountId)).toEqual(["free-31"]);
    expect(await labels(team.accountId)).toEqual(["team-0"]);
    // Upgrade: Pro's 365 days apply at once (raising never needs a wait).
    await onPaidPlan(t, free.accountId, { plan: "pro" });
    clock().advance(40 * DAY);
    await runRetention();
    expect(await labels(free.accountId)).toEqual(["free-31"]);
    expect((await verify(free.accountId))?.ok).toBe(true);
    expect((await verify(team.accountId))?.ok).toBe(true);
  });
});
