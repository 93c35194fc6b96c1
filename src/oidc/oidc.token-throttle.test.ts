import * as oc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { THROTTLE_RULES } from "../auth/login-throttle.js";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";
import { discover, signInWithCode } from "./oidc.testing.js";

const REDIRECT = "https://partner.example/callback";
const PER_CLIENT_IP = THROTTLE_RULES.oidcClientIp.threshold;
const PER_CLIENT = THROTTLE_RULES.oidcClient.threshold;
const PER_IP = THROTTLE_RULES.oidcIp.threshold;

describe.each(testDialects())("secret guessing at the OpenID Connect token endpoints on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  async function addClient(confidential: boolean, grantTypes: string[]) {
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: "Partner app",
      confidential,
      party: "first",
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [],
      grantTypes,
    });
    return { clientId: client.clientId, secret: secret as string };
  }

  /** A form POST to one of the provider's endpoints from `ip`, with Basic credentials when given. */
  function post(path: string, ip: string, fields: Record<string, string>, basic?: [string, string]) {
    const credentials = basic
      ? Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString("base64")
      : undefined;
    return t.app.inject({
      method: "POST",
      url: `/oidc${path}`,
      remoteAddress: ip,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(credentials ? { authorization: `Basic ${credentials}` } : {}),
      },
      payload: new URLSearchParams(fields).toString(),
    });
  }

  const clientCredentials = (ip: string, clientId: string, secret: string) =>
    post("/token", ip, { grant_type: "client_credentials", scope: "gatehouse:authz" }, [clientId, secret]);

  function expectLocked(response: Awaited<ReturnType<typeof post>>) {
    expect(response.statusCode).toBe(429);
    expect(Number(response.headers["retry-after"])).toBeGreaterThan(0);
    expect(response.json()).toMatchObject({ error: "rate_limited" });
    expect(response.json().error_description).toMatch(/Try again in \d+ seconds/);
  }

  it("wrong client secrets from one address lock that client there, at all three endpoints, right secret too", async () => {
    const { clientId, secret } = await addClient(true, ["client_credentials"]);
    const ip = "198.51.100.1";
    const paths = ["/token", "/token/introspection", "/token/revocation"];
    for (let i = 0; i < PER_CLIENT_IP; i++) {
      const path = paths[i % paths.length] as string;
      const fields: Record<string, string> =
        path === "/token" ? { grant_type: "client_credentials" } : { token: "not-a-token" };
      const answer = await post(path, ip, fields, [clientId, "wrong-secret"]);
      expect(answer.statusCode).toBe(401);
      expect(answer.json().error).toBe("invalid_client");
    }
    // Locked: the right secret gets the same answer as a wrong one, so a guess learns nothing.
    expectLocked(await clientCredentials(ip, clientId, secret));
    expectLocked(await post("/token/introspection", ip, { token: "x" }, [clientId, "another-guess"]));
    // The client's own backend, elsewhere, is not held up.
    expect((await clientCredentials("203.0.113.1", clientId, secret)).statusCode).toBe(200);
  });

  it("a distributed attack locks the client for strangers, not where it authenticated before", async () => {
    const { clientId, secret } = await addClient(true, ["client_credentials"]);
    const backend = "192.0.2.10";
    expect((await clientCredentials(backend, clientId, secret)).statusCode).toBe(200);
    // Spread over addresses, each below its own limit.
    const perAddress = PER_CLIENT_IP - 1;
    for (let i = 0; i < PER_CLIENT; i++) {
      const ip = `198.51.100.${100 + Math.floor(i / perAddress)}`;
      const answer = await clientCredentials(ip, clientId, `guess-${i}`);
      expect(answer.statusCode).toBe(401);
    }
    expectLocked(await clientCredentials("203.0.113.50", clientId, secret));
    expect((await clientCredentials(backend, clientId, secret)).statusCode).toBe(200);
  });

  it("one address failing for many clients is locked for every client", async () => {
    const { clientId, secret } = await addClient(true, ["client_credentials"]);
    const ip = "198.51.100.200";
    for (let i = 0; i < PER_IP; i++) {
      const answer = await clientCredentials(ip, `unknown-client-${i}`, "guess");
      expect(answer.statusCode).toBe(401);
    }
    expectLocked(await clientCredentials(ip, clientId, secret));
    expect((await clientCredentials("203.0.113.2", clientId, secret)).statusCode).toBe(200);
  });

  it("invalid codes of a public client are throttled per address; its real sign-ins and refreshes go on", async () => {
    const owner = await signUpAndLogin(t, { email: "public-client@example.com", account: "Public" });
    const { clientId } = await addClient(false, ["authorization_code", "refresh_token"]);
    const guesser = "198.51.100.30";
    const bogus = (ip: string, i: number) =>
      post("/token", ip, {
        grant_type: "authorization_code",
        client_id: clientId,
        code: `guessed-code-${i}`,
        redirect_uri: REDIRECT,
        code_verifier: oc.randomPKCECodeVerifier(),
      });
    for (let i = 0; i < PER_CLIENT_IP; i++) {
      const answer = await bogus(guesser, i);
      expect(answer.statusCode).toBe(400);
      expect(answer.json().error).toBe("invalid_grant");
    }
    expectLocked(await bogus(guesser, -1));
    expectLocked(
      await post("/token", guesser, { grant_type: "refresh_token", client_id: clientId, refresh_token: "x" }),
    );
    // Elsewhere the client's users are not held up: another address is still answered,
    expect((await bogus("198.51.100.31", 0)).statusCode).toBe(400);
    // and a real sign-in (code + PKCE, client_id in the body) and a refresh complete.
    const config = await discover(t.app, `${t.config.publicUrl}/oidc`, clientId, null);
    const tokens = await signInWithCode(t.app, config, owner.client, {
      accountId: owner.accountId,
      redirectUri: REDIRECT,
    });
    expect(tokens.claims()?.account_id).toBe(owner.accountId);
    const refreshed = await oc.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.access_token).toBeTruthy();
  });

  it("a body read ahead of the provider is still refused as bad input when it is too long or malformed", async () => {
    const { clientId } = await addClient(false, ["authorization_code"]);
    const long = await post("/token", "198.51.100.50", {
      grant_type: "authorization_code",
      client_id: clientId,
      code: "x".repeat(60 * 1024),
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toBe("invalid_request");
    const garbled = await t.app.inject({
      method: "POST",
      url: "/oidc/token",
      remoteAddress: "198.51.100.50",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic %%%" },
      payload: "client_id=%E0%A4%A&grant_type=authorization_code",
    });
    expect(garbled.statusCode).toBeGreaterThanOrEqual(400);
    expect(garbled.statusCode).toBeLessThan(500);
  });

  it("a confidential client's own stale codes are not guesses: it is never locked for them", async () => {
    const { clientId, secret } = await addClient(true, ["authorization_code"]);
    const ip = "198.51.100.40";
    for (let i = 0; i < PER_CLIENT_IP + 5; i++) {
      const answer = await post(
        "/token",
        ip,
        { grant_type: "authorization_code", code: `stale-${i}`, redirect_uri: REDIRECT },
        [clientId, secret],
      );
      expect(answer.statusCode).toBe(400);
      expect(answer.json().error).toBe("invalid_grant");
    }
  });
});
