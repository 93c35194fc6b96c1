import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../lib/ids.js";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

describe.each(testDialects())("purge of expired rows on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const db = () => t.services.db;
  const at = (offsetSeconds: number) =>
    new Date(t.services.clock.now().getTime() + offsetSeconds * 1000).toISOString();

  /** Rows straight in the database for what takes a second factor to reach through the API. */
  async function secondFactorRows(userId: string, factorId: string) {
    await db()
      .insertInto("mfa_challenges")
      .values({
        id: newId("challenge"),
        user_id: userId,
        token_hash: newId("token"),
        account_id: null,
        ip: null,
        attempts: 0,
        expires_at: at(300),
        used_at: null,
        created_at: at(0),
      })
      .execute();
    await db()
      .insertInto("mfa_codes")
      .values({
        id: newId("code"),
        user_id: userId,
        factor_id: factorId,
        code_hash: newId("token"),
        attempts: 0,
        expires_at: at(600),
        used_at: null,
        created_at: at(0),
      })
      .execute();
  }

  it("deletes expired links, challenges and codes and idle throttle counters, and keeps live ones", async () => {
    const { client, userId } = await signUpAndLogin(t, { email: "purged@example.com" });
    const factorId = newId("factor");
    await db()
      .insertInto("mfa_factors")
      .values({
        id: factorId,
        user_id: userId,
        type: "email",
        label: "Email",
        secret_enc: null,
        last_used_step: 0,
        confirmed_at: at(0),
        last_used_at: null,
        created_at: at(0),
      })
      .execute();

    // Day one: a reset link, a failed log-in, passkey options, an email change, second-factor rows.
    await createClient(t.app, { ip: "203.0.113.1" }).post("/api/v1/auth/password/forgot", {
      email: "purged@example.com",
    });
    const oldLink = await t.linkFor("purged@example.com", /Reset your password/);
    await createClient(t.app, { ip: "203.0.113.2" }).post("/api/v1/auth/login", {
      email: "purged@example.com",
      password: "wrong-Harbor-Light-0",
    });
    const oldOptions = await createClient(t.app, { ip: "203.0.113.3" }).post(
      "/api/v1/auth/passkey/options",
      {},
    );
    expect(oldOptions.statusCode).toBe(200);
    expect((await client.post("/api/v1/me/email", { new_email: "moved@example.com" })).statusCode).toBe(202);
    await secondFactorRows(userId, factorId);
    // A lock that outlasts a day without attempts stays until it ends.
    await db()
      .insertInto("throttles")
      .values({
        key: "login:ip:203.0.113.9",
        failures: 0,
        window_started_at: at(0),
        locked_until: at(26 * 3600),
        lock_level: 3,
        updated_at: at(0),
      })
      .execute();

    // A day and an hour later, the same again.
    t.services.clock.advance(25 * 3600);
    await createClient(t.app, { ip: "203.0.113.4" }).post("/api/v1/auth/password/forgot", {
      email: "purged@example.com",
    });
    await t.services.jobs.idle();
    // (Straight in: new passkey options would sweep expired challenges themselves.)
    const liveChallenge = newId("webauthn");
    await db()
      .insertInto("webauthn_challenges")
      .values({
        id: liveChallenge,
        purpose: "login",
        user_id: null,
        session_id: null,
        mfa_challenge_id: null,
        challenge_hash: newId("token"),
        expires_at: at(300),
        used_at: null,
        created_at: at(0),
      })
      .execute();
    await secondFactorRows(userId, factorId);

    const run = await createClient(t.app).post("/dev/jobs/run");
    expect(run.statusCode).toBe(200);
    expect(run.body.purged).toMatchObject({
      email_tokens: 2, // the used verification link and day one's reset link
      email_change_requests: 1,
      webauthn_challenges: 1,
      mfa_challenges: 1,
      mfa_codes: 1,
    });
    expect(run.body.purged.throttles).toBeGreaterThanOrEqual(5);

    const now = t.services.clock.now().toISOString();
    const tokens = await db().selectFrom("email_tokens").select(["purpose", "expires_at"]).execute();
    expect(tokens.map((r) => r.purpose)).toEqual(["password_reset"]);
    expect(tokens.every((r) => r.expires_at > now)).toBe(true);
    expect(await db().selectFrom("email_change_requests").select("id").execute()).toEqual([]);
    const challenges = await db().selectFrom("webauthn_challenges").select("id").execute();
    expect(challenges.map((r) => r.id)).toEqual([liveChallenge]);
    const mfaChallenges = await db().selectFrom("mfa_challenges").select("expires_at").execute();
    expect(mfaChallenges).toHaveLength(1);
    expect((mfaChallenges[0]?.expires_at ?? "") > now).toBe(true);
    expect(await db().selectFrom("mfa_codes").select("id").execute()).toHaveLength(1);

    const keys = (await db().selectFrom("throttles").select("key").execute()).map((r) => r.key).sort();
    expect(keys).toEqual(
      [
        "login:ip:203.0.113.9",
        "rate:anon:password_forgot:203.0.113.4",
        "rate:mail:ip:203.0.113.4",
        "rate:mail:to:purged@example.com",
      ].sort(),
    );

    // What was kept still works; a second run finds nothing more.
    const oldReset = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token: tokenOf(oldLink),
      password: "Quartz-Harbor-Light-1",
    });
    expect(oldReset.body.code).toBe("invalid_token");
    const newLink = await t.linkFor("purged@example.com", /Reset your password/);
    expect(newLink).not.toBe(oldLink);
    const reset = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token: tokenOf(newLink),
      password: "Quartz-Harbor-Light-1",
    });
    expect(reset.statusCode).toBe(200);
    const again = await createClient(t.app).post("/dev/jobs/run");
    expect(Object.values(again.body.purged).every((n) => n === 0)).toBe(true);
  });
});
