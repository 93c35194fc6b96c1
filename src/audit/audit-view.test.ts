import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { type Actor, recordAudit } from "./audit.repository.js";
import { deviceLabel } from "./audit.routes.js";
import { AUDIT_CATEGORIES, auditCategoryOf } from "./audit-categories.js";

const MAC_CHROME =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36";
const DAY = 86_400;

/** Every action the server records (grep `action:` and the services' audit helpers under src/). */
const RECORDED_ACTIONS = [
  "account.closure_cancelled",
  "account.closure_scheduled",
  "account.created",
  "account.deleted",
  "account.logo_removed",
  "account.logo_uploaded",
  "account.renamed",
  "account.security_updated",
  "account.updated",
  "api_key.created",
  "api_key.revoked",
  "api_key.rotated",
  "api_key.updated",
  "audit.erased",
  "auth.guessing_locked",
  "auth.login",
  "auth.login_failed",
  "auth.login_refused_ip",
  "auth.logout",
  "auth.mfa_failed",
  "auth.password_reset_requested",
  "auth.reauthenticated",
  "billing.auto_pay_changed",
  "billing.cancellation_undone",
  "billing.downgrade_scheduled",
  "billing.downgraded",
  "billing.enterprise_terms_set",
  "billing.invoice_paid",
  "billing.payment_failed",
  "billing.payment_method_added",
  "billing.payment_method_defaulted",
  "billing.payment_method_removed",
  "billing.plan_changed",
  "billing.renewed",
  "billing.seats_added",
  "billing.subscription_canceled",
  "branding.test_email_sent",
  "branding.updated",
  "data_retention.updated",
  "domain.added",
  "domain.failed",
  "domain.removed",
  "domain.verified",
  "export.completed",
  "export.downloaded",
  "export.failed",
  "export.requested",
  "export_schedule.created",
  "export_schedule.deleted",
  "export_schedule.updated",
  "invitation.accept_refused_ip",
  "invitation.accepted",
  "invitation.created",
  "invitation.resent",
  "invitation.revoked",
  "member.logged_out",
  "member.mfa_reset",
  "member.password_reset_forced",
  "member.reactivated",
  "member.recovery_codes_issued",
  "member.recovery_codes_viewed",
  "member.removed",
  "member.role_changed",
  "member.suspended",
  "mfa.disabled",
  "mfa.email_enrollment_started",
  "mfa.enabled",
  "mfa.passkey_renamed",
  "mfa.recovery_codes_regenerated",
  "mfa.sms_enrollment_started",
  "mfa.totp_enrollment_started",
  "permission.registered",
  "role.created",
  "role.deleted",
  "role.updated",
  "session.revoked",
  "session.revoked_others",
  "team.created",
  "team.deleted",
  "team.members_set",
  "team.updated",
  "user.avatar_removed",
  "user.avatar_uploaded",
  "user.deactivated",
  "user.deleted",
  "user.email_change_requested",
  "user.email_changed",
  "user.email_verified",
  "user.mobile_verification_sent",
  "user.mobile_verified",
  "user.notification_preferences_updated",
  "user.notification_unsubscribed",
  "user.password_changed",
  "user.password_reset",
  "user.password_reset_by_operator",
  "user.preferences_updated",
  "user.profile_updated",
  "user.reactivated",
  "user.signed_up",
  "webhook.created",
  "webhook.deleted",
  "webhook.delivery_retried",
  "webhook.disabled",
  "webhook.secret_rotated",
  "webhook.updated",
];

type Owner = { client: Client; accountId: string; userId: string };
type EventView = {
  id: string;
  action: string;
  category: string;
  actor: { id: string | null; name: string | null; avatar_url: string | null };
  target: { type: string | null; id: string | null; name: string | null };
  changes: Record<string, unknown> | null;
  change_names: Record<string, unknown> | null;
  device: string | null;
};

