import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

/**
 * An address with a login and one without take the same path through anonymous requests (the timings
 * are measured by bench/enumeration.ts): these tests pin the writes that make the paths alike.
 */
describe.each(testDialects())("same work for existing and unknown addresses on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    await t.services.auth.createAccountWithRoot({
      email: "known@example.com",
      password: STRONG_PASSWORD,
      name: "Known Person",
      accountName: "Known Co",
    });
  });
  afterAll(() => t?.close());

  const eventsOf = async (action: string) =>
    t.services.db
      .selectFrom("audit_events")
      .select(["account_id", "target_id", "changes", "ip"])
      .where("action", "=", action)
      .execute();

  it("audits a failed log-in for an unknown address too, in the installation's log and without the address", async () => {
    const client = createClient(t.app, { ip: "192.0.2.44" });
    for (const email of ["known@example.com", "stranger@example.com"]) {
      const answer = await client.post("/api/v1/auth/login", { email, password: "not-the-Password-1" });
      expect(answer.statusCode).toBe(401);
    }
    const events = await eventsOf("auth.login_failed");
    expect(events).toHaveLength(2);
    const unknown = events.find((e) => e.account_id === null);
    expect(unknown).toMatchObject({ target_id: null, ip: "192.0.2.44" });
    expect(JSON.parse(unknown?.changes ?? "{}")).toEqual({ unknown_email: true });
    expect(JSON.stringify(events)).not.toContain("stranger");
  });

  it("audits a reset request for an unknown address too, and mails only the known one", async () => {
    const client = createClient(t.app, { ip: "192.0.2.45" });
    for (const email of ["known@example.com", "nobody-here@example.com"]) {
      expect((await client.post("/api/v1/auth/password/forgot", { email })).statusCode).toBe(202);
    }
    await t.services.jobs.idle();
    const events = await eventsOf("auth.password_reset_requested");
    expect(events.map((e) => e.account_id === null).sort()).toEqual([false, true]);
    expect(JSON.stringify(events)).not.toContain("nobody-here");
    expect(t.mails.map((m) => m.to)).toEqual(["known@example.com"]);
  });

  it("answers a reset request by recording it, the same one row for a known and an unknown address", async () => {
    // A process whose loop does not run: what the request itself writes stays visible.
    const paused = await t.sibling();
    await paused.services.jobs.stop();
    const tables = [
      "password_reset_requests",
      "audit_events",
      "email_tokens",
      "mail_queue",
      "throttles",
    ] as const;
    const counts = async () =>
      Promise.all(
        tables.map(async (table) =>
          Number(
            (
              await t.services.db
                .selectFrom(table)
                .select((eb) => eb.fn.countAll().as("n"))
                .executeTakeFirstOrThrow()
            ).n,
          ),
        ),
      );
    const deltas: number[][] = [];
    for (const [email, ip] of [
      ["known@example.com", "192.0.2.47"],
      ["unknown-here@example.com", "192.0.2.48"],
    ]) {
      const before = await counts();
      const answer = await createClient(paused.app, { ip }).post("/api/v1/auth/password/forgot", { email });
      expect(answer.statusCode).toBe(202);
      const after = await counts();
      deltas.push(after.map((n, i) => n - (before[i] ?? 0)));
    }
    // One request row and the per-IP counter of anonymous writes; no token, audit event or mail yet.
    expect(deltas).toEqual([
      [1, 0, 0, 0, 1],
      [1, 0, 0, 0, 1],
    ]);
    await paused.close();
    await t.services.jobs.runNow(["password-reset-requests", "mail-delivery"]);
    expect(await t.services.db.selectFrom("password_reset_requests").select("id").execute()).toEqual([]);
  });

  it("answers a sign-up with a taken address from the same writes, rolled back", async () => {
    const count = async (table: "users" | "accounts" | "roles" | "memberships") =>
      Number(
        (
          await t.services.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await Promise.all(
      (["users", "accounts", "roles", "memberships"] as const).map((table) => count(table)),
    );
    const answer = await createClient(t.app, { ip: "192.0.2.46" }).post("/api/v1/auth/signup", {
      email: "KNOWN@example.com",
      password: STRONG_PASSWORD,
      name: "Someone Else",
      account_name: "Other Co",
    });
    expect(answer.statusCode).toBe(201);
    expect(answer.body.user).toMatchObject({
      email: "KNOWN@example.com",
      first_name: "Someone",
      last_name: "Else",
      email_verified: false,
      memberships: [{ account_name: "Other Co", role: { key: "root" } }],
    });
    expect(answer.body.user.memberships[0].account_id).toBe(answer.body.account_id);
    const after = await Promise.all(
      (["users", "accounts", "roles", "memberships"] as const).map((table) => count(table)),
    );
    expect(after).toEqual(before);
    // The owner is told; no verification link exists for the stand-in.
    await t.services.jobs.idle();
    expect(t.mails.filter((m) => m.to === "known@example.com").map((m) => m.subject)).toContain(
      "Someone tried to sign up with your email",
    );
  });
});
