import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { openStream } from "../testing/sse.js";

describe.each(testDialects())("the notification stream on %s", (dialect) => {
  let t: TestApp;
  let base: string;
  let root: { client: Client; accountId: string };
  let admin: { client: Client; userId: string };
  let roleId: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    root = await signUpAndLogin(t, { email: "stream-root@example.com", account: "Stream Co" });
    await onPaidPlan(t, root.accountId);
    const added = await addMember(t, root, { email: "stream-admin@example.com", roleKey: "admin" });
    admin = added;
    roleId = (await addMember(t, root, { email: "stream-monitor@example.com", roleKey: "monitor" })).roleId;
  });
  afterAll(() => t?.close());

  const inviteThrough = async (client: Client, email: string) => {
    const response = await client.post(`/api/v1/accounts/${root.accountId}/invitations`, {
      emails: [email],
      role_id: roleId,
    });
    expect(response.statusCode).toBe(201);
  };

  it("pushes a new notification to an open stream (a real HTTP connection)", async () => {
    const stream = await openStream(base, admin.client.cookie as string);
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers["content-type"]).toMatch(/^text\/event-stream/);
    await inviteThrough(root.client, "streamed-1@example.com");
    const event = await stream.next((e) => e.data.includes("streamed-1@example.com"));
    expect(event.event).toBe("notification");
    expect(JSON.parse(event.data)).toMatchObject({
      id: expect.stringMatching(/^ntf_/),
      type: "member.invited",
      title: "streamed-1@example.com was invited to Stream Co",
      read_at: null,
    });
    expect(stream.comments).toContain("connected");
    stream.close();
  });

  it("refuses a stream without a session", async () => {
    const response = await fetch(`${base}/api/v1/me/notifications/stream`);
    expect(response.status).toBe(401);
  });

  it("ends open streams when the server closes, so the process can exit", async () => {
    const stream = await openStream(base, admin.client.cookie as string);
    expect(t.services.notificationHub.openCount()).toBeGreaterThanOrEqual(1);
    const ended = new Promise<void>((resolve) => stream.response.on("end", resolve));
    t.services.notificationHub.closeAll();
    await ended;
    expect(t.services.notificationHub.openCount()).toBe(0);
  });

  // Several processes need PostgreSQL (SQLite runs one process).
  if (dialect === "postgres")
    it("across processes: a stream on one server gets the notification of a change made on another", async () => {
      const other = await t.sibling({ applicationName: "gatehouse-other-process" });
      const otherClient = createClient(other.app);
      otherClient.cookie = root.client.cookie;
      otherClient.csrf = root.client.csrf;
      const stream = await openStream(base, admin.client.cookie as string);
      await inviteThrough(otherClient, "streamed-2@example.com");
      const event = await stream.next((e) => e.data.includes("streamed-2@example.com"));
      expect(JSON.parse(event.data)).toMatchObject({ type: "member.invited" });
      // This process wrote nothing: the notification was fanned out by the other one.
      stream.close();
      await other.close();
    });
});
