import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer } from "../testing/dns-server.js";
import { createTestApp, onPaidPlan, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";
import { startWebhookReceiver, type WebhookReceiver } from "../testing/webhook-receiver.js";
import { createOutboundHttp, forbiddenRange, OutboundRefused } from "./outbound-http.js";

describe("the outbound address classifier", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.1.1", "link-local"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::127.0.0.1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:7f00:1::1", "loopback"],
    ["not an address", "reserved"],
  ])("refuses %s (%s)", (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each([
    "1.1.1.1",
    "8.8.8.8",
    "172.32.0.1",
    "172.15.255.255",
    "100.128.0.1",
    "100.63.255.255",
    "169.253.0.1",
    "2606:4700:4700::1111",
    "2001:db8::1",
    "::ffff:8.8.8.8",
    "fbff::1",
    "fe00::1",
  ])("allows the public address %s", (address) => {
    expect(forbiddenRange(address)).toBeUndefined();
  });
});

describe("the outbound policy against a real DNS server", () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    dns = await startDnsServer();
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await dns?.close();
    await receiver?.close();
  });

  const post = (outbound: ReturnType<typeof createOutboundHttp>, url: string) =>
    outbound.post(url, { headers: {}, body: "{}", timeoutMs: 2000, maxResponseBytes: 1024 });

  it("connects through the checked lookup: a name only this DNS server knows reaches the receiver when private networks are allowed", async () => {
    dns.answer("receiver.lookup.test", ["127.0.0.1"]);
    const allowed = createOutboundHttp({
      allowPrivateNetworks: true,
      requireHttps: false,
      resolve: dns.resolveHost,
    });
    const url = `http://receiver.lookup.test:${receiver.port}/lookup`;
    const answer = await post(allowed, url);
    expect(answer).toMatchObject({ status: 204, error: null });
    expect(receiver.at("/lookup")).toHaveLength(1);
    allowed.close();

    const strict = createOutboundHttp({
      allowPrivateNetworks: false,
      requireHttps: false,
      resolve: dns.resolveHost,
    });
    const refused = await post(strict, url);
    expect(refused.status).toBeNull();
    expect(refused.error).toMatch(/receiver\.lookup\.test \(127\.0\.0\.1\) is a loopback address/);
    expect(receiver.at("/lookup")).toHaveLength(1);
    strict.close();
  });

  it("refuses when saving: names resolving privately, private IP literals, and http in production", async () => {
    const strict = createOutboundHttp({
      allowPrivateNetworks: false,
      requireHttps: false,
      resolve: dns.resolveHost,
    });
    dns.answer("intranet.save.test", ["203.0.113.7", "10.0.0.5"]);
    await expect(strict.checkUrl("http://intranet.save.test/hook")).rejects.toThrow(
      /private network address/,
    );
    await expect(strict.checkUrl("http://169.254.169.254/latest/meta-data")).rejects.toThrow(
      /cloud metadata/,
    );
    await expect(strict.checkUrl("http://[::ffff:127.0.0.1]:8080/")).rejects.toThrow(/loopback/);
    await expect(strict.checkUrl("http://[fd00:ec2::254]/")).rejects.toThrow(/cloud metadata/);
    await expect(strict.checkUrl("http://nowhere.save.test/")).rejects.toThrow(/does not resolve/);
    dns.answer("public.save.test", ["203.0.113.8"]);
    await expect(strict.checkUrl("http://public.save.test/hook")).resolves.toBeUndefined();
    const production = createOutboundHttp({
      allowPrivateNetworks: false,
      requireHttps: true,
      resolve: dns.resolveHost,
    });
    await expect(production.checkUrl("http://public.save.test/hook")).rejects.toBeInstanceOf(OutboundRefused);
    await expect(production.checkUrl("https://public.save.test/hook")).resolves.toBeUndefined();
    // An IP literal is checked before connecting too (node skips the lookup hook for those).
    const literal = await post(strict, `http://127.0.0.1:${receiver.port}/literal`);
    expect(literal.error).toMatch(/loopback/);
    expect(receiver.at("/literal")).toHaveLength(0);
    strict.close();
    production.close();
  });
});

describe.each(testDialects())("webhooks and DNS rebinding on %s", (dialect) => {
  let t: TestApp;
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    dns = await startDnsServer();
    receiver = await startWebhookReceiver();
    // WEBHOOK_ALLOW_PRIVATE_NETWORKS is off: the address policy is in force.
    t = await createTestApp(dialect, {}, { resolveHost: dns.resolveHost });
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
    await receiver?.close();
  });

  it("saves a name that resolves publicly, then refuses to connect when it rebinds to 127.0.0.1", async () => {
    expect(t.config.webhookAllowPrivateNetworks).toBe(false);
    const owner = await signUpAndLogin(t, { email: "rebind@example.com", account: "Rebind Co" });
    await onPaidPlan(t, owner.accountId, { plan: "team" });
    const base = `/api/v1/accounts/${owner.accountId}`;

    const direct = await owner.client.post(`${base}/webhooks`, {
      url: `http://127.0.0.1:${receiver.port}/direct`,
      events: ["*"],
    });
    expect(direct.statusCode).toBe(400);
    expect(direct.body.errors[0]).toMatchObject({ path: "url", code: "url_address" });
    expect(direct.body.detail).toMatch(/loopback address/);

    dns.answer("hooks.rebind.test", ["203.0.113.10"]);
    const created = await owner.client.post(`${base}/webhooks`, {
      url: `http://hooks.rebind.test:${receiver.port}/rebound`,
      events: ["*"],
    });
    expect(created.statusCode, created.payload).toBe(201);
    expect(dns.queries).toContain("hooks.rebind.test/A");

    // The attacker's DNS now points the name at this machine.
    dns.answer("hooks.rebind.test", ["127.0.0.1"]);
    const sent = await owner.client.post(`${base}/webhooks/${created.body.id}/test`);
    expect(sent.statusCode).toBe(202);
    expect(sent.body).toMatchObject({ status: "pending", attempts: 1, response_status: null });
    expect(sent.body.error).toMatch(/hooks\.rebind\.test \(127\.0\.0\.1\) is a loopback address/);
    expect(receiver.received).toHaveLength(0);
  });
});