describe("audit categories and devices", () => {
  it("files the sign-in and password actions under security, whatever their prefix", () => {
    expect(auditCategoryOf("member.role_changed")).toBe("members");
    expect(auditCategoryOf("member.mfa_reset")).toBe("security");
    expect(auditCategoryOf("user.password_changed")).toBe("security");
    expect(auditCategoryOf("team.members_set")).toBe("roles_teams");
    expect(auditCategoryOf("webhook.created")).toBe("api_keys_webhooks");
    expect(auditCategoryOf("export.requested")).toBe("account_data");
    expect(auditCategoryOf("something.new")).toBe("account_data");
  });

  it('reads a user agent as "Chrome on macOS"', () => {
    expect(deviceLabel(MAC_CHROME)).toBe("Chrome on macOS");
    expect(deviceLabel("curl/8.4.0")).toBe("curl");
    expect(deviceLabel(null)).toBeNull();
    expect(deviceLabel("???")).toBeNull();
  });
});

describe.each(testDialects())("the audit log for people on %s", (dialect) => {
  let t: TestApp;
  let root: Owner;
  let other: Owner;
  let alice: { client: Client; userId: string };
  let monitor: { client: Client; userId: string };
  let base: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, {
      email: "view-root@example.com",
      name: "Dana Scully",
      account: "View Co",
    });
    base = `/api/v1/accounts/${root.accountId}`;
    await onPaidPlan(t, root.accountId);
    alice = await addMember(t, root, {
      email: "view-alice@example.com",
      roleKey: "developer",
      firstName: "Alice",
    });
    monitor = await addMember(t, root, {
      email: "view-monitor@example.com",
      roleKey: "monitor",
      firstName: "Moe",
    });
    other = await signUpAndLogin(t, {
      email: "view-eve@example.com",
      name: "Eve Elsewhere",
      account: "Other Co",
    });
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const list = async (client: Client, query: string): Promise<EventView[]> => {
    const response = await client.get(`${base}/audit-events?${query}`);
    expect(response.statusCode).toBe(200);
    return response.body.data as EventView[];
  };

  it("names the actor, the target and the roles a change holds ids or keys of, and reads the device", async () => {
    const mac = createClient(t.app, { userAgent: MAC_CHROME });
    const login = await mac.post("/api/v1/auth/login", {
      email: "view-root@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    const roles = (await mac.get(`${base}/roles`)).body.data as Array<{ id: string; key: string }>;
    const admin = roles.find((r) => r.key === "admin")?.id;
    const changed = await mac.patch(`${base}/members/${alice.userId}`, { role_id: admin });
    expect(changed.statusCode).toBe(200);

    const [event] = await list(root.client, "action=member.role_changed");
    expect(event).toMatchObject({
      category: "members",
      actor: { id: root.userId, name: "Dana Scully", avatar_url: null },
      target: { type: "user", id: alice.userId, name: "Alice Person" },
      changes: { from: "developer", to: "admin" },
      change_names: { from: "Developer", to: "Admin" },
      device: "Chrome on macOS",
    });

    const team = await root.client.post(`${base}/teams`, { name: "Night shift" });
    expect(team.statusCode).toBe(201);
    const set = await root.client.put(`${base}/teams/${team.body.id}/members`, {
      user_ids: [alice.userId, monitor.userId],
    });
    expect(set.statusCode).toBe(200);
    const [members] = await list(root.client, "action=team.members_set");
    expect(members?.target.name).toBe("Night shift");
    expect(members?.change_names?.added).toEqual(expect.arrayContaining(["Alice Person", "Moe Person"]));
  });

  it("filters by category, and refuses a category it does not know", async () => {
    const at = t.services.clock.now();
    const actor: Actor = { type: "system", id: null, ip: null, userAgent: null, requestId: null };
    await t.services.db.transaction().execute(async (trx) => {
      for (const action of RECORDED_ACTIONS)
        await recordAudit(trx, actor, { accountId: root.accountId, action }, at);
    });
    const seen = new Map<string, string>();
    for (const category of AUDIT_CATEGORIES) {
      const events = await list(root.client, `category=${category}&limit=200`);
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) {
        expect(event.category).toBe(category);
        expect(auditCategoryOf(event.action)).toBe(category);
        seen.set(event.action, category);
      }
    }
    // Every action lands in exactly one category the filter finds it by.
    for (const action of RECORDED_ACTIONS) expect(seen.get(action)).toBe(auditCategoryOf(action));

    for (const bad of ["everything", "MEMBERS", "members.*", ""]) {
      const response = await root.client.get(`${base}/audit-events?category=${encodeURIComponent(bad)}`);
      expect(response.statusCode).toBe(400);
      expect(response.headers["content-type"]).toContain("application/problem+json");
    }
  });

  it("never names someone, or something, from another account", async () => {
    const otherTeam = await other.client.post(`/api/v1/accounts/${other.accountId}/teams`, {
      name: "Secret team",
    });
    expect(otherTeam.statusCode).toBe(201);
    const actor: Actor = { type: "user", id: other.userId, ip: null, userAgent: null, requestId: null };
    await recordAudit(
      t.services.db,
      actor,
      {
        accountId: root.accountId,
        action: "team.members_set",
        targetType: "team",
        targetId: otherTeam.body.id,
        changes: { added: [other.userId], removed: [] },
      },
      t.services.clock.now(),
    );
    const [event] = await list(root.client, `action=team.members_set&actor_id=${other.userId}`);
    expect(event?.actor.name).toBeNull();
    expect(event?.target.name).toBeNull();
    expect(event?.change_names).toBeNull();
    expect(JSON.stringify(event)).not.toMatch(/Eve|Elsewhere|Secret team/);
    // And the other account's log does not read this one's names either.
    const theirs = await other.client.get(`/api/v1/accounts/${other.accountId}/audit-events`);
    expect(JSON.stringify(theirs.body)).not.toMatch(/Dana|Scully|Alice/);
    expect((await other.client.get(`${base}/audit-events`)).statusCode).toBe(404);
  });

  it("lets audit readers in and keeps others out", async () => {
    expect((await monitor.client.get(`${base}/audit-events?category=members`)).statusCode).toBe(403);
    expect((await alice.client.get(`${base}/audit-events?category=members`)).statusCode).toBe(200);
  });

  it("stops naming someone who left once retention anonymised them", async () => {
    const { clock, jobs } = t.services;
    clock.freeze(new Date());
    const leaver = await addMember(t, root, { email: "view-leaver@example.com", firstName: "Lena" });
    const retention = await root.client.patch(`${base}/data-retention`, { deleted_member_days: 1 });
    expect(retention.statusCode).toBe(200);
    expect((await root.client.delete(`${base}/members/${leaver.userId}`)).statusCode).toBe(204);
    await jobs.idle();
    const named = async () =>
      (await list(root.client, `target_id=${leaver.userId}`)).find((e) => e.action === "member.removed");
    // Left, not yet anonymised: still named.
    expect((await named())?.target.name).toBe("Lena Person");
    clock.advance(2 * DAY);
    const run = await jobs.runNow(["data-retention"]);
    expect(run["data-retention"]?.status).toBe("ok");
    // Two days on the session is idle-expired: sign in again.
    const fresh = createClient(t.app);
    expect(
      (await fresh.post("/api/v1/auth/login", { email: "view-root@example.com", password: STRONG_PASSWORD }))
        .statusCode,
    ).toBe(200);
    const events = await list(fresh, "limit=200");
    const removed = events.find((e) => e.action === "member.removed" && e.target.id === leaver.userId);
    expect(removed?.target.name).toBeNull();
    expect(removed?.changes?.email).toBeUndefined();
    expect(JSON.stringify(events)).not.toContain("Lena");
  });
});
