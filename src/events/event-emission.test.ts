import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIL_JOB } from "../mail/mail-queue.js";
import { newTotp } from "../mfa/totp.js";
import { type DnsRecordsServer, startDnsRecordsServer } from "../testing/dns-records-server.js";
import {
  type Client,
  createApiKey,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { EVENT_TYPE_NAMES, EVENT_TYPES, type EventType } from "./catalog.js";
import type { StoredEvent } from "./events.repository.js";

const sortedKeys = (value: unknown) => Object.keys(value as object).sort();

/**
 * One journey through the API that makes every change the catalog announces, then checks what the
 * stream holds: each type recorded in the right account, by the right actor, with the API's shape, and
 * with exactly the keys of the catalog's example (so the published examples cannot drift).
 */
describe.each(testDialects())("events recorded by the changes that make them, on %s", (dialect) => {
  let t: TestApp;
  let root: { client: Client; userId: string; accountId: string };
  let sideAccountId: string;
  let dns: DnsRecordsServer;
  const ids: Record<string, string> = {};

  const api = (path: string) => `/api/v1/accounts/${root.accountId}${path}`;
  const events = async (accountId = root.accountId) =>
    (await t.services.events.listRecent(accountId, 1000)).reverse();
  const ofType = async (type: EventType, accountId = root.accountId) =>
    (await events(accountId)).filter((e) => e.type === type);
  const ok = (response: { statusCode: number; payload: string }, status = 200) =>
    expect(response.statusCode, response.payload).toBe(status);

  async function accept(email: string, firstName: string) {
    const client = createClient(t.app);
    const accepted = await client.post("/api/v1/invitations/accept", {
      token: tokenOf(await t.linkFor(email, /invited/)),
      password: STRONG_PASSWORD,
      first_name: firstName,
      last_name: "Person",
    });
    ok(accepted);
    return { client, userId: accepted.body.user.id as string };
  }

  async function enrollTotp(client: Client) {
    const start = await client.post("/api/v1/me/mfa/totp", { label: "Phone" });
    ok(start, 201);
    const code = newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() });
    ok(await client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, { code }));
  }

  beforeAll(async () => {
    dns = await startDnsRecordsServer();
    // Custom domains on Pro here, so the journey's plan needs no change for them.
    t = await createTestApp(dialect, {
      DNS_SERVERS: dns.address,
      BILLING_PLANS: JSON.stringify({ pro: { custom_domains: true } }),
    });
    root = await signUpAndLogin(t, { email: "root@emit.example", account: "Emit Co" });
    // Account creation is not an event: the stream starts empty.
    expect(await events()).toEqual([]);

    ok(await root.client.patch(api(""), { name: "Emit Company", industry: "software" }));
    ok(await root.client.patch(api("/security"), { session: { idle_minutes: 60 } }));
    ok(
      await root.client.patch(api("/branding"), {
        primary_color: "#2563eb",
        email_templates: { invitation: { subject: "You are invited to {{account_name}}" } },
      }),
    );
    const side = await root.client.post("/api/v1/accounts", { name: "Side Co" });
    ok(side, 201);
    sideAccountId = side.body.id;

    // Pro with auto-pay: the plan change invoices, and the invoice is paid at once (by the system).
    ok(await root.client.post(api("/payment-methods"), { type: "card", token: "tok_visa" }), 201);
    ok(await root.client.post(api("/billing/subscription"), { plan: "pro", interval: "month" }));

    const role = await root.client.post(api("/roles"), { name: "Support", permissions: ["members:read"] });
    ok(role, 201);
    ids.role = role.body.id;
    ok(await root.client.patch(api(`/roles/${ids.role}`), { description: "Answers tickets" }));
    const team = await root.client.post(api("/teams"), { name: "Platform" });
    ok(team, 201);
    ids.team = team.body.id;
    ok(await root.client.patch(api(`/teams/${ids.team}`), { description: "Runs the platform" }));

    const roles = (await root.client.get(api("/roles"))).body.data as Array<{ id: string; key: string }>;
    ids.admin = roles.find((r) => r.key === "admin")?.id as string;
    ids.monitor = roles.find((r) => r.key === "monitor")?.id as string;
    const invited = await root.client.post(api("/invitations"), {
      emails: ["ada@emit.example", "bob@emit.example", "cy@emit.example"],
      role_id: ids.monitor,
    });
    ok(invited, 201);
    ids.cyInvitation = invited.body.data[2].invitation.id;
    ok(await root.client.delete(api(`/invitations/${ids.cyInvitation}`)), 204);
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });

  it("announces the account's profile and security settings, with what changed", async () => {
    const [updated] = await ofType("account.updated");
    expect(updated?.data).toMatchObject({ id: root.accountId, name: "Emit Company", industry: "software" });
    expect(updated?.data.changed).toEqual(["name", "industry"]);
    const [policy] = await ofType("security.policy_changed");
    expect(policy?.data).toMatchObject({ session: { idle_minutes: 60 }, changed: ["session.idle_minutes"] });
    expect(policy?.actor).toEqual({ type: "user", id: root.userId });
    const [branding] = await ofType("branding.updated");
    expect(branding?.data).toMatchObject({
      account_id: root.accountId,
      primary_color: "#2563eb",
      primary_text_color: "#ffffff",
      changed: ["primary_color", "primary_text_color", "email_templates.invitation.subject"],
    });
  });

  it("announces each invitation of a bulk invite, and a revocation", async () => {
    const invited = await ofType("member.invited");
    // One transaction writes them at the same instant: the log promises no order among them.
    expect(invited.map((e) => e.data.email).sort()).toEqual([
      "ada@emit.example",
      "bob@emit.example",
      "cy@emit.example",
    ]);
    expect(invited[0]?.data).toMatchObject({ status: "pending", role: { key: "monitor" } });
    const [revoked] = await ofType("invitation.revoked");
    expect(revoked?.data).toMatchObject({ id: ids.cyInvitation, status: "revoked" });
    // Sending an invitation again is not a new invitation.
    // Not Cy's: that one is revoked (and the three share an instant, so no position says which is which).
    const pending = (await ofType("member.invited")).find((e) => e.data.id !== ids.cyInvitation)?.data
      .id as string;
    const resendAt = t.services.clock.now();
    t.services.clock.freeze(new Date(resendAt.getTime() + 120_000));
    try {
      ok(await root.client.post(api(`/invitations/${pending}/resend`)));
    } finally {
      // A frozen clock would give every later test's events one instant (and no order).
      t.services.clock.reset();
    }
    expect(await ofType("member.invited")).toHaveLength(3);
  });

  it("announces a plan change, its invoice and the payment, and a failed payment", async () => {
    const [plan] = await ofType("subscription.changed");
    expect(plan?.data).toMatchObject({
      plan: "pro",
      change: "plan_changed",
      previous: { plan: "free", interval: null },
    });
    const [invoice] = await ofType("invoice.created");
    expect(invoice?.data).toMatchObject({ status: "open", currency: "USD" });
    const [paid] = await ofType("invoice.paid");
    expect(paid?.data).toMatchObject({ id: invoice?.data.id, status: "paid" });
    // Auto-pay collects after the change commits: the system charges, not the person.
    expect(paid?.actor).toEqual({ type: "system", id: null });

    // A member joining a paid plan is a seat billed at once; with a declining card, a failed payment.
    ok(
      await root.client.post(api("/payment-methods"), { type: "card", token: "tok_declined", default: true }),
      201,
    );
    const ada = await accept("ada@emit.example", "Ada");
    ids.ada = ada.userId;
    const seats = (await ofType("subscription.changed")).at(-1);
    expect(seats?.data).toMatchObject({ change: "seats_added", seats: { billed: 2 } });
    expect(seats?.actor).toEqual({ type: "user", id: ada.userId });
    const [failed] = await ofType("payment.failed");
    expect(failed?.data).toMatchObject({ status: "open", payment_attempts: 1 });
    expect(failed?.data.last_payment_error).toEqual(expect.any(String));
    expect(failed?.data.id).toBe((await ofType("invoice.created")).at(-1)?.data.id);
  });

  it("announces a member joining, as the person who joined", async () => {
    const bob = await accept("bob@emit.example", "Bob");
    ids.bob = bob.userId;
    const joined = await ofType("member.joined");
    expect(joined.map((e) => e.data.user_id)).toEqual([ids.ada, ids.bob]);
    expect(joined[1]?.actor).toEqual({ type: "user", id: ids.bob });
    expect(joined[1]?.data).toMatchObject({ email: "bob@emit.example", status: "active", first_name: "Bob" });
  });

  it("announces role, suspension and team membership changes, and nothing for refused ones", async () => {
    ok(await root.client.put(api(`/teams/${ids.team}/members`), { user_ids: [ids.ada, ids.bob] }));
    const teamUpdate = (await ofType("team.updated")).at(-1);
    expect(teamUpdate?.data.member_ids).toEqual(expect.arrayContaining([ids.ada, ids.bob]));

    ok(await root.client.patch(api(`/members/${ids.bob}`), { role_id: ids.role }));
    const [changed] = await ofType("member.role_changed");
    expect(changed?.data).toMatchObject({
      user_id: ids.bob,
      role: { id: ids.role, name: "Support" },
      previous_role: { id: ids.monitor, key: "monitor" },
    });
    ok(await root.client.post(api(`/members/${ids.bob}/suspend`)));
    ok(await root.client.post(api(`/members/${ids.bob}/reactivate`)));
    expect((await ofType("member.suspended"))[0]?.data).toMatchObject({
      user_id: ids.bob,
      status: "suspended",
    });
    expect((await ofType("member.reactivated"))[0]?.data).toMatchObject({
      user_id: ids.bob,
      status: "active",
    });

    const before = (await events()).length;
    // 403: Bob (Support) may not change roles; 409: nobody is removed when one of them cannot be.
    const bobClient = createClient(t.app);
    ok(await bobClient.post("/api/v1/auth/login", { email: "bob@emit.example", password: STRONG_PASSWORD }));
    expect((await bobClient.patch(api(`/members/${ids.ada}`), { role_id: ids.admin })).statusCode).toBe(403);
    expect(
      (await root.client.post(api("/members/bulk-delete"), { user_ids: [ids.bob, root.userId] })).statusCode,
    ).toBe(409);
    expect((await root.client.patch(api(`/members/${ids.bob}`), { role_id: "role_nope" })).statusCode).toBe(
      400,
    );
    expect(await events()).toHaveLength(before);
  });

  it("announces API keys created and revoked, and the keys that leave with their member", async () => {
    const own = await createApiKey({ client: root.client, accountId: root.accountId }, ["members:read"]);
    ok(await root.client.delete(api(`/api-keys/${own.id}`)), 204);
    ok(await root.client.patch(api(`/members/${ids.ada}`), { role_id: ids.admin }));
    const adaClient = createClient(t.app);
    ok(await adaClient.post("/api/v1/auth/login", { email: "ada@emit.example", password: STRONG_PASSWORD }));
    const adas = await createApiKey({ client: adaClient, accountId: root.accountId }, ["members:read"]);
    ok(await root.client.delete(api(`/members/${ids.ada}`)), 204);

    const created = await ofType("api_key.created");
    expect(created.map((e) => [e.data.id, e.actor.id])).toEqual([
      [own.id, root.userId],
      [adas.id, ids.ada],
    ]);
    const revoked = await ofType("api_key.revoked");
    expect(revoked.map((e) => [e.data.id, e.actor.id])).toEqual([
      [own.id, root.userId],
      [adas.id, root.userId],
    ]);
    for (const event of [...created, ...revoked]) {
      expect(JSON.stringify(event.data)).not.toContain(own.secret);
      expect(JSON.stringify(event.data)).not.toContain(adas.secret);
    }
    const [removed] = await ofType("member.removed");
    expect(removed?.data).toMatchObject({ user_id: ids.ada, email: "ada@emit.example" });
  });

  it("announces second factors turned on and off in every account of the person", async () => {
    await enrollTotp(root.client);
    for (const accountId of [root.accountId, sideAccountId]) {
      const [enabled] = await ofType("security.mfa_enabled", accountId);
      expect(enabled?.data).toMatchObject({ user_id: root.userId, mfa_enabled: true, method: "totp" });
    }
    ok(await root.client.post("/api/v1/me/mfa/disable", { password: STRONG_PASSWORD }), 204);
    for (const accountId of [root.accountId, sideAccountId]) {
      const disabled = await ofType("security.mfa_disabled", accountId);
      expect(disabled.map((e) => e.data)).toEqual([
        expect.objectContaining({ user_id: root.userId, mfa_enabled: false, disabled_by: "user" }),
      ]);
    }
    // An admin's reset of a member's factors.
    const bobClient = createClient(t.app);
    ok(await bobClient.post("/api/v1/auth/login", { email: "bob@emit.example", password: STRONG_PASSWORD }));
    await enrollTotp(bobClient);
    ok(await root.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD }));
    ok(await root.client.post(api(`/members/${ids.bob}/mfa/reset`)), 204);
    const reset = (await ofType("security.mfa_disabled")).at(-1);
    expect(reset?.data).toMatchObject({ user_id: ids.bob, disabled_by: "admin", mfa_enabled: false });
    expect(reset?.actor).toEqual({ type: "user", id: root.userId });
  });

  it("announces a deleted role, and the members and teams it moved", async () => {
    ok(
      await root.client.post(api("/invitations"), { emails: ["dee@emit.example"], role_id: ids.monitor }),
      201,
    );
    ids.dee = (await accept("dee@emit.example", "Dee")).userId;
    ok(await root.client.patch(api(`/members/${ids.dee}`), { role_id: ids.role }));
    ok(await root.client.patch(api(`/teams/${ids.team}`), { role_id: ids.role }));
    const changedBefore = (await ofType("member.role_changed")).length;
    const teamsBefore = (await ofType("team.updated")).length;
    ok(await root.client.delete(api(`/roles/${ids.role}?move_to=${ids.monitor}`)), 204);
    const moved = (await ofType("member.role_changed")).slice(changedBefore);
    type Moved = { user_id: string; role: { key: string }; previous_role: { id: string } };
    const summary = moved.map((e) => e.data as Moved).map((m) => [m.user_id, m.role.key, m.previous_role.id]);
    expect(summary.sort()).toEqual(
      [
        [ids.bob, "monitor", ids.role],
        [ids.dee, "monitor", ids.role],
      ].sort(),
    );
    expect(
      (await ofType("team.updated"))
        .slice(teamsBefore)
        .map((e) => [e.data.id, (e.data.role as { key: string } | null)?.key]),
    ).toEqual([[ids.team, "monitor"]]);
    expect((await ofType("role.deleted"))[0]?.data).toMatchObject({
      id: ids.role,
      name: "Support",
      member_count: 2,
    });
  });

  it("announces one removal per member of a bulk removal, a deleted team, and a cancellation", async () => {
    const removedBefore = (await ofType("member.removed")).length;
    ok(await root.client.post(api("/members/bulk-delete"), { user_ids: [ids.bob, ids.dee] }));
    const removed = (await ofType("member.removed")).slice(removedBefore);
    expect(removed.map((e) => e.data.user_id).sort()).toEqual([ids.bob, ids.dee].sort());

    ok(
      await root.client.request("DELETE", api(`/teams/${ids.team}`), {
        reassign_members_to: null,
        transfer_resources_to: "account",
      }),
      204,
    );
    expect((await ofType("team.deleted"))[0]?.data).toMatchObject({ id: ids.team, name: "Platform" });
    ok(await root.client.delete(api("/billing/subscription")));
    expect((await ofType("subscription.changed")).at(-1)?.data).toMatchObject({
      change: "canceled",
      ends_with: "free",
      previous: { plan: "pro", interval: "month" },
    });
  });

  it("announces a custom domain verified, and failing at the daily check", async () => {
    const added = await root.client.post(api("/domains"), { hostname: "login.emit.example" });
    ok(added, 201);
    dns.txt(added.body.txt_record.name, [added.body.txt_record.value]);
    dns.cname("login.emit.example", added.body.cname_target);
    ok(await root.client.post(api(`/domains/${added.body.id}/verify`)));
    const [verified] = await ofType("domain.verified");
    expect(verified?.data).toMatchObject({ id: added.body.id, status: "verified", failure_reason: null });
    expect(verified?.actor).toEqual({ type: "user", id: root.userId });

    dns.remove(added.body.txt_record.name);
    await t.services.db
      .updateTable("account_domains")
      .set({ last_checked_at: "2000-01-01T00:00:00.000Z" })
      .execute();
    await t.services.jobs.runNow(["domain-recheck", MAIL_JOB]);
    const [failed] = await ofType("domain.failed");
    expect(failed?.data).toMatchObject({ id: added.body.id, status: "failed" });
    expect(failed?.actor).toEqual({ type: "system", id: null });
  });

  it("recorded every type of the catalog, each with the keys of its published example", async () => {
    const all = [...(await events()), ...(await events(sideAccountId))];
    const byType = new Map<string, StoredEvent[]>();
    for (const event of all) byType.set(event.type, [...(byType.get(event.type) ?? []), event]);
    expect([...byType.keys()].sort()).toEqual([...EVENT_TYPE_NAMES].sort());
    for (const type of EVENT_TYPE_NAMES) {
      const example = EVENT_TYPES[type].example;
      for (const event of byType.get(type) ?? []) {
        expect(sortedKeys(event.data), type).toEqual(sortedKeys(example));
        expect(event.actor.type === "system" || event.actor.id?.startsWith("usr_"), type).toBe(true);
      }
    }
    // Events stay in their account: the side account heard only what concerned it (its member's MFA).
    expect(new Set((await events(sideAccountId)).map((e) => e.type))).toEqual(
      new Set(["security.mfa_enabled", "security.mfa_disabled"]),
    );
  });
});
