import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  createApiKey,
  createClient,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from "../testing/webhook-receiver.js";
import { WEBHOOK_DELIVERY, WEBHOOK_DELIVERY_JOB } from "./webhook-delivery.js";

type Owner = { client: Client; accountId: string; userId: string };

/** Verifies a received request with `secret` the way a receiver would (standardwebhooks). */
function verify(secret: string, request: ReceivedWebhook) {
  return new Webhook(secret).verify(request.body, request.headers) as {
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };
}

describe.each(testDialects())("webhooks on %s", (dialect) => {
  let t: TestApp;
  let owner: Owner;
  let base: string;
  let receiver: WebhookReceiver;
  let monitorRoleId: string;
  let serial = 0;

  const freezeNow = () => {
    const now = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
    t.services.clock.freeze(now);
    return now;
  };
  const runDelivery = () => t.services.jobs.runNow([WEBHOOK_DELIVERY_JOB]);
  /** A new session at the clock's now (moving the clock days ahead ends the old one). */
  const relogin = async () => {
    const client = createClient(t.app);
    const login = await client.post("/api/v1/auth/login", {
      email: "hooks-root@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode, login.payload).toBe(200);
    owner = { ...owner, client };
  };
  /** A fresh path on the receiver per test, so tests don't read each other's requests. */
  const newPath = () => `/hooks/${++serial}`;

  async function createWebhook(
    as: Owner,
    body: { url: string; events: string[]; description?: string },
  ): Promise<{ id: string; secret: string }> {
    const created = await as.client.post(`/api/v1/accounts/${as.accountId}/webhooks`, body);
    expect(created.statusCode, created.payload).toBe(201);
    return { id: created.body.id, secret: created.body.secret };
  }

  const invite = async (email: string) => {
    const invited = await owner.client.post(`${base}/invitations`, {
      emails: [email],
      role_id: monitorRoleId,
    });
    expect(invited.statusCode, invited.payload).toBe(201);
  };

  const deliveries = async (webhookId: string) => {
    const page = await owner.client.get(`${base}/webhooks/${webhookId}/deliveries`);
    expect(page.statusCode, page.payload).toBe(200);
    return page.body.data as Array<Record<string, unknown>>;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" }, { webhookTimeoutMs: 300 });
    owner = await signUpAndLogin(t, { email: "hooks-root@example.com", account: "Hooks Co" });
    base = `/api/v1/accounts/${owner.accountId}`;
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    receiver = await startWebhookReceiver();
    const roles = (await owner.client.get(`${base}/roles`)).body.data as Array<{ id: string; key: string }>;
    monitorRoleId = roles.find((r) => r.key === "monitor")?.id as string;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });
  afterEach(async () => {
    t.services.clock.reset();
    await relogin();
    // Endpoints of one test must not receive the next test's events.
    const list = await owner.client.get(`${base}/webhooks?limit=200`);
    for (const hook of list.body.data as Array<{ id: string }>)
      await owner.client.delete(`${base}/webhooks/${hook.id}`);
    receiver.respond(() => ({ status: 204 }));
  });

  it("creates an endpoint with a whsec_ secret shown once and stored sealed; reads, changes and deletes it, audited", async () => {
    const path = newPath();
    const created = await owner.client.post(`${base}/webhooks`, {
      url: receiver.url(path),
      events: ["member.invited", "team.created", "member.invited"],
      description: " CRM sync ",
    });
    expect(created.statusCode, created.payload).toBe(201);
    const { id, secret } = created.body;
    expect(id).toMatch(/^wh_/);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(created.body).toMatchObject({
      url: receiver.url(path),
      events: ["member.invited", "team.created"],
      description: "CRM sync",
      enabled: true,
    });
    const row = await t.services.db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row.secret_enc).not.toContain(secret.slice(6, 20));

    const read = await owner.client.get(`${base}/webhooks/${id}`);
    expect(read.statusCode).toBe(200);
    expect(read.body.secret).toBeUndefined();
    const listed = await owner.client.get(`${base}/webhooks`);
    expect(listed.body.data.map((h: { id: string }) => h.id)).toEqual([id]);
    expect(listed.body.data[0].secret).toBeUndefined();

    const patched = await owner.client.patch(`${base}/webhooks/${id}`, { events: ["*"], enabled: false });
    expect(patched.statusCode, patched.payload).toBe(200);
    expect(patched.body).toMatchObject({ events: ["*"], enabled: false });

    expect((await owner.client.delete(`${base}/webhooks/${id}`)).statusCode).toBe(204);
    expect((await owner.client.get(`${base}/webhooks/${id}`)).statusCode).toBe(404);

    const audit = await owner.client.get(`${base}/audit-events?action=webhook.*`);
    const actions = (audit.body.data as Array<{ action: string; target_id?: string }>).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["webhook.created", "webhook.updated", "webhook.deleted"]),
    );
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });

  it("delivers member.invited, signed: standardwebhooks verifies it with the endpoint's secret", async () => {
    const path = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    await invite("invitee-1@example.com");
    const [request] = receiver.at(path);
    expect(request).toBeDefined();
    const message = verify(hook.secret, request as ReceivedWebhook);
    expect(message.type).toBe("member.invited");
    expect(message.data).toMatchObject({ email: "invitee-1@example.com", status: "pending" });
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["user-agent"]).toBe("Gatehouse-Webhooks/1");
    expect(request?.headers["webhook-id"]).toMatch(/^whd_/);
    // A wrong secret does not verify: the check above means something.
    expect(() => verify(`whsec_${randomBytes(32).toString("base64")}`, request as ReceivedWebhook)).toThrow();

    const [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({
      id: request?.headers["webhook-id"],
      event_type: "member.invited",
      status: "succeeded",
      attempts: 1,
      response_status: 204,
      next_attempt_at: null,
    });
    // The event's id and time are the stream's.
    const [event] = await t.services.events.listRecent(owner.accountId, 1);
    expect(delivery?.event_id).toBe(event?.id);
    expect(message.timestamp).toBe(event?.occurredAt);
  });

  it("sends an endpoint only the types it subscribed to; ['*'] gets every one", async () => {
    const teamsOnly = newPath();
    const everything = newPath();
    await createWebhook(owner, { url: receiver.url(teamsOnly), events: ["team.created"] });
    const all = await createWebhook(owner, { url: receiver.url(everything), events: ["*"] });
    await invite("invitee-2@example.com");
    const team = await owner.client.post(`${base}/teams`, { name: `Hooks team ${serial}` });
    expect(team.statusCode, team.payload).toBe(201);
    expect(receiver.at(teamsOnly).map((r) => JSON.parse(r.body).type)).toEqual(["team.created"]);
    expect(receiver.at(everything).map((r) => verify(all.secret, r).type)).toEqual([
      "member.invited",
      "team.created",
    ]);
  });

  it("retries after a 500 with the same webhook-id once the retry is due, then succeeds", async () => {
    const path = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    const start = freezeNow();
    receiver.respond(() => ({ status: 500, body: "x".repeat(5000) }));
    await invite("invitee-3@example.com");
    expect(receiver.at(path)).toHaveLength(1);
    let [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({
      status: "pending",
      attempts: 1,
      response_status: 500,
      error: "HTTP 500",
    });
    expect(delivery?.response_body).toHaveLength(WEBHOOK_DELIVERY.maxResponseBytes);
    const wait = Date.parse(delivery?.next_attempt_at as string) - start.getTime();
    expect(wait).toBeGreaterThanOrEqual(4500);
    expect(wait).toBeLessThanOrEqual(5500);

    // Not due yet: nothing is sent.
    await runDelivery();
    expect(receiver.at(path)).toHaveLength(1);

    receiver.respond(() => ({ status: 200 }));
    t.services.clock.advance(6);
    await runDelivery();
    const attempts = receiver.at(path);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]?.headers["webhook-id"]).toBe(attempts[0]?.headers["webhook-id"]);
    expect(attempts[1]?.body).toBe(attempts[0]?.body);
    expect(verify(hook.secret, attempts[1] as ReceivedWebhook).type).toBe("member.invited");
    [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempts: 2, response_status: 200, error: null });
    const log = await t.services.db
      .selectFrom("webhook_delivery_attempts")
      .select(["response_status"])
      .where("delivery_id", "=", delivery?.id as string)
      .orderBy("attempted_at")
      .execute();
    expect(log.map((a) => Number(a.response_status))).toEqual([500, 200]);
  });

  it("follows the retry schedule to 8 attempts, then the delivery fails; retry makes it due again", async () => {
    const path = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    freezeNow();
    receiver.respond(() => ({ status: 503 }));
    await invite("invitee-4@example.com");
    for (const delay of WEBHOOK_DELIVERY.retryDelaysSeconds) {
      // Just short of the earliest moment the jitter allows: not due.
      t.services.clock.advance(delay * 0.9 - 1);
      await runDelivery();
      t.services.clock.advance(delay * 0.2 + 2);
      await runDelivery();
    }
    expect(receiver.at(path)).toHaveLength(8);
    await relogin();
    const [failed] = await deliveries(hook.id);
    expect(failed).toMatchObject({
      status: "failed",
      attempts: 8,
      response_status: 503,
      next_attempt_at: null,
    });
    t.services.clock.advance(86_400);
    await runDelivery();
    expect(receiver.at(path)).toHaveLength(8);

    await relogin();
    receiver.respond(() => ({ status: 200 }));
    const retried = await owner.client.post(`${base}/webhooks/${hook.id}/deliveries/${failed?.id}/retry`);
    expect(retried.statusCode, retried.payload).toBe(202);
    expect(receiver.at(path)).toHaveLength(9);
    expect(receiver.at(path)[8]?.headers["webhook-id"]).toBe(failed?.id);
    expect(retried.body).toMatchObject({ status: "succeeded", attempts: 9 });
    const again = await owner.client.post(`${base}/webhooks/${hook.id}/deliveries/${failed?.id}/retry`);
    expect(again.statusCode).toBe(409);
  });

  it("counts a receiver that never answers as a failed attempt (timeout) and retries it", async () => {
    const path = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    receiver.respond(() => "hang");
    await invite("invitee-5@example.com");
    expect(receiver.at(path)).toHaveLength(1);
    const [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, response_status: null });
    expect(delivery?.error).toMatch(/No answer within 300 ms/);
  });

  it("does not follow redirects: a 3xx is a failed attempt and the target is never called", async () => {
    const path = newPath();
    const target = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    receiver.respond((request) =>
      request.path === path ? { status: 307, location: receiver.url(target) } : { status: 200 },
    );
    await invite("invitee-6@example.com");
    expect(receiver.at(path)).toHaveLength(1);
    expect(receiver.at(target)).toHaveLength(0);
    const [delivery] = await deliveries(hook.id);
    expect(delivery).toMatchObject({ status: "pending", response_status: 307, error: "HTTP 307" });
  });

  it("rotates the secret: for 24 h both sign (each verifies with its own secret), then only the new one", async () => {
    const path = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    freezeNow();
    const rotated = await owner.client.post(`${base}/webhooks/${hook.id}/rotate-secret`);
    expect(rotated.statusCode, rotated.payload).toBe(200);
    const next = rotated.body.secret as string;
    expect(next).toMatch(/^whsec_/);
    expect(next).not.toBe(hook.secret);
    expect(rotated.body.previous_secret_expires_at).toBe(
      new Date(t.services.clock.now().getTime() + 86_400_000).toISOString(),
    );

    await owner.client.post(`${base}/webhooks/${hook.id}/test`);
    const [during] = receiver.at(path);
    const signatures = during?.headers["webhook-signature"]?.split(" ") ?? [];
    expect(signatures).toHaveLength(2);
    for (const signature of signatures) expect(signature).toMatch(/^v1,/);
    // Each secret verifies the request on its own, and each signature is one secret's.
    for (const [secret, signature] of [
      [next, signatures[0]],
      [hook.secret, signatures[1]],
    ] as const) {
      expect(
        verify(secret, {
          ...(during as ReceivedWebhook),
          headers: { ...during?.headers, "webhook-signature": signature ?? "" },
        }).type,
      ).toBe("webhook.test");
    }
    expect(() =>
      verify(hook.secret, {
        ...(during as ReceivedWebhook),
        headers: { ...during?.headers, "webhook-signature": signatures[0] ?? "" },
      }),
    ).toThrow();

    t.services.clock.advance(86_401);
    await relogin();
    await owner.client.post(`${base}/webhooks/${hook.id}/test`);
    const after = receiver.at(path)[1] as ReceivedWebhook;
    expect(after.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(verify(next, after).type).toBe("webhook.test");
    expect(() => verify(hook.secret, after)).toThrow();
    expect(
      (await owner.client.get(`${base}/audit-events?action=webhook.secret_rotated`)).body.data,
    ).toHaveLength(1);
  });

  it("sends webhook.test to that endpoint only", async () => {
    const one = newPath();
    const other = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(one), events: ["*"] });
    await createWebhook(owner, { url: receiver.url(other), events: ["*"] });
    const sent = await owner.client.post(`${base}/webhooks/${hook.id}/test`);
    expect(sent.statusCode, sent.payload).toBe(202);
    expect(sent.body).toMatchObject({ event_type: "webhook.test", status: "succeeded" });
    expect(receiver.at(other)).toHaveLength(0);
    const [request] = receiver.at(one);
    expect(verify(hook.secret, request as ReceivedWebhook)).toMatchObject({
      type: "webhook.test",
      data: { webhook_id: hook.id },
    });
  });

  it("disables an endpoint whose deliveries all failed for 5 days and mails its admins", async () => {
    const path = newPath();
    const hook = await createWebhook(owner, { url: receiver.url(path), events: ["member.invited"] });
    freezeNow();
    receiver.respond(() => ({ status: 500 }));
    await invite("invitee-7@example.com");
    t.services.clock.advance(4 * 86_400);
    await relogin();
    await invite("invitee-8@example.com");
    expect((await owner.client.get(`${base}/webhooks/${hook.id}`)).body.enabled).toBe(true);
    t.services.clock.advance(86_400 + 60);
    await relogin();
    await invite("invitee-9@example.com");
    const after = await owner.client.get(`${base}/webhooks/${hook.id}`);
    expect(after.body).toMatchObject({ enabled: false, disabled_reason: expect.stringMatching(/5 days/) });
    await t.services.jobs.idle();
    expect(
      t.mails.some((m) => m.to === "hooks-root@example.com" && /Webhook endpoint disabled/.test(m.subject)),
    ).toBe(true);

    // Turned back on, it receives again, and a success ends the failure streak.
    receiver.respond(() => ({ status: 200 }));
    const enabled = await owner.client.patch(`${base}/webhooks/${hook.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    const sentBefore = receiver.at(path).length;
    await invite("invitee-10@example.com");
    expect(receiver.at(path)).toHaveLength(sentBefore + 1);
    const row = await t.services.db
      .selectFrom("webhook_endpoints")
      .select("failing_since")
      .where("id", "=", hook.id)
      .executeTakeFirstOrThrow();
    expect(row.failing_since).toBeNull();
  });

  it("allows the plan's number of endpoints: 402 plan_limit_reached past it (Free: 1)", async () => {
    const free = await signUpAndLogin(t, { email: "hooks-free@example.com", account: "Free Hooks" });
    await createWebhook(free, { url: receiver.url(newPath()), events: ["*"] });
    const second = await free.client.post(`/api/v1/accounts/${free.accountId}/webhooks`, {
      url: receiver.url(newPath()),
      events: ["*"],
    });
    expect(second.statusCode).toBe(402);
    expect(second.body).toMatchObject({ code: "plan_limit_reached" });
    expect(second.body.detail).toMatch(/Free plan allows 1 webhook endpoint/);
  });

  it("keeps accounts apart: another account's endpoints and deliveries are 404", async () => {
    const hook = await createWebhook(owner, { url: receiver.url(newPath()), events: ["*"] });
    const sent = await owner.client.post(`${base}/webhooks/${hook.id}/test`);
    const other = await signUpAndLogin(t, { email: "hooks-other@example.com", account: "Other Hooks" });
    const theirs = `/api/v1/accounts/${other.accountId}/webhooks/${hook.id}`;
    for (const response of [
      await other.client.get(theirs),
      await other.client.patch(theirs, { enabled: false }),
      await other.client.post(`${theirs}/test`),
      await other.client.post(`${theirs}/rotate-secret`),
      await other.client.get(`${theirs}/deliveries`),
      await other.client.post(`${theirs}/deliveries/${sent.body.id}/retry`),
      await other.client.delete(theirs),
    ])
      expect(response.statusCode).toBe(404);
    expect((await other.client.get(`/api/v1/accounts/${other.accountId}/webhooks`)).body.data).toEqual([]);
    // And in A's own path, B is not a member.
    expect((await other.client.get(`${base}/webhooks/${hook.id}`)).statusCode).toBe(404);
    expect((await owner.client.get(`${base}/webhooks/${hook.id}`)).body.enabled).toBe(true);
  });

  it("lets an API key with webhooks:manage manage endpoints, and refuses one without", async () => {
    const key = await createApiKey(owner, ["webhooks:manage"]);
    const machine = createKeyClient(t.app, key.secret);
    const created = await machine.post(`${base}/webhooks`, { url: receiver.url(newPath()), events: ["*"] });
    expect(created.statusCode, JSON.stringify(created.body)).toBe(201);
    expect((await machine.get(`${base}/webhooks`)).statusCode).toBe(200);
    const reader = createKeyClient(t.app, (await createApiKey(owner, ["members:read"])).secret);
    expect((await reader.get(`${base}/webhooks`)).statusCode).toBe(403);
  });

  it("answers bad input with 400 naming the problem, never 500", async () => {
    const bad = async (body: unknown) => {
      const response = await owner.client.post(`${base}/webhooks`, body);
      expect(response.statusCode, response.payload).toBe(400);
      return response.body;
    };
    const unknown = await bad({
      url: receiver.url(),
      events: ["member.invited", "member.teleported", "nope"],
    });
    expect(unknown.detail).toMatch(/"member\.teleported", "nope"/);
    expect(unknown.errors[0]).toMatchObject({ path: "events", code: "unknown_event_type" });
    expect((await bad({ url: "not a url", events: ["*"] })).errors[0]).toMatchObject({ path: "url" });
    expect((await bad({ url: "ftp://example.com/x", events: ["*"] })).detail).toMatch(/https:\/\//);
    await bad({ url: `https://example.com/${"a".repeat(5000)}`, events: ["*"] });
    await bad({ url: receiver.url(), events: ["*"], description: "d".repeat(10_000) });
    await bad({ url: receiver.url(), events: [] });
    await bad({ url: receiver.url(), events: ["x".repeat(1000)] });
    await bad({ url: receiver.url(), events: "member.invited" });
    await bad({ url: receiver.url(), events: ["*"], secret: "whsec_mine" });
    await bad({ url: "https://user:pass@example.com/hook", events: ["*"] });
    expect((await owner.client.get(`${base}/webhooks?cursor=garbage`)).statusCode).toBe(400);
    expect((await owner.client.patch(`${base}/webhooks/wh_missing`, { enabled: true })).statusCode).toBe(404);
    expect((await owner.client.get(`${base}/webhooks`)).body.data).toEqual([]);
  });

  it("purges deliveries older than 30 days", async () => {
    const hook = await createWebhook(owner, { url: receiver.url(newPath()), events: ["*"] });
    freezeNow();
    await owner.client.post(`${base}/webhooks/${hook.id}/test`);
    const stored = () =>
      t.services.db
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("endpoint_id", "=", hook.id)
        .execute();
    expect(await stored()).toHaveLength(1);
    t.services.clock.advance(29 * 86_400);
    await t.services.jobs.runNow(["webhook-deliveries-purge"]);
    expect(await stored()).toHaveLength(1);
    t.services.clock.advance(86_400 + 1);
    await t.services.jobs.runNow(["webhook-deliveries-purge"]);
    expect(await stored()).toHaveLength(0);
  });
});
