import * as oc from "openid-client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newTotp } from "../../src/mfa/totp.js";
import { discover } from "../../src/oidc/oidc.testing.js";
import { addMember, createTestApp, signUpAndLogin, type TestApp } from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "root@authorize.example";
const PORT = 4599;
const REDIRECT = "https://notes.example/callback";

/**
 * The web app as the provider's login UI (`/authorize/{uid}`) in a real browser: signed out → log in →
 * back to the page; consent for a third-party app (Allow and Deny); a first-party app with several
 * accounts asks which one; a password change or a second factor due at log-in comes first, then back
 * to the application; an unknown request says it expired.
 */
describe("Sign in with Gatehouse: the authorize page in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let context: BrowserContext;
  let base: string;
  let owner: Awaited<ReturnType<typeof signUpAndLogin>>;

  async function authorizationUrl(party: "first" | "third", scope: string) {
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: party === "third" ? "Partner app" : "Notes",
      confidential: true,
      party,
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [],
    });
    const config = await discover(t.app, `${base}/oidc`, client.clientId, secret);
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope,
      code_challenge: await oc.calculatePKCECodeChallenge(oc.randomPKCECodeVerifier()),
      code_challenge_method: "S256",
      state: "s1",
    });
    return { url: url.href, clientId: client.clientId };
  }

  /** Runs `act`, and answers the browser's request to the application's redirect URI that follows. */
  async function backAtApp(act: () => Promise<unknown>): Promise<URL> {
    const request = page.waitForRequest((r) => r.url().startsWith("https://notes.example/"));
    await act();
    return new URL((await request).url());
  }

  beforeAll(async () => {
    t = await createTestApp("sqlite", { PUBLIC_URL: `http://127.0.0.1:${PORT}` });
    base = await t.app.listen({ port: PORT, host: "127.0.0.1" });
    browser = await launchBrowser();
    owner = await signUpAndLogin(t, { email: EMAIL, password: PASSWORD, account: "Try Co" });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.route("https://notes.example/**", (route) =>
      route.fulfill({ status: 200, body: "back at the app" }),
    );
  });
  // A page of its own per test (same cookies): the previous test's last navigation cannot race this one's.
  beforeEach(async () => {
    await page?.close();
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("third party, signed out: log in, come back, consent in plain words, Allow → a code for the app", async () => {
    const { url, clientId } = await authorizationUrl("third", "openid email gatehouse:account");
    await page.goto(url);
    await page.waitForURL(/\/login\?next=%2Fauthorize%2F/);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/authorize\/[A-Za-z0-9_-]+$/);

    const consent = page.locator('[data-testid="authorize-consent"]');
    await consent.waitFor();
    expect(await page.locator("h1").textContent()).toContain("Partner app");
    const scopes = await consent.locator('[data-testid="authorize-scopes"] li').allTextContents();
    expect(scopes).toEqual([
      "Know who you are (your Gatehouse user id)",
      "See your email address",
      "See the account you choose, your role and what it lets you do there",
    ]);
    expect(await consent.locator('[data-testid="authorize-account"]').textContent()).toContain("Try Co");
    await expectAccessible(page, "consent screen");
    const callback = await backAtApp(() => page.click('[data-testid="authorize-allow"]'));
    expect(callback.searchParams.get("code")).toBeTruthy();
    expect(callback.searchParams.get("state")).toBe("s1");
    const rows = await t.services.db
      .selectFrom("oidc_authorizations")
      .select("client_id")
      .where("client_id", "=", clientId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("third party, Deny → the app gets access_denied and no authorization is stored", async () => {
    const { url, clientId } = await authorizationUrl("third", "openid gatehouse:account");
    await page.goto(url);
    await page.locator('[data-testid="authorize-consent"]').waitFor();
    const callback = await backAtApp(() => page.click('[data-testid="authorize-deny"]'));
    expect(callback.searchParams.get("error")).toBe("access_denied");
    const rows = await t.services.db
      .selectFrom("oidc_authorizations")
      .select("client_id")
      .where("client_id", "=", clientId)
      .execute();
    expect(rows).toEqual([]);
  });

  it("first party with several accounts: choose one, then straight back to the app (no consent)", async () => {
    const created = await page.request.post(`${base}/api/v1/accounts`, {
      data: { name: "Second Co" },
      headers: { "x-csrf-token": await csrfOf(page, base) },
    });
    expect(created.status()).toBe(201);
    const second = (await created.json()).id as string;

    const { url, clientId } = await authorizationUrl("first", "openid gatehouse:account");
    await page.goto(url);
    const chooser = page.locator('[data-testid="authorize-accounts"]');
    await chooser.waitFor();
    expect(await chooser.locator('input[name="account_id"]').count()).toBe(2);
    await expectAccessible(page, "account chooser");
    await chooser.locator(`input[name="account_id"][value="${second}"]`).check();
    const callback = await backAtApp(() => page.click('[data-testid="authorize-account-continue"]'));
    expect(callback.searchParams.get("code")).toBeTruthy();
    const row = await t.services.db
      .selectFrom("oidc_authorizations")
      .select("account_id")
      .where("client_id", "=", clientId)
      .executeTakeFirstOrThrow();
    expect(row.account_id).toBe(second);
  });

  /** A browser of its own for a member (no Gatehouse session yet), logging in from the authorize page. */
  async function logInFromApplication(email: string, password: string) {
    const own = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await own.route("https://notes.example/**", (route) => route.fulfill({ status: 200, body: "back" }));
    page = await own.newPage();
    const { url } = await authorizationUrl("first", "openid gatehouse:account");
    await page.goto(url);
    await page.waitForURL(/\/login\?next=%2Fauthorize%2F/);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
    // The pending sign-in waits on the Security tab.
    await page.waitForURL(/\/settings\/security\?next=%2Fauthorize%2F[A-Za-z0-9_-]+$/);
    await page.locator('[data-testid="continue-after-security"]').waitFor();
  }

  it("a password to change at log-in comes first, then back to the application", async () => {
    const member = await addMember(t, owner, { email: "expired@authorize.example", roleKey: "admin" });
    const forced = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${member.userId}/force-password-reset`,
    );
    expect(forced.statusCode).toBe(204);

    await logInFromApplication("expired@authorize.example", member.password);
    // Opening the application's request again (signed in, password still due) comes back here.
    const pending = new URL(page.url()).searchParams.get("next") as string;
    await page.goto(`${base}${pending}`);
    await page.waitForURL(/\/settings\/security\?next=%2Fauthorize%2F[A-Za-z0-9_-]+$/);
    await page.locator('[data-testid="password-change-required"]').waitFor();
    await expectAccessible(page, "security tab with a pending sign-in");
    await page.fill('input[name="current_password"]', member.password);
    await page.fill('input[name="new_password"]', "amber-Lantern-meadow-77");
    await page.fill('input[name="confirm_password"]', "amber-Lantern-meadow-77");
    await page.click('form[aria-labelledby="password-heading"] button[type="submit"]');
    await page.locator('[data-testid="security-continue"]').waitFor();
    const callback = await backAtApp(() => page.click('[data-testid="security-continue"]'));
    expect(callback.searchParams.get("code")).toBeTruthy();
    expect(callback.searchParams.get("state")).toBe("s1");
  });

  it("a second factor the account requires is set up first, then back to the application", async () => {
    const member = await addMember(t, owner, { email: "enroll@authorize.example", roleKey: "developer" });
    const roles = await owner.client.get(`/api/v1/accounts/${owner.accountId}/roles`);
    const developer = (roles.body.data as Array<{ id: string; key: string }>).find(
      (r) => r.key === "developer",
    );
    const policy = await owner.client.patch(`/api/v1/accounts/${owner.accountId}/security`, {
      mfa: { required_role_ids: [developer?.id], grace_days: 0 },
    });
    expect(policy.statusCode).toBe(200);

    await logInFromApplication("enroll@authorize.example", member.password);
    await page.click('[data-testid="totp-enable"]');
    await page.waitForSelector('[data-testid="totp-qr"]');
    const secret = ((await page.textContent('[data-testid="totp-secret"]')) ?? "").replace(/\s/g, "");
    await page.fill(
      '[data-testid="totp-dialog"] input[name="code"]',
      newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() }),
    );
    await page.click('[data-testid="totp-verify"]');
    // The recovery codes are shown before anything moves on.
    await page.waitForSelector('[data-testid="recovery-codes"]');
    await page.click('[data-testid="recovery-saved"]');
    const callback = await backAtApp(() => page.click('[data-testid="security-continue"]'));
    expect(callback.searchParams.get("code")).toBeTruthy();
  });

  it("an unknown or expired request says so, with a way back", async () => {
    // A fresh tab: the last one may still be on its way to the application.
    page = await (await browser.newContext()).newPage();
    await page.goto(`${base}/authorize/noSuchInteraction123`);
    const expired = page.locator('[data-testid="authorize-expired"]');
    await expired.waitFor();
    expect(await page.locator("h1").textContent()).toBe("This sign-in link has expired");
    expect(await page.locator('a:has-text("Go to Gatehouse")').count()).toBe(1);
    await expectAccessible(page, "expired request");
  });
});

/** The CSRF token the web app sends: GET /session answers it for the browser's cookie. */
async function csrfOf(page: Page, base: string): Promise<string> {
  const session = await page.request.get(`${base}/api/v1/session`);
  return (await session.json()).csrf_token as string;
}
