import { decodeProtectedHeader } from "jose";
import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";
import { OIDC_KEY_ROTATION_JOB, retiredKeyPublishSeconds } from "./oidc.key-rotation.js";
import { authorize, createBrowser, discover } from "./oidc.testing.js";

const REDIRECT = "https://notes.example/callback";
const DAY = 86_400;

/** Polls `check` until it holds: a rotation reaches other processes asynchronously (LISTEN/NOTIFY). */
async function eventually(check: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describe.each(testDialects())("OpenID Connect signing-key rotation on %s", (dialect) => {
  let t: TestApp;
  let issuer: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    issuer = `${t.config.publicUrl}/oidc`;
  });
  afterAll(() => t?.close());

  const jwksKids = async (app = t.app) =>
    ((await app.inject({ method: "GET", url: "/oidc/jwks" })).json().keys as Array<{ kid: string }>).map(
      (k) => k.kid,
    );
  const runJob = async () => {
    const outcome = (await t.services.jobs.runNow([OIDC_KEY_ROTATION_JOB]))[OIDC_KEY_ROTATION_JOB];
    expect(outcome?.status).toBe("ok");
    return (outcome as { result: { rotated: string | null; deleted: number } }).result;
  };
  const check = (app: TestApp["app"], token: string, owner: { accountId: string; userId: string }) =>
    app.inject({
      method: "POST",
      url: "/api/v1/authz/check",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: JSON.stringify({
        account_id: owner.accountId,
        user_id: owner.userId,
        permission: "members:read",
      }),
    });

  it("rotates when the key is OIDC_KEY_ROTATION_DAYS old, publishes the old key until its tokens expired, then drops it", async () => {
    const owner = await signUpAndLogin(t, { email: "rotation-owner@example.com", account: "Rotating" });
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: "Notes",
      confidential: true,
      party: "first",
      redirectUris: [REDIRECT],
      grantTypes: ["authorization_code", "client_credentials"],
    });
    const clientToken = async () =>
      (
        await oc.clientCredentialsGrant(await discover(t.app, issuer, client.clientId, secret), {
          scope: "gatehouse:authz",
        })
      ).access_token;
    // On PostgreSQL, another process's worth of app on the same database hears of the rotation.
    const sibling = dialect === "postgres" ? await t.sibling() : undefined;

    const [first] = await jwksKids();
    expect(first).toBeDefined();
    const oldToken = await clientToken();
    expect(decodeProtectedHeader(oldToken).kid).toBe(first);
    if (sibling) expect(await jwksKids(sibling.app)).toEqual([first]);

    // Not due a minute before the key is 30 days old.
    t.services.clock.advance(30 * DAY - 60);
    expect(await runJob()).toEqual({ rotated: null, deleted: 0 });
    expect(await jwksKids()).toEqual([first]);

    t.services.clock.advance(120);
    const { rotated, deleted } = await runJob();
    expect(deleted).toBe(0);
    expect(rotated).toEqual(expect.any(String));
    expect(rotated).not.toBe(first);
    // Once: the next run finds a fresh current key.
    expect(await runJob()).toEqual({ rotated: null, deleted: 0 });
    // This process swapped before the job ended: the new key signs, both are published.
    expect(await jwksKids()).toEqual([rotated, first]);
    const newToken = await clientToken();
    expect(decodeProtectedHeader(newToken).kid).toBe(rotated);
    expect((await check(t.app, newToken, owner)).statusCode).toBe(200);
    expect((await check(t.app, oldToken, owner)).statusCode).toBe(200);
    // A client that discovers now verifies ID tokens of the new key through the JWKS (a fresh login:
    // the first one's session ended in the 30 days).
    const signer = await signUpAndLogin(t, { email: "rotation-signer@example.com", account: "Signer" });
    const config = await discover(t.app, issuer, client.clientId, secret);
    const verifier = oc.randomPKCECodeVerifier();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: "openid",
      code_challenge: await oc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state: "s",
    });
    const { callback } = await authorize(createBrowser(t.app, signer.client), url, { approve: true });
    const tokens = await oc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: "s",
    });
    expect(decodeProtectedHeader(tokens.id_token as string).kid).toBe(rotated);

    if (sibling) {
      await eventually(
        async () => (await jwksKids(sibling.app)).join(" ") === `${rotated} ${first}`,
        "the sibling publishes the new key",
      );
      expect(sibling.services.oidc.kids()).toEqual([rotated, first]);
      expect((await check(sibling.app, newToken, owner)).statusCode).toBe(200);
      expect((await check(sibling.app, oldToken, owner)).statusCode).toBe(200);
    }

    // Published until every token it signed has expired (the longest lifetime, plus the margin).
    const publish = retiredKeyPublishSeconds(t.config.oidc.accessTokenTtlSeconds);
    const stored = await t.services.db
      .selectFrom("oidc_signing_keys")
      .select(["kid", "retired_at", "expires_at"])
      .where("kid", "=", first as string)
      .executeTakeFirstOrThrow();
    expect(
      new Date(stored.expires_at as string).getTime() - new Date(stored.retired_at as string).getTime(),
    ).toBe(publish * 1000);
    t.services.clock.advance(publish - 60);
    expect(await runJob()).toEqual({ rotated: null, deleted: 0 });
    expect(await jwksKids()).toEqual([rotated, first]);
    expect((await check(t.app, oldToken, owner)).statusCode).toBe(200);

    t.services.clock.advance(120);
    expect(await runJob()).toEqual({ rotated: null, deleted: 1 });
    expect(await jwksKids()).toEqual([rotated]);
    const refused = await check(t.app, oldToken, owner);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe("invalid_token");
    expect((await check(t.app, newToken, owner)).statusCode).toBe(200);
    expect(
      (await t.services.db.selectFrom("oidc_signing_keys").select("kid").execute()).map((r) => r.kid),
    ).toEqual([rotated]);
    if (sibling) {
      await eventually(
        async () => (await jwksKids(sibling.app)).join(" ") === rotated,
        "the sibling no longer publishes the expired key",
      );
      expect((await check(sibling.app, oldToken, owner)).statusCode).toBe(401);
      await sibling.close();
    }
  }, 60_000);

  it("two rotations at once make one new key", async () => {
    const rotations = [t.services.oidcKeyRotation];
    const sibling = dialect === "postgres" ? await t.sibling() : undefined;
    rotations.push(sibling ? sibling.services.oidcKeyRotation : t.services.oidcKeyRotation);
    const [before] = await jwksKids();
    t.services.clock.advance(31 * DAY);
    const outcomes = await Promise.all(rotations.map((r) => r.rotateDue()));
    const made = outcomes.map((o) => o.rotated).filter((kid) => kid !== null);
    expect(made).toHaveLength(1);
    const current = await t.services.db
      .selectFrom("oidc_signing_keys")
      .select("kid")
      .where("retired_at", "is", null)
      .execute();
    expect(current.map((r) => r.kid)).toEqual(made);
    expect(await jwksKids()).toEqual([made[0], before]);
    await sibling?.close();
  }, 30_000);
});
