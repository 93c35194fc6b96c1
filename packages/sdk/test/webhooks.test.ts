import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../../src/testing/harness.js";
import { startWebhookReceiver, type WebhookReceiver } from "../../../src/testing/webhook-receiver.js";
import { verifyWebhook, WebhookVerificationError } from "../src/index.js";

describe.each(testDialects())("verifyWebhook on %s", (dialect) => {
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

  it("verifies a delivery Gatehouse sent (and both secrets during a rotation); refuses tampering and other secrets", async () => {
    const owner = await signUpAndLogin(t, { email: "sdk-hooks@example.com", account: "Hooks Co" });
    const base = `/api/v1/accounts/${owner.accountId}`;
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    const created = await owner.client.post(`${base}/webhooks`, {
      url: receiver.url("/sdk"),
      events: ["team.created"],
    });
    expect(created.statusCode, created.payload).toBe(201);
    const secret = created.body.secret as string;
    const team = await owner.client.post(`${base}/teams`, { name: "Platform" });
    expect(team.statusCode, team.payload).toBe(201);

    const [delivery] = receiver.at("/sdk");
    if (!delivery) throw new Error("Gatehouse delivered nothing");
    const event = verifyWebhook<{ type: string; data: { team: { name: string } } }>(
      delivery.body,
      delivery.headers,
      secret,
    );
    expect(event.type).toBe("team.created");
    expect(JSON.stringify(event.data)).toContain("Platform");
    // A Buffer body and a fetch Headers object are accepted as well.
    expect(verifyWebhook(Buffer.from(delivery.body), new Headers(delivery.headers), secret)).toEqual(event);

    const tampered = delivery.body.replace("Platform", "Platforn");
    expect(() => verifyWebhook(tampered, delivery.headers, secret)).toThrow(WebhookVerificationError);
    const other = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => verifyWebhook(delivery.body, delivery.headers, other)).toThrow(WebhookVerificationError);
    const { "webhook-signature": _dropped, ...unsigned } = delivery.headers;
    expect(() => verifyWebhook(delivery.body, unsigned, secret)).toThrow(WebhookVerificationError);

    // After a rotation Gatehouse signs with the new and the previous secret: a receiver holding either verifies.
    const rotated = await owner.client.post(`${base}/webhooks/${created.body.id}/rotate-secret`);
    expect(rotated.statusCode, rotated.payload).toBe(200);
    await owner.client.post(`${base}/teams`, { name: "Billing" });
    const after = receiver.at("/sdk")[1];
    if (!after) throw new Error("no delivery after the rotation");
    expect(verifyWebhook(after.body, after.headers, rotated.body.secret)).toMatchObject({
      type: "team.created",
    });
    expect(verifyWebhook(after.body, after.headers, secret)).toMatchObject({ type: "team.created" });
  });
});
