import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

/** Visits are recorded in memory at once and written behind (one transaction per flush). */
describe.each(testDialects())("session visits written behind on %s", (dialect) => {
  let t: TestApp;
  let serial = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  async function currentSessionId(client: Client): Promise<string> {
    const list = await client.get("/api/v1/me/sessions");
    return (list.body.data as Array<{ id: string; current: boolean }>).find((s) => s.current)?.id as string;
  }
  const stored = (id: string) =>
    t.services.db
      .selectFrom("sessions")
      .select(["last_seen_at", "idle_expires_at", "revoked_at"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();

  it("a visit is in the database after the flush, not before", async () => {
    const { client } = await signUpAndLogin(t, { email: `touch-${++serial}@example.com` });
    const id = await currentSessionId(client);
    await t.services.writeBehind.flush();
    const before = await stored(id);
    t.services.clock.advance(2 * 60);
    expect((await client.get("/api/v1/me")).statusCode).toBe(200);
    expect((await stored(id)).last_seen_at).toBe(before.last_seen_at);
    await t.services.writeBehind.flush();
    const after = await stored(id);
    expect(Date.parse(after.last_seen_at) - Date.parse(before.last_seen_at)).toBeGreaterThanOrEqual(120_000);
    expect(after.idle_expires_at > before.idle_expires_at).toBe(true);
  });

  it("a visit flushed after the session was revoked does not bring it back", async () => {
    const email = `touch-revoked-${++serial}@example.com`;
    const { client } = await signUpAndLogin(t, { email });
    const other = createClient(t.app);
    expect((await other.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    const id = await currentSessionId(other);
    await t.services.writeBehind.flush();
    const before = await stored(id);
    t.services.clock.advance(2 * 60);
    expect((await other.get("/api/v1/me")).statusCode).toBe(200); // a visit now pending
    expect((await client.delete(`/api/v1/me/sessions/${id}`)).statusCode).toBe(204);
    await t.services.writeBehind.flush();
    const after = await stored(id);
    expect(after.revoked_at).not.toBeNull();
    expect(after.last_seen_at).toBe(before.last_seen_at);
    expect((await other.get("/api/v1/me")).statusCode).toBe(401);
  });

  it("a visit computed under an idle limit that changed since is not written", async () => {
    const { client, accountId } = await signUpAndLogin(t, { email: `touch-policy-${++serial}@example.com` });
    const id = await currentSessionId(client);
    await t.services.writeBehind.flush();
    t.services.clock.advance(2 * 60);
    expect((await client.get("/api/v1/me")).statusCode).toBe(200); // a visit now pending
    const tightened = await client.patch(`/api/v1/accounts/${accountId}/security`, {
      session: { idle_minutes: 5 },
    });
    expect(tightened.statusCode, tightened.payload).toBe(200);
    const limited = await stored(id);
    await t.services.writeBehind.flush();
    expect(await stored(id)).toEqual(limited);
  });
});
