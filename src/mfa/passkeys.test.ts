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

describe.each(testDialects())("passkeys on %s", (dialect) => {
  let t: TestApp;
  const origin = "http://gatehouse.test";
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  async function addPasskey(client: Client, authenticator: SoftwareAuthenticator, label?: string) {
    const options = await client.post("/api/v1/me/passkeys/options");
    expect(options.statusCode, options.payload).toBe(200);
    const response = authenticator.create(options.body.options);
    const added = await client.post("/api/v1/me/passkeys", {
      challenge_id: options.body.challenge_id,
      ...(label ? { label } : {}),
      response,
    });
    expect(added.statusCode, added.payload).toBe(201);
    return { options: options.body, response, added: added.body };
  }

  async function auditOf(targetId: string) {
    const rows = await t.services.db
      .selectFrom("audit_events")
      .select(["action", "changes"])
      .where("target_id", "=", targetId)
      .orderBy("seq")
      .execute();
    return rows.map((r) => ({ action: r.action, changes: r.changes ? JSON.parse(r.changes) : null }));
  }

  async function passwordLogin(email: string) {
    const client = createClient(t.app);
    const login = await client.post("/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect(login.statusCode).toBe(200);
    return { client, login: login.body };
  }

  async function passwordless(
    authenticator: SoftwareAuthenticator,
    opts: Parameters<SoftwareAuthenticator["get"]>[1] = {},
  ) {
    const client = createClient(t.app);
    const options = await client.post("/api/v1/auth/passkey/options", {});
    expect(options.statusCode).toBe(200);
    const response = authenticator.get(options.body.options, opts);
    const result = await client.post("/api/v1/auth/passkey", {
      challenge_id: options.body.challenge_id,
      response,
    });
    return { client, result, challengeId: options.body.challenge_id as string, response };
  }

  it("registers several named passkeys, lists, renames and removes them", async () => {
    const user = await signUpAndLogin(t, { email: "pk-owner@example.com", name: "Pat Key" });
    const device = createSoftwareAuthenticator(origin);

    const first = await addPasskey(user.client, device, "Laptop");
    expect(first.options.options.rp.id).toBe("gatehouse.test");
    expect(first.options.options.authenticatorSelection).toMatchObject({
      residentKey: "required",
      userVerification: "required",
    });
    expect(first.added.passkey).toMatchObject({
      label: "Laptop",
      last_used_at: null,
      transports: ["internal"],
    });
    expect(first.added.recovery_codes).toHaveLength(10);
    const status = await user.client.get("/api/v1/me/mfa");
    expect(status.body.enabled).toBe(true);
    expect(status.body.factors).toEqual([
      expect.objectContaining({ id: first.added.passkey.id, type: "passkey" }),
    ]);
    await expect
      .poll(() =>
        t.mails.some((m) => m.to === "pk-owner@example.com" && /A passkey was added/.test(m.subject)),
      )
      .toBe(true);
    expect((await auditOf(first.added.passkey.id))[0]).toEqual({
      action: "mfa.enabled",
      changes: { type: "passkey" },
    });

    // A second passkey: the first is excluded, no new recovery codes; it needs a fresh authentication.
    t.services.clock.advance(11 * 60);
    const stale = await user.client.post("/api/v1/me/passkeys/options");
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    expect((await user.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD })).statusCode).toBe(
      200,
    );
    const phone = createSoftwareAuthenticator(origin);
    const second = await addPasskey(user.client, phone);
    expect(second.options.options.excludeCredentials).toEqual([
      expect.objectContaining({ id: first.response.id }),
    ]);
    expect(second.added.passkey.label).toBe("Passkey");
    expect(second.added.recovery_codes).toBeUndefined();

    const renamed = await user.client.patch(`/api/v1/me/passkeys/${second.added.passkey.id}`, {
      label: "Phone",
    });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.body.label).toBe("Phone");
    expect(await auditOf(second.added.passkey.id)).toContainEqual({
      action: "mfa.passkey_renamed",
      changes: { label: { from: "Passkey", to: "Phone" } },
    });
    const list = await user.client.get("/api/v1/me/passkeys");
    expect(list.body.data.map((p: { label: string }) => p.label)).toEqual(["Laptop", "Phone"]);

    // Removal takes the password; the removed passkey no longer logs in.
    const wrong = await user.client.request("DELETE", `/api/v1/me/passkeys/${second.added.passkey.id}`, {
      password: "not-my-password",
    });
    expect(wrong.body.code).toBe("incorrect_password");
    const removed = await user.client.request("DELETE", `/api/v1/me/passkeys/${second.added.passkey.id}`, {
      password: STRONG_PASSWORD,
    });
    expect(removed.statusCode).toBe(204);
    expect((await user.client.get("/api/v1/me/passkeys")).body.data).toHaveLength(1);
    expect((await passwordless(phone)).result.body.code).toBe("passkey_unknown");
    expect((await passwordless(device)).result.statusCode).toBe(200);

    // The last one, through the generic factor route: MFA is off again.
    const last = await user.client.request("DELETE", `/api/v1/me/mfa/factors/${first.added.passkey.id}`, {
      password: STRONG_PASSWORD,
    });
    expect(last.statusCode).toBe(204);
    expect((await user.client.get("/api/v1/me/mfa")).body.enabled).toBe(false);
    expect((await passwordless(device)).result.body.code).toBe("passkey_unknown");
  });

  it("refuses a replayed registration, a wrong origin and a credential registered twice", async () => {
    const user = await signUpAndLogin(t, { email: "pk-reg@example.com" });
    const device = createSoftwareAuthenticator(origin);
    const { options, response } = await addPasskey(user.client, device);
    const replay = await user.client.post("/api/v1/me/passkeys", {
      challenge_id: options.challenge_id,
      response,
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.body.code).toBe("passkey_challenge_invalid");

    const next = await user.client.post("/api/v1/me/passkeys/options");
    const elsewhere = await user.client.post("/api/v1/me/passkeys", {
      challenge_id: next.body.challenge_id,
      response: device.create(next.body.options, { origin: "https://evil.example" }),
    });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.body.code).toBe("passkey_invalid");

    // Malformed answers are a 400, never a 500.
    for (const response of [
      {
        id: "eA",
        rawId: "eA",
        type: "public-key",
        response: { clientDataJSON: "e30", attestationObject: "AAAA" },
      },
      { id: "eA", rawId: "eA", type: "public-key", response: {} },
    ]) {
      const o = await user.client.post("/api/v1/me/passkeys/options");
      const bad = await user.client.post("/api/v1/me/passkeys", {
        challenge_id: o.body.challenge_id,
        response,
      });
      expect(bad.statusCode, bad.payload).toBe(400);
    }

    // The same credential again, on a new challenge (a real browser refuses through excludeCredentials).
    const again = await user.client.post("/api/v1/me/passkeys/options");
    const fake = createSoftwareAuthenticator(origin);
    const dup = fake.create(again.body.options);
    const raw = JSON.parse(Buffer.from(dup.response.clientDataJSON, "base64url").toString());
    expect(raw.challenge).toBe(again.body.options.challenge);
    const ok = await user.client.post("/api/v1/me/passkeys", {
      challenge_id: again.body.challenge_id,
      response: dup,
    });
    expect(ok.statusCode).toBe(201);
    const third = await user.client.post("/api/v1/me/passkeys/options");
    const reused = await user.client.post("/api/v1/me/passkeys", {
      challenge_id: third.body.challenge_id,
      response: {
        ...dup,
        response: {
          ...dup.response,
          clientDataJSON: Buffer.from(
            JSON.stringify({ ...raw, challenge: third.body.options.challenge }),
          ).toString("base64url"),
        },
      },
    });
    expect(reused.statusCode).toBe(409);

    // A challenge of another session is not this session's, and that session cannot spend it.
    const mine = await user.client.post("/api/v1/me/passkeys/options");
    const mfaLogin = await createClient(t.app).post("/api/v1/auth/login", {
      email: "pk-reg@example.com",
      password: STRONG_PASSWORD,
    });
    const other = createClient(t.app);
    const o = await other.post("/api/v1/auth/passkey/options", { mfa_token: mfaLogin.body.mfa_token });
    const signedIn = await other.post("/api/v1/auth/passkey", {
      mfa_token: mfaLogin.body.mfa_token,
      challenge_id: o.body.challenge_id,
      response: device.get(o.body.options),
    });
    expect(signedIn.statusCode).toBe(200);
    const newKey = createSoftwareAuthenticator(origin);
    const theirs = await other.post("/api/v1/me/passkeys", {
      challenge_id: mine.body.challenge_id,
      response: newKey.create(mine.body.options),
    });
    expect(theirs.statusCode).toBe(400);
    expect(theirs.body.code).toBe("passkey_challenge_invalid");
    const stillMine = await user.client.post("/api/v1/me/passkeys", {
      challenge_id: mine.body.challenge_id,
      response: newKey.create(mine.body.options),
    });
    expect(stillMine.statusCode).toBe(201);
  });

  it("logs in without a password, once per challenge, and refuses bad signatures and counters", async () => {
    const user = await signUpAndLogin(t, { email: "pk-login@example.com" });
    const device = createSoftwareAuthenticator(origin);
    const { added } = await addPasskey(user.client, device, "Key");

    const ok = await passwordless(device);
    expect(ok.result.statusCode, ok.result.payload).toBe(200);
    expect(ok.result.body.user.id).toBe(user.userId);
    expect(ok.result.body.account_id).toBe(user.accountId);
    expect(ok.result.body.csrf_token).toEqual(expect.any(String));
    expect((await ok.client.get("/api/v1/session")).statusCode).toBe(200);
    const sessionEvents = await t.services.db
      .selectFrom("audit_events")
      .select(["changes"])
      .where("action", "=", "auth.login")
      .where("target_id", "=", ok.result.body.session.id)
      .execute();
    expect(JSON.parse(sessionEvents[0]?.changes ?? "{}")).toMatchObject({ method: "passkey" });
    expect((await user.client.get("/api/v1/me/passkeys")).body.data[0].last_used_at).toEqual(
      expect.any(String),
    );

    // The same challenge and answer again: refused.
    const replay = await createClient(t.app).post("/api/v1/auth/passkey", {
      challenge_id: ok.challengeId,
      response: ok.response,
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.body.code).toBe("passkey_challenge_invalid");

    const forged = await passwordless(device, { tamper: true });
    expect(forged.result.statusCode).toBe(400);
    expect(forged.result.body.code).toBe("passkey_invalid");

    const cloned = await passwordless(device, { counter: 1 });
    expect(cloned.result.statusCode).toBe(400);
    expect(cloned.result.body.code).toBe("passkey_counter_regressed");

    const stranger = createSoftwareAuthenticator(origin);
    stranger.create({
      challenge: "x",
      rp: { id: "gatehouse.test", name: "x" },
      user: { id: "dXNy", name: "x" },
    });
    const unknown = await passwordless(stranger);
    expect(unknown.result.statusCode).toBe(400);
    expect(unknown.result.body.code).toBe("passkey_unknown");

    const garbage = await createClient(t.app).post("/api/v1/auth/passkey", {
      challenge_id: (await createClient(t.app).post("/api/v1/auth/passkey/options", {})).body.challenge_id,
      response: { id: "AAAA", rawId: "AAAA", type: "public-key", response: {} },
    });
    expect(garbage.statusCode).toBe(400);

    // An expired challenge is refused.
    const late = await createClient(t.app).post("/api/v1/auth/passkey/options", {});
    t.services.clock.advance(6 * 60);
    const expired = await createClient(t.app).post("/api/v1/auth/passkey", {
      challenge_id: late.body.challenge_id,
      response: device.get(late.body.options),
    });
    expect(expired.body.code).toBe("passkey_challenge_invalid");
    t.services.clock.reset();

    // A deactivated login cannot come back through a passkey without its mailbox.
    expect(added.passkey.id).toEqual(expect.any(String));
    const deactivated = await user.client.post("/api/v1/me/deactivate", { password: STRONG_PASSWORD });
    expect(deactivated.statusCode).toBe(204);
    const blocked = await passwordless(device);
    expect(blocked.result.statusCode).toBe(403);
    expect(blocked.result.body.code).toBe("account_deactivated");
  });

  it("is a second factor after the password, bound to the mfa_token, with its attempt limit", async () => {
    const user = await signUpAndLogin(t, { email: "pk-2fa@example.com" });
    const device = createSoftwareAuthenticator(origin);
    await addPasskey(user.client, device);

    const { login } = await passwordLogin("pk-2fa@example.com");
    expect(login.mfa_required).toBe(true);
    expect(login.methods).toEqual(["passkey", "recovery_code"]);
    const client = createClient(t.app);
    const options = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.mfa_token });
    expect(options.statusCode).toBe(200);
    expect(options.body.options.allowCredentials).toHaveLength(1);
    // A challenge for this mfa_token is not a passwordless one.
    const crossed = await client.post("/api/v1/auth/passkey", {
      challenge_id: options.body.challenge_id,
      response: device.get(options.body.options),
    });
    expect(crossed.body.code).toBe("passkey_challenge_invalid");

    const again = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.mfa_token });
    const done = await client.post("/api/v1/auth/passkey", {
      mfa_token: login.mfa_token,
      challenge_id: again.body.challenge_id,
      response: device.get(again.body.options),
    });
    expect(done.statusCode, done.payload).toBe(200);
    expect(done.body.user.email).toBe("pk-2fa@example.com");
    // The mfa_token is spent.
    const reuse = await createClient(t.app).post("/api/v1/auth/passkey/options", {
      mfa_token: login.mfa_token,
    });
    expect(reuse.body.code).toBe("invalid_token");

    // Bad signatures count as wrong codes: the fifth kills the mfa_token.
    const { login: second } = await passwordLogin("pk-2fa@example.com");
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const o = await client.post("/api/v1/auth/passkey/options", { mfa_token: second.mfa_token });
      const r = await client.post("/api/v1/auth/passkey", {
        mfa_token: second.mfa_token,
        challenge_id: o.body.challenge_id,
        response: device.get(o.body.options, { tamper: true }),
      });
      codes.push(r.body.code);
    }
    expect(codes).toEqual([
      "passkey_invalid",
      "passkey_invalid",
      "passkey_invalid",
      "passkey_invalid",
      "rate_limited",
    ]);
    const o = await client.post("/api/v1/auth/passkey/options", { mfa_token: second.mfa_token });
    const after = await client.post("/api/v1/auth/passkey", {
      mfa_token: second.mfa_token,
      challenge_id: o.body.challenge_id,
      response: device.get(o.body.options),
    });
    expect(after.body.code).toBe("rate_limited");
  });

  it("counts refused passkeys as a second factor per user across mfa_tokens", async () => {
    const user = await signUpAndLogin(t, { email: "pk-guess@example.com" });
    const device = createSoftwareAuthenticator(origin);
    await addPasskey(user.client, device);
    const client = createClient(t.app);
    const codes: string[] = [];
    for (let round = 0; round < 3; round++) {
      // A right password each round: a new mfa_token, under its own bound of 5.
      const { login } = await passwordLogin("pk-guess@example.com");
      for (let i = 0; i < 4 && codes.length < 10; i++) {
        const o = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.mfa_token });
        const r = await client.post("/api/v1/auth/passkey", {
          mfa_token: login.mfa_token,
          challenge_id: o.body.challenge_id,
          response: device.get(o.body.options, { tamper: true }),
        });
        codes.push(r.body.code);
      }
    }
    expect(codes).toEqual([...Array(9).fill("passkey_invalid"), "rate_limited"]);

    const { login } = await passwordLogin("pk-guess@example.com");
    const o = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.mfa_token });
    const locked = await client.post("/api/v1/auth/passkey", {
      mfa_token: login.mfa_token,
      challenge_id: o.body.challenge_id,
      response: device.get(o.body.options),
    });
    expect(locked.statusCode).toBe(429);
    t.services.clock.advance(61);
    const again = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.mfa_token });
    const ok = await client.post("/api/v1/auth/passkey", {
      mfa_token: login.mfa_token,
      challenge_id: again.body.challenge_id,
      response: device.get(again.body.options),
    });
    expect(ok.statusCode, ok.payload).toBe(200);
  });

  it("keeps users apart: another user's passkey id is 404, their passkey is not a second factor here", async () => {
    const alice = await signUpAndLogin(t, { email: "pk-alice@example.com", account: "Alice Co" });
    const bob = await signUpAndLogin(t, { email: "pk-bob@example.com", account: "Bob Co" });
    const aliceKey = createSoftwareAuthenticator(origin);
    const bobKey = createSoftwareAuthenticator(origin);
    const a = await addPasskey(alice.client, aliceKey);
    await addPasskey(bob.client, bobKey);
    const id = a.added.passkey.id;

    expect((await bob.client.patch(`/api/v1/me/passkeys/${id}`, { label: "Mine" })).statusCode).toBe(404);
    const del = await bob.client.request("DELETE", `/api/v1/me/passkeys/${id}`, {
      password: STRONG_PASSWORD,
    });
    expect(del.statusCode).toBe(404);
    expect(
      (await bob.client.get("/api/v1/me/passkeys")).body.data.map((p: { id: string }) => p.id),
    ).not.toContain(id);
    expect((await alice.client.get("/api/v1/me/passkeys")).body.data).toHaveLength(1);

    // Bob's password, Alice's passkey: not Bob's credential.
    const { login } = await passwordLogin("pk-bob@example.com");
    const client = createClient(t.app);
    const options = await client.post("/api/v1/auth/passkey/options", { mfa_token: login.mfa_token });
    const wrongUser = await client.post("/api/v1/auth/passkey", {
      mfa_token: login.mfa_token,
      challenge_id: options.body.challenge_id,
      response: aliceKey.get({ ...options.body.options, allowCredentials: [] }),
    });
    expect(wrongUser.statusCode).toBe(400);
    expect(wrongUser.body.code).toBe("passkey_unknown");

    // Passwordless with Alice's key lands in Alice's account only.
    const ok = await passwordless(aliceKey);
    expect(ok.result.body.user.email).toBe("pk-alice@example.com");
    expect(ok.result.body.account_id).toBe(alice.accountId);
    expect((await ok.client.get(`/api/v1/accounts/${bob.accountId}/members`)).statusCode).toBe(404);
  });

  it("obeys the account policy's allowed methods", async () => {
    const user = await signUpAndLogin(t, { email: "pk-policy@example.com" });
    const set = await user.client.patch(`/api/v1/accounts/${user.accountId}/security`, {
      mfa: { allowed_methods: ["totp"] },
    });
    expect(set.statusCode, set.payload).toBe(200);
    const options = await user.client.post("/api/v1/me/passkeys/options");
    expect(options.statusCode).toBe(403);
    expect(options.body.code).toBe("forbidden");
  });
});
