import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyChains } from "../audit/audit.service.js";
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
import { ANONYMISED_DOMAIN } from "./retention.repository.js";

type Owner = { client: Client; accountId: string; userId: string; password: string };

const DAY = 86_400;

describe.each(testDialects())("data retention settings on %s", (dialect) => {
  let t: TestApp;
  let root: Owner;
  let monitor: Owner;
  let other: Owner;
  let base: string;
  let serial = 0;

  const path = (accountId = root.accountId) => `/api/v1/accounts/${accountId}/data-retention`;
  const patch = (body: unknown, client = root.client, accountId = root.accountId) =>
    client.patch(path(accountId), body);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, { email: "ret-root@example.com", account: "Retain Co" });
    base = `/api/v1/accounts/${root.accountId}`;
    monitor = {
      ...(await addMember(t, root, { email: "ret-monitor@example.com", roleKey: "monitor" })),
      accountId: root.accountId,
    };
    other = await signUpAndLogin(t, { email: "ret-other@example.com", account: "Other Co" });
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  it("starts at the plan's defaults with its bounds, readable by every member", async () => {
    const got = await monitor.client.get(path());
    expect(got.statusCode, got.payload).toBe(200);
    expect(got.body).toMatchObject({
      audit_log_days: 30,
      export_files_days: 7,
      deleted_member_days: 30,
      plan: "free",
      bounds: {
        audit_log_days: { min: 1, max: 30, forever: false },
        export_files_days: { min: 1, max: 90, forever: false },
        deleted_member_days: { min: 1, max: 365, forever: false },
      },
    });
    expect(got.body.in_force.audit_log_days.days).toBe(30);
    // Reading writes nothing.
    const stored = await t.services.db
      .selectFrom("retention_limits")
      .select("setting")
      .where("account_id", "=", root.accountId)
      .execute();
    expect(stored).toEqual([]);
  });

  it("refuses changes without account:update (403), and other accounts' settings (404)", async () => {
    const refused = await patch({ export_files_days: 10 }, monitor.client);
    expect(refused.statusCode).toBe(403);
    expect((await other.client.get(path())).statusCode).toBe(404);
    expect((await patch({ export_files_days: 10 }, other.client)).statusCode).toBe(404);
    const key = await createApiKey(root, ["account:read"]);
    const byKey = createKeyClient(t.app, key.secret);
    expect((await byKey.get(path())).statusCode).toBe(200);
    expect((await byKey.patch(path(), { export_files_days: 10 })).statusCode).toBe(403);
    expect((await t.services.db.selectFrom("account_retention").selectAll().execute()).length).toBe(0);
  });

  it("refuses values outside the plan's bounds with 422 naming the field and the range", async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ audit_log_days: 31 }, "/audit_log_days", /1–30 days/],
      [{ audit_log_days: 0 }, "/audit_log_days", /1–30 days/],
      [{ audit_log_days: -5 }, "/audit_log_days", /1–30 days/],
      [{ audit_log_days: null }, "/audit_log_days", /Enterprise/],
      [{ export_files_days: 91 }, "/export_files_days", /1–90 days/],
      [{ export_files_days: null }, "/export_files_days", /cannot be kept forever/],
      [{ deleted_member_days: 366 }, "/deleted_member_days", /1–365 days/],
      [{ deleted_member_days: 1e300 }, "/deleted_member_days", /1–365 days/],
      [{ deleted_member_days: Number.MAX_SAFE_INTEGER + 2 }, "/deleted_member_days", /1–365 days/],
    ];
    for (const [body, field, range] of cases) {
      const refused = await patch(body);
      expect(refused.statusCode, `${JSON.stringify(body)}: ${refused.payload}`).toBe(422);
      expect(refused.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(refused.body.code).toBe("out_of_range");
      expect(refused.body.errors).toEqual([
        expect.objectContaining({ path: field, message: expect.stringMatching(range) }),
      ]);
    }
    // Not numbers at all: 400 naming the field.
    for (const body of [
      { audit_log_days: "30" },
      { export_files_days: 7.5 },
      { deleted_member_days: true },
      { deleted_member_days: [30] },
      { unknown_setting: 3 },
    ]) {
      const refused = await patch(body);
      expect(refused.statusCode, `${JSON.stringify(body)}: ${refused.payload}`).toBe(400);
      expect(refused.body.code).toBe("validation_failed");
    }
    expect((await patch("not json")).statusCode).toBe(400);
    // Several at once: each named.
    const both = await patch({ audit_log_days: 400, export_files_days: 0 });
    expect(both.statusCode).toBe(422);
    expect(both.body.errors.map((e: { path: string }) => e.path)).toEqual([
      "/audit_log_days",
      "/export_files_days",
    ]);
    // Nothing was stored.
    expect((await root.client.get(path())).body.export_files_days).toBe(7);
  });

  it("saves in bounds, audits the change, and follows the plan (Team 1095 days, Enterprise forever)", async () => {
    const saved = await patch({ audit_log_days: 10, export_files_days: 30, deleted_member_days: 90 });
    expect(saved.statusCode, saved.payload).toBe(200);
    expect(saved.body).toMatchObject({ audit_log_days: 10, export_files_days: 30, deleted_member_days: 90 });
    expect(saved.body.in_force.audit_log_days.days).toBe(10);
    const log = await root.client.get(`${base}/audit-events?action=data_retention.updated`);
    expect(log.body.data[0]).toMatchObject({
      action: "data_retention.updated",
      actor: { id: root.userId },
      changes: {
        audit_log_days: { from: 30, to: 10 },
        export_files_days: { from: 7, to: 30 },
        deleted_member_days: { from: 30, to: 90 },
      },
    });
    // The same again changes (and records) nothing.
    await patch({ export_files_days: 30 });
    expect(
      (await root.client.get(`${base}/audit-events?action=data_retention.updated`)).body.data,
    ).toHaveLength(1);

    await onPaidPlan(t, root.accountId, { plan: "team" });
    expect((await patch({ audit_log_days: 1095 })).statusCode).toBe(200);
    const over = await patch({ audit_log_days: 1096 });
    expect(over.statusCode).toBe(422);
    expect(over.body.detail).toMatch(/1–1095 days/);
    expect((await patch({ audit_log_days: null })).statusCode).toBe(422);

    await onPaidPlan(t, root.accountId, { plan: "enterprise" });
    const forever = await patch({ audit_log_days: null });
    expect(forever.statusCode, forever.payload).toBe(200);
    expect(forever.body.audit_log_days).toBeNull();
    expect(forever.body.bounds.audit_log_days.forever).toBe(true);
    expect(forever.body.in_force.audit_log_days.days).toBeNull();
    expect((await patch({ audit_log_days: 5000 })).statusCode).toBe(200);

    // Back on Free, the setting stays but the limit in force is Free's maximum.
    await t.services.db.deleteFrom("subscriptions").where("account_id", "=", root.accountId).execute();
    const free = await root.client.get(path());
    expect(free.body.audit_log_days).toBe(5000);
    expect(free.body.in_force.audit_log_days.days).toBe(30);
    expect((await patch({ audit_log_days: 30 })).statusCode).toBe(200);
  });

  it("exportFilesDays: a raise applies at once, a lowered value once its own days have passed", async () => {
    const { retention, clock } = t.services;
    clock.freeze(new Date());
    const owner = await signUpAndLogin(t, {
      email: `ret-export-${++serial}@example.com`,
      account: "Export Co",
    });
    expect(await retention.exportFilesDays(owner.accountId)).toBe(7);
    expect((await patch({ export_files_days: 60 }, owner.client, owner.accountId)).statusCode).toBe(200);
    expect(await retention.exportFilesDays(owner.accountId)).toBe(60);
    expect((await patch({ export_files_days: 3 }, owner.client, owner.accountId)).statusCode).toBe(200);
    expect(await retention.exportFilesDays(owner.accountId)).toBe(60);
    clock.advance(3 * DAY - 1);
    expect(await retention.exportFilesDays(owner.accountId)).toBe(60);
    clock.advance(1);
    expect(await retention.exportFilesDays(owner.accountId)).toBe(3);
    expect(await retention.exportFilesDays(other.accountId)).toBe(7);
  });

  it("anonymises people who left and ended invitations after deleted_member_days, in that account only", async () => {
    const { clock, db, jobs } = t.services;
    clock.freeze(new Date());
    const owner = await signUpAndLogin(t, { email: `ret-anon-${++serial}@example.com`, account: "Anon Co" });
    const ob = `/api/v1/accounts/${owner.accountId}`;
    const leaver = await addMember(
      t,
      { client: owner.client, accountId: owner.accountId },
      {
        email: "ret-leaver@example.com",
        firstName: "Lena",
      },
    );
    const roles = await owner.client.get(`${ob}/roles`);
    const monitorRole = roles.body.data.find((r: { key: string }) => r.key === "monitor").id;
    const invited = await owner.client.post(`${ob}/invitations`, {
      emails: ["ret-revoked@example.com"],
      role_id: monitorRole,
    });
    const invitationId = invited.body.data[0].invitation.id as string;
    expect((await owner.client.delete(`${ob}/invitations/${invitationId}`)).statusCode).toBe(204);
    // The same in another account, which keeps the default 30 days.
    const elsewhere = await other.client.post(`/api/v1/accounts/${other.accountId}/invitations`, {
      emails: ["ret-revoked@example.com"],
      role_id: (await other.client.get(`/api/v1/accounts/${other.accountId}/roles`)).body.data.find(
        (r: { key: string }) => r.key === "monitor",
      ).id,
    });
    const elsewhereId = elsewhere.body.data[0].invitation.id as string;
    expect(
      (await other.client.delete(`/api/v1/accounts/${other.accountId}/invitations/${elsewhereId}`))
        .statusCode,
    ).toBe(204);

    expect((await patch({ deleted_member_days: 1 }, owner.client, owner.accountId)).statusCode).toBe(200);
    expect((await owner.client.delete(`${ob}/members/${leaver.userId}`)).statusCode).toBe(204);
    await jobs.idle();

    // The removal's audit event keeps the email out of its hashed fields; the log still shows it.
    const removedRow = await db
      .selectFrom("audit_events")
      .select(["changes", "personal"])
      .where("account_id", "=", owner.accountId)
      .where("action", "=", "member.removed")
      .executeTakeFirstOrThrow();
    expect(removedRow.changes).not.toContain("@");
    expect(removedRow.personal).toContain("ret-leaver@example.com");
    const before = await owner.client.get(`${ob}/audit-events?action=member.removed`);
    expect(before.body.data[0].changes.email).toBe("ret-leaver@example.com");
    const invitedRow = await db
      .selectFrom("audit_events")
      .select("changes")
      .where("account_id", "=", owner.accountId)
      .where("action", "=", "invitation.created")
      .where("target_id", "=", invitationId)
      .executeTakeFirstOrThrow();
    expect(invitedRow.changes ?? "").not.toContain("@");

    const streamText = async (accountId: string) =>
      (await db.selectFrom("events").select("data").where("account_id", "=", accountId).execute())
        .map((e) => e.data)
        .join("\n");
    expect(await streamText(owner.accountId)).toContain("ret-leaver@example.com");

    // Within the day nothing changes.
    clock.advance(DAY - 60);
    await jobs.runNow(["data-retention"]);
    const kept = await db
      .selectFrom("invitations")
      .select("email")
      .where("id", "=", invitationId)
      .executeTakeFirstOrThrow();
    expect(kept.email).toBe("ret-revoked@example.com");

    clock.advance(2 * DAY);
    const run = await jobs.runNow(["data-retention"]);
    expect(run["data-retention"]?.status).toBe("ok");
    const revoked = await db
      .selectFrom("invitations")
      .selectAll()
      .where("id", "=", invitationId)
      .executeTakeFirstOrThrow();
    expect(revoked.email).toBe(`${invitationId}@${ANONYMISED_DOMAIN}`);
    expect(revoked.first_name).toBe("");
    const accepted = await db
      .selectFrom("invitations")
      .selectAll()
      .where("account_id", "=", owner.accountId)
      .where("accepted_user_id", "=", leaver.userId)
      .executeTakeFirstOrThrow();
    expect(accepted.email).toMatch(new RegExp(`@${ANONYMISED_DOMAIN.replace(".", "\\.")}$`));
    expect(accepted.first_name).toBe("");
    // The other account's invitation is its own business (30 days).
    const untouched = await db
      .selectFrom("invitations")
      .select("email")
      .where("id", "=", elsewhereId)
      .executeTakeFirstOrThrow();
    expect(untouched.email).toBe("ret-revoked@example.com");

    // The event stream's copies (and webhook deliveries') no longer name them either; the ids stay.
    const stream = await streamText(owner.accountId);
    expect(stream).not.toContain("ret-leaver@example.com");
    expect(stream).not.toContain("ret-revoked@example.com");
    expect(stream).toContain(leaver.userId);
    expect(await streamText(other.accountId)).toContain("ret-revoked@example.com");

    // The audit log no longer names them; the usr_ id stays as the pseudonym, and the chain verifies.
    await owner.client.post("/api/v1/auth/login", {
      email: `ret-anon-${serial}@example.com`,
      password: owner.password,
    });
    const after = await owner.client.get(`${ob}/audit-events?action=member.removed`);
    expect(after.statusCode, after.payload).toBe(200);
    expect(after.body.data[0].target.id).toBe(leaver.userId);
    expect(JSON.stringify(after.body.data)).not.toContain("ret-leaver@example.com");
    const byLeaver = await owner.client.get(`${ob}/audit-events?actor_id=${leaver.userId}`);
    expect(byLeaver.body.data.length).toBeGreaterThan(0);
    expect(byLeaver.body.data.every((e: { actor: { email: string | null } }) => e.actor.email === null)).toBe(
      true,
    );
    expect(JSON.stringify((await owner.client.get(`${ob}/audit-events`)).body)).not.toContain("ret-revoked@");
    const chains = await verifyChains(db, owner.accountId, { checkpointKey: t.services.auditCheckpointKey });
    expect(chains[0]?.ok, JSON.stringify(chains)).toBe(true);
  });
});
