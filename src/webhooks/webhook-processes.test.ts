import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../lib/ids.js";
import {
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { createScratchDatabase, type ServerProcess, startServer } from "../testing/server-process.js";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhook-receiver.js";
import { createWebhooksRepository } from "./webhooks.repository.js";

// Real server processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 180_000;

/** How many requests each webhook-id got. */
const countsById = (receiver: WebhookReceiver) => {
  const counts = new Map<string, number>();
  for (const r of receiver.received) {
    const id = r.headers["webhook-id"] ?? "";
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
};

describe.each(testDialects())("delivery claims on %s", (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    t = await createTestApp(dialect, { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it("gives each due delivery to one of two services delivering at the same moment (the claim, without the job lease)", async () => {
    const owner = await signUpAndLogin(t, { email: "claims@example.com", account: "Claims Co" });
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    const created = await owner.client.post(`/api/v1/accounts/${owner.accountId}/webhooks`, {
      url: receiver.url("/claims"),
      events: ["*"],
    });
    expect(created.statusCode, created.payload).toBe(201);
    const ids = Array.from({ length: 120 }, () => newId("webhookDelivery"));
    await createWebhooksRepository(t.services.database.dialect).insertDeliveries(
      t.services.db,
      ids.map((id) => ({
        id,
        accountId: owner.accountId,
        endpointId: created.body.id,
        eventId: newId("event"),
        eventType: "team.created",
        payload: JSON.stringify({ type: "team.created", timestamp: new Date().toISOString(), data: {} }),
      })),
      t.services.clock.now().toISOString(),
    );
    const other = await t.sibling();
    const runs = await Promise.all([
      t.services.webhookDelivery.deliverDue(),
      other.services.webhookDelivery.deliverDue(),
      t.services.webhookDelivery.deliverDue(),
      other.services.webhookDelivery.deliverDue(),
    ]);
    expect(runs.reduce((sum, r) => sum + r.succeeded, 0)).toBe(ids.length);
    const counts = countsById(receiver);
    expect(counts.size).toBe(ids.length);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(counts.keys())).toEqual(new Set(ids));
  });
});

async function call(base: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const response = await fetch(`${base}${path}`, {
    ...rest,
    headers: {
      ...(json !== undefined ? { "content-type": "application/json" } : {}),
      ...(rest.headers as Record<string, string> | undefined),
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const body = response.headers.get("content-type")?.includes("json")
    ? ((await response.json()) as Record<string, unknown>)
    : {};
  return { response, body };
}

describe.runIf(testDialects().includes("postgres"))(
  "webhook delivery across two server processes on PostgreSQL",
  () => {
    const started: ServerProcess[] = [];
    let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
    let receiver: WebhookReceiver;
    afterAll(async () => {
      for (const server of started) {
        if (server.child.exitCode === null) {
          server.child.kill("SIGTERM");
          await server.exited;
        }
      }
      await database?.drop();
      await receiver?.close();
    });

    it(
      "attempts every delivery exactly once while both processes record events and deliver",
      async () => {
        receiver = await startWebhookReceiver();
        const open = new Set<string>();
        const overlapping: string[] = [];
        receiver.respond((request) => {
          const id = request.headers["webhook-id"] ?? "";
          if (open.has(id)) overlapping.push(id);
          open.add(id);
          setTimeout(() => open.delete(id), 30);
          return { status: 200 };
        });
        database = await createScratchDatabase("postgres");
        // One installation: both processes share SECRET_KEY (CSRF tokens, sealed webhook secrets).
        const env = {
          SECRET_KEY: randomBytes(32).toString("hex"),
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
          BILLING_PLANS: JSON.stringify({ free: { webhooks_limit: 5 } }),
        };
        // One after the other: the first migrates the empty database.
        for (let i = 0; i < 2; i++) started.push(await startServer(database.url, env));
        const [first, second] = started as [ServerProcess, ServerProcess];

        const email = "two-processes@example.com";
        expect(
          (
            await call(first.base, "/api/v1/auth/signup", {
              method: "POST",
              json: {
                email,
                password: STRONG_PASSWORD,
                name: "Two Processes",
                account_name: "Two Processes",
              },
            })
          ).response.status,
        ).toBe(201);
        const outbox = await call(first.base, `/dev/mail?to=${encodeURIComponent(email)}`);
        const token = /[?&]token=([\w-]+)/.exec(
          (outbox.body.data as Array<{ text: string }>)[0]?.text ?? "",
        )?.[1];
        expect(
          (await call(first.base, "/api/v1/auth/verify-email", { method: "POST", json: { token } })).response
            .status,
        ).toBe(200);
        const login = await call(first.base, "/api/v1/auth/login", {
          method: "POST",
          json: { email, password: STRONG_PASSWORD },
        });
        const headers = {
          cookie: login.response.headers
            .getSetCookie()
            .map((c) => c.split(";")[0])
            .join("; "),
          "x-csrf-token": login.body.csrf_token as string,
        };
        const api = `/api/v1/accounts/${login.body.account_id as string}`;
        const hook = await call(first.base, `${api}/webhooks`, {
          method: "POST",
          headers,
          json: { url: receiver.url("/two"), events: ["team.created", "team.deleted"] },
        });
        expect(hook.response.status).toBe(201);

        // Events recorded by both processes, two requests at a time (one to each).
        const teams = 60;
        for (let i = 0; i < teams; i += 2) {
          const made = await Promise.all(
            [first, second].map((server, j) =>
              call(server.base, `${api}/teams`, { method: "POST", headers, json: { name: `Team ${i + j}` } }),
            ),
          );
          for (const { response, body } of made) expect(response.status, JSON.stringify(body)).toBe(201);
        }

        // Every delivery has been attempted once they all show succeeded; then a few ticks more.
        const deadline = Date.now() + 90_000;
        let statuses: string[] = [];
        while (Date.now() < deadline) {
          const page = await call(
            second.base,
            `${api}/webhooks/${hook.body.id as string}/deliveries?limit=200`,
            {
              headers,
            },
          );
          statuses = (page.body.data as Array<{ status: string }>).map((d) => d.status);
          if (statuses.length === teams && statuses.every((s) => s === "succeeded")) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(statuses).toEqual(new Array(teams).fill("succeeded"));
        await new Promise((resolve) => setTimeout(resolve, 2500));

        const counts = countsById(receiver);
        expect(counts.size).toBe(teams);
        expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
        expect(receiver.received).toHaveLength(teams);
        expect(overlapping).toEqual([]);
        const types = receiver.received.map((r) => JSON.parse(r.body).type);
        expect(new Set(types)).toEqual(new Set(["team.created"]));
      },
      PROCESS_TEST_TIMEOUT,
    );
  },
);
