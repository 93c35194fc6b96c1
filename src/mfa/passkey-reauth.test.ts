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
import { createSoftwareAuthenticator, type SoftwareAuthenticator } from "../testing/webauthn.js";

const OPTIONS = "/api/v1/auth/reauth/passkey/options";
const REAUTH = "/api/v1/auth/reauth/passkey";
/** A sensitive action: it needs a fresh authentication. */
const SENSITIVE = "/api/v1/me/mfa/recovery-codes";

describe.each(testDialects())("re-authentication with a passkey on %s", (dialect) => {
  let t: TestApp;
  const origin = "http://gatehouse.test";
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  async function addPasskey(client: Client, authenticator: SoftwareAuthenticator) {
    const options = await client.post("/api/v1/me/passkeys/options");
    expect(options.statusCode, options.payload).toBe(200);
    const added = await client.post("/api/v1/me/passkeys", {
      challenge_id: options.body.challenge_id,
      response: authenticator.create(options.body.options),
    });
    expect(added.statusCode, added.payload).toBe(201);
    return added.body.passkey as { id: string };
  }

  /** A user with one passkey whose session is no longer fresh. */
  async function staleUserWithPasskey(email: string) {
    const user = await signUpAndLogin(t, { email, account: `${email} Co` });
    const device = createSoftwareAuthenticator(origin);
    const passkey = await addPasskey(user.client, device);
    t.services.clock.advance(11 * 60);
    const stale = await user.client.post(SENSITIVE);
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    return { ...user, device, passkey };
  }

  async function signCount(factorId: string) {
    const row = await t.services.db
      .selectFrom("passkey_credentials")
      .select("sign_count")
      .where("factor_id", "=", factorId)
      .executeTakeFirstOrThrow();
    return Number(row.sign_count);
  }

  async function reauthEvents(sessionId: string) {
    const rows = await t.services.db
      .selectFrom("audit_events")
      .select("changes")
      .where("action", "=", "auth.reauthenticated")
      .where("target_id", "=", sessionId)
      .orderBy("seq")
      .execute();
    return rows.map((r) => (r.changes ? JSON.parse(r.changes) : null));
  }

  it("confirms it's you with a passkey: the session is fresh, the passkey's use recorded, once per challenge", async () => {
    const user = await staleUserWithPasskey("rpk-ok@example.com");
    const options = await user.client.post(OPTIONS);
    expect(options.statusCode, options.payload).toBe(200);
    expect(options.body.challenge_id).toEqual(expect.any(String));
    expect(options.body.options.userVerification).toBe("required");
    expect(options.body.options.rpId).toBe("gatehouse.test");
    expect(options.body.options.allowCredentials).toEqual([
      expect.objectContaining({ id: user.device.credentials[0]?.id.toString("base64url") }),
    ]);
    const stored = await t.services.db
      .selectFrom("webauthn_challenges")
      .selectAll()
      .where("id", "=", options.body.challenge_id)
      .executeTakeFirstOrThrow();
    const session = (await user.client.get("/api/v1/session")).body.session.id as string;
    expect(stored).toMatchObject({ purpose: "reauth", user_id: user.userId, session_id: session });
    expect(stored.challenge_hash).not.toBe(options.body.options.challenge);

    const before = await signCount(user.passkey.id);
    const response = user.device.get(options.body.options);
    const at = t.services.clock.now().toISOString();
    const done = await user.client.post(REAUTH, { challenge_id: options.body.challenge_id, response });
    expect(done.statusCode, done.payload).toBe(200);
    const until = Date.parse(done.body.reauthenticated_until) - Date.parse(at);
    expect(until).toBeGreaterThanOrEqual(10 * 60_000);
    expect(until).toBeLessThan(11 * 60_000);
    expect((await user.client.post(SENSITIVE)).statusCode).toBe(200);
    expect(await signCount(user.passkey.id)).toBe(before + 1);
    const listed = await user.client.get("/api/v1/me/passkeys");
    expect(listed.body.data[0].last_used_at >= at).toBe(true);
    expect(await reauthEvents(session)).toEqual([{ method: "passkey" }]);

    // The same challenge and answer again: refused, even within the fresh window.
    const replay = await user.client.post(REAUTH, { challenge_id: options.body.challenge_id, response });
    expect(replay.statusCode).toBe(400);
    expect(replay.body.code).toBe("passkey_challenge_invalid");

    // The other methods name theirs in the same audit event.
    expect((await user.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    expect(await reauthEvents(session)).toEqual([{ method: "passkey" }, { method: "password" }]);

    // Eleven minutes on, stale again; an expired challenge does not bring it back.
    const late = await user.client.post(OPTIONS);
    t.services.clock.advance(11 * 60);
    const expired = await user.client.post(REAUTH, {
      challenge_id: late.body.challenge_id,
      response: user.device.get(late.body.options),
    });
    expect(expired.statusCode).toBe(400);
    expect(expired.body.code).toBe("passkey_challenge_invalid");
    expect((await user.client.post(SENSITIVE)).body.code).toBe("reauth_required");
  });

  it("refuses a challenge of another session, and that session cannot spend it", async () => {
    const user = await staleUserWithPasskey("rpk-sessions@example.com");
    // A second session of the same user, by a passwordless log-in.
    const other = createClient(t.app);
    const login = await other.post("/api/v1/auth/passkey/options", {});
    const signedIn = await other.post("/api/v1/auth/passkey", {
      challenge_id: login.body.challenge_id,
      response: user.device.get(login.body.options),
    });
    expect(signedIn.statusCode, signedIn.payload).toBe(200);
    t.services.clock.advance(11 * 60);

    const mine = await user.client.post(OPTIONS);
    const theirs = await other.post(REAUTH, {
      challenge_id: mine.body.challenge_id,
      response: user.device.get(mine.body.options),
    });
    expect(theirs.statusCode).toBe(400);
    expect(theirs.body.code).toBe("passkey_challenge_invalid");
    expect((await other.post(SENSITIVE)).body.code).toBe("reauth_required");

    // A log-in challenge is not a re-authentication one either.
    const loginChallenge = await other.post("/api/v1/auth/passkey/options", {});
    const crossed = await other.post(REAUTH, {
      challenge_id: loginChallenge.body.challenge_id,
      response: user.device.get(loginChallenge.body.options),
    });
    expect(crossed.body.code).toBe("passkey_challenge_invalid");

    // Still unspent for the session it belongs to.
    const own = await user.client.post(REAUTH, {
      challenge_id: mine.body.challenge_id,
      response: user.device.get(mine.body.options),
    });
    expect(own.statusCode, own.payload).toBe(200);
    expect((await user.client.post(SENSITIVE)).statusCode).toBe(200);
    expect((await other.post(SENSITIVE)).body.code).toBe("reauth_required");
  });

  it("refuses another user's passkey and asks for passkeys only from those who have one", async () => {
    const alice = await staleUserWithPasskey("rpk-alice@example.com");
    const bob = await staleUserWithPasskey("rpk-bob@example.com");
    const options = await bob.client.post(OPTIONS);
    // Alice's authenticator answers Bob's challenge (a real browser would offer only Bob's passkeys).
    const wrongUser = await bob.client.post(REAUTH, {
      challenge_id: options.body.challenge_id,
      response: alice.device.get({ ...options.body.options, allowCredentials: [] }),
    });
    expect(wrongUser.statusCode).toBe(400);
    expect(wrongUser.body.code).toBe("passkey_unknown");
    expect((await bob.client.post(SENSITIVE)).body.code).toBe("reauth_required");
    expect((await alice.client.post(SENSITIVE)).body.code).toBe("reauth_required");

    // A passkey nobody registered.
    const stranger = createSoftwareAuthenticator(origin);
    stranger.create({
      challenge: "x",
      rp: { id: "gatehouse.test", name: "x" },
      user: { id: "dXNy", name: "x" },
    });
    const again = await bob.client.post(OPTIONS);
    const unknown = await bob.client.post(REAUTH, {
      challenge_id: again.body.challenge_id,
      response: stranger.get({ ...again.body.options, allowCredentials: [] }),
    });
    expect(unknown.body.code).toBe("passkey_unknown");

    // Without a passkey there is nothing to offer.
    const plain = await signUpAndLogin(t, { email: "rpk-plain@example.com", account: "Plain Co" });
    const none = await plain.client.post(OPTIONS);
    expect(none.statusCode).toBe(400);
    expect(none.body.code).toBe("validation_failed");
    // Logged out: no options, no re-authentication.
    expect((await createClient(t.app).post(OPTIONS)).statusCode).toBe(401);
    expect(
      (
        await createClient(t.app).post(REAUTH, {
          challenge_id: options.body.challenge_id,
          response: bob.device.get(options.body.options),
        })
      ).statusCode,
    ).toBe(401);
  });

  it("refuses bad signatures, answers without user verification, regressed counters and malformed answers", async () => {
    const user = await staleUserWithPasskey("rpk-bad@example.com");
    const attempt = async (answer: (options: never) => unknown) => {
      const options = await user.client.post(OPTIONS);
      expect(options.statusCode).toBe(200);
      const result = await user.client.post(REAUTH, {
        challenge_id: options.body.challenge_id,
        response: answer(options.body.options as never),
      });
      return { ...result, challengeId: options.body.challenge_id as string, options: options.body.options };
    };

    const forged = await attempt((o) => user.device.get(o, { tamper: true }));
    expect(forged.statusCode).toBe(400);
    expect(forged.body.code).toBe("passkey_invalid");
    // A refused answer spends its challenge: a good answer to it comes too late.
    const retry = await user.client.post(REAUTH, {
      challenge_id: forged.challengeId,
      response: user.device.get(forged.options as never),
    });
    expect(retry.body.code).toBe("passkey_challenge_invalid");

    const unverified = await attempt((o) => user.device.get(o, { userVerified: false }));
    expect(unverified.statusCode).toBe(400);
    expect(unverified.body.code).toBe("passkey_invalid");

    const wrongOrigin = await attempt((o) => user.device.get(o, { origin: "https://evil.example" }));
    expect(wrongOrigin.body.code).toBe("passkey_invalid");

    for (const response of [
      { id: "AAAA", rawId: "AAAA", type: "public-key", response: {} },
      {
        id: user.device.credentials[0]?.id.toString("base64url"),
        rawId: "AAAA",
        type: "public-key",
        response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA", userHandle: 7 },
      },
    ]) {
      const malformed = await attempt(() => response);
      expect(malformed.statusCode, malformed.payload).toBe(400);
    }
    const noResponse = await user.client.post(REAUTH, { challenge_id: "webauthn_x" });
    expect(noResponse.statusCode).toBe(400);
    expect(noResponse.body.code).toBe("validation_failed");

    expect((await user.client.post(SENSITIVE)).body.code).toBe("reauth_required");
    const session = (await user.client.get("/api/v1/session")).body.session.id as string;
    expect(await reauthEvents(session)).toEqual([]);
    // The genuine authenticator still works after all that.
    const ok = await attempt((o) => user.device.get(o));
    expect(ok.statusCode, ok.payload).toBe(200);
    expect((await user.client.post(SENSITIVE)).statusCode).toBe(200);

    // A counter that goes back (a copied authenticator) is refused and leaves the stored one alone.
    t.services.clock.advance(11 * 60);
    const stored = await signCount(user.passkey.id);
    expect(stored).toBeGreaterThan(1);
    const cloned = await attempt((o) => user.device.get(o, { counter: 1 }));
    expect(cloned.statusCode).toBe(400);
    expect(cloned.body.code).toBe("passkey_counter_regressed");
    expect(await signCount(user.passkey.id)).toBe(stored);
    expect((await user.client.post(SENSITIVE)).body.code).toBe("reauth_required");
  });

  it("works while a password change is pending, and its options while MFA enrollment is due", async () => {
    const user = await signUpAndLogin(t, { email: "rpk-forced@example.com", account: "Forced Co" });
    const device = createSoftwareAuthenticator(origin);
    await addPasskey(user.client, device);
    await t.services.auth.adminResetPassword("rpk-forced@example.com", "Operator-Set-Harbor-1");
    const client = createClient(t.app);
    const login = await client.post("/api/v1/auth/login", {
      email: "rpk-forced@example.com",
      password: "Operator-Set-Harbor-1",
    });
    expect(login.body.mfa_required).toBe(true);
    const second = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.body.mfa_token });
    const signedIn = await client.post("/api/v1/auth/passkey", {
      mfa_token: login.body.mfa_token,
      challenge_id: second.body.challenge_id,
      response: device.get(second.body.options),
    });
    expect(signedIn.statusCode, signedIn.payload).toBe(200);
    expect(signedIn.body.password_change_required).toBe(true);

    t.services.clock.advance(11 * 60);
    const change = {
      current_password: "Operator-Set-Harbor-1",
      new_password: "Chosen-By-Me-Harbor-2",
    };
    expect((await client.post("/api/v1/me/password", change)).body.code).toBe("reauth_required");
    const options = await client.post(OPTIONS);
    expect(options.statusCode, options.payload).toBe(200);
    const done = await client.post(REAUTH, {
      challenge_id: options.body.challenge_id,
      response: device.get(options.body.options),
    });
    expect(done.statusCode, done.payload).toBe(200);
    const changed = await client.post("/api/v1/me/password", change);
    expect(changed.statusCode, changed.payload).toBe(200);

    // A root past the enrollment grace period reaches the route (and is told it has no passkey).
    const root = await signUpAndLogin(t, { email: "rpk-enroll@example.com", account: "Enroll Co" });
    t.services.clock.advance(8 * 86_400);
    const later = createClient(t.app);
    await later.post("/api/v1/auth/login", { email: "rpk-enroll@example.com", password: root.password });
    expect((await later.get(`/api/v1/accounts/${root.accountId}/members`)).body.code).toBe(
      "mfa_enrollment_required",
    );
    const enrolling = await later.post(OPTIONS);
    expect(enrolling.statusCode).toBe(400);
    expect(enrolling.body.code).toBe("validation_failed");
  });

  it("counts refused passkeys like wrong codes: the tenth ends the guessing session", async () => {
    const email = "rpk-guess@example.com";
    const user = await staleUserWithPasskey(email);
    // The owner's second session, signed in without a password by the same passkey.
    const owner = createClient(t.app, { ip: "192.0.2.41" });
    const start = await owner.post("/api/v1/auth/passkey/options", {});
    const signedIn = await owner.post("/api/v1/auth/passkey", {
      challenge_id: start.body.challenge_id,
      response: user.device.get(start.body.options),
    });
    expect(signedIn.statusCode, signedIn.payload).toBe(200);

    const answers = [];
    for (let i = 0; i < 10; i++) {
      const options = await user.client.post(OPTIONS);
      answers.push(
        await user.client.post(REAUTH, {
          challenge_id: options.body.challenge_id,
          response: user.device.get(options.body.options, { tamper: true }),
        }),
      );
    }
    expect(answers.map((r) => r.body.code)).toEqual([...Array(9).fill("passkey_invalid"), "rate_limited"]);
    expect(answers[9]?.headers["retry-after"]).toBe("60");
    expect((await user.client.post(OPTIONS)).statusCode).toBe(401);
    expect((await user.client.get("/api/v1/session")).statusCode).toBe(401);

    // The genuine passkey in the other session is refused while the lock holds; afterwards it works.
    const during = await owner.post(OPTIONS);
    const refused = await owner.post(REAUTH, {
      challenge_id: during.body.challenge_id,
      response: user.device.get(during.body.options),
    });
    expect(refused.statusCode).toBe(429);
    await expect
      .poll(() => t.mails.filter((m) => m.to === email && /^Too many wrong codes/.test(m.subject)).length)
      .toBe(1);
    t.services.clock.advance(61);
    const later = await owner.post(OPTIONS);
    const ok = await owner.post(REAUTH, {
      challenge_id: later.body.challenge_id,
      response: user.device.get(later.body.options),
    });
    expect(ok.statusCode, ok.payload).toBe(200);
  });
});
