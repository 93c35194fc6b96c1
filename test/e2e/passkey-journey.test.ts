import { createServer } from "node:net";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, createTestApp, type TestApp, tokenOf } from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "keys@example.com";

/** A free port, so PUBLIC_URL can name it before the app starts. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// WebAuthn refuses IP-address origins: the browser opens http://localhost:PORT, a secure context, and
// PUBLIC_URL (whose hostname is the RP ID and whose origin is checked) says the same.
describe("passkey journey in a real browser with a virtual authenticator", () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    t = await createTestApp("sqlite", { PUBLIC_URL: base });
    await t.app.listen({ port, host: "localhost" });
    browser = await launchBrowser();
    context = await browser.newContext();
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const added = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    authenticatorId = added.authenticatorId;
    const client = createClient(t.app);
    await client.post("/api/v1/auth/signup", {
      email: EMAIL,
      password: PASSWORD,
      name: "Kay Passey",
      account_name: "Keys",
    });
    await client.post("/api/v1/auth/verify-email", { token: tokenOf(await t.linkFor(EMAIL, /Confirm/)) });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const logOut = async () => {
    await page.click('[data-testid="user-menu"]');
    await page.click('[data-testid="logout"]');
    await page.waitForURL(/\/login$/);
  };

  it("registers a passkey in Settings, renames it, logs in with it alone and as the second factor, confirms it's you with it", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);

    // Add a passkey: the first factor, so recovery codes are shown once.
    await page.goto(`${base}/settings/security`);
    await page.click('[data-testid="passkey-add"]');
    await page.fill('[data-testid="passkey-add-dialog"] input[name="label"]', "Laptop");
    await page.click('[data-testid="passkey-add-confirm"]');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    expect(await page.locator('[data-testid="recovery-code"]').count()).toBe(10);
    await page.click('[data-testid="recovery-saved"]');
    await expect
      .poll(() => page.locator('[data-testid="passkey-label"]').allTextContents())
      .toEqual(["Laptop"]);
    await expect.poll(() => page.getAttribute('[data-testid="mfa-status"]', "data-enabled")).toBe("true");
    const credentials = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials.credentials).toHaveLength(1);
    expect(credentials.credentials[0]?.isResidentCredential).toBe(true);
    expect(credentials.credentials[0]?.rpId).toBe("localhost");

    // Rename it.
    await page.click('[data-testid="passkey-rename"]');
    await page.fill('[data-testid="passkey-rename-dialog"] input[name="label"]', "Work laptop");
    await page.click('[data-testid="passkey-rename-confirm"]');
    await expect
      .poll(() => page.locator('[data-testid="passkey-label"]').allTextContents())
      .toEqual(["Work laptop"]);
    await logOut();

    // Passwordless: no email, no password.
    await page.click('[data-testid="passkey-sign-in"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
    const me = (await page.evaluate(async () => (await fetch("/api/v1/session")).json())) as {
      user: { id: string; email: string };
    };
    expect(me.user.email).toBe(EMAIL);
    await logOut();

    // Password, then the passkey as the second factor.
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="use-passkey"]');
    await page.click('[data-testid="use-passkey"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);

    const logins = await t.services.db
      .selectFrom("audit_events")
      .select("changes")
      .where("action", "=", "auth.login")
      .where("actor_id", "=", me.user.id)
      .orderBy("seq")
      .execute();
    expect(logins.map((l) => (l.changes ? JSON.parse(l.changes) : null))).toEqual([
      null,
      { method: "passkey" },
      { second_factor: "passkey" },
    ]);
    await page.goto(`${base}/settings/security`);
    await expect
      .poll(() => page.locator('[data-testid="passkey-row"] td[data-label="Last used"]').textContent())
      .not.toBe("Never");

    // Eleven minutes later the session is no longer fresh: regenerating recovery codes asks to confirm
    // it's you, and the passkey answers.
    t.services.clock.advance(11 * 60);
    await page.reload();
    await page.click('[data-testid="recovery-regenerate"]');
    await page.click('[data-testid="recovery-regenerate-confirm"]');
    await page.waitForSelector('[data-testid="reauth-dialog"]');
    await page.waitForSelector('[data-testid="reauth-use-passkey"]');
    // No user verification (the prompt is dismissed): the dialog stays open and says so.
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    await page.click('[data-testid="reauth-use-passkey"]');
    await expect
      .poll(() => page.locator('[data-testid="reauth-error"]').textContent())
      .toContain("cancelled");
    expect(await page.locator('[data-testid="reauth-dialog"]').count()).toBe(1);
    expect(await page.locator('[data-testid="recovery-codes"]').count()).toBe(0);
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: true });
    await page.click('[data-testid="reauth-use-passkey"]');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    expect(await page.locator('[data-testid="recovery-code"]').count()).toBe(10);
    expect(await page.locator('[data-testid="reauth-dialog"]').count()).toBe(0);
    const reauths = await t.services.db
      .selectFrom("audit_events")
      .select("changes")
      .where("action", "=", "auth.reauthenticated")
      .where("actor_id", "=", me.user.id)
      .execute();
    expect(reauths.map((r) => (r.changes ? JSON.parse(r.changes) : null))).toEqual([{ method: "passkey" }]);
  });
});
