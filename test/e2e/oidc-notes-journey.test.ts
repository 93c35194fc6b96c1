import { createServer } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNotesApp } from "../../examples/notes/src/app.js";
import { newTotp } from "../../src/mfa/totp.js";
import {
  addMember,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";

/** A free TCP port: the issuer (PUBLIC_URL) must be known before Gatehouse listens. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * The example host product (examples/notes) signs in with Gatehouse in a real browser: redirected to
 * Gatehouse, password + TOTP, back in Notes as the right account and role; the host permission guards
 * Publish (allowed for an Editor, refused for a Monitor); an admin suspends the user in Gatehouse and the
 * Notes session ends through back-channel logout; a user with two accounts switches between them.
 */
describe.each(testDialects())("Sign in with Gatehouse: the Notes example on %s", (dialect) => {
  let t: TestApp;
  let notes: Awaited<ReturnType<typeof buildNotesApp>>;
  let notesUrl: string;
  let browser: Browser;
  let owner: Awaited<ReturnType<typeof signUpAndLogin>>;
  let editor: Awaited<ReturnType<typeof addMember>>;
  let monitor: Awaited<ReturnType<typeof addMember>>;
  let totpSecret: string;

  beforeAll(async () => {
    const gatehousePort = await freePort();
    const base = `http://127.0.0.1:${gatehousePort}`;
    t = await createTestApp(dialect, {
      PUBLIC_URL: base,
      PERMISSIONS: "notes:publish=Publish notes",
      // Back-channel logout to Notes on 127.0.0.1 goes through the webhooks' outbound policy.
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    });
    await t.app.listen({ port: gatehousePort, host: "127.0.0.1" });

    owner = await signUpAndLogin(t, { email: "root@northwind.example", account: "Northwind" });
    const role = await owner.client.post(`/api/v1/accounts/${owner.accountId}/roles`, {
      name: "Editor",
      permissions: ["account:read", "members:read", "notes:publish"],
    });
    expect(role.statusCode, role.payload).toBe(201);
    editor = await addMember(t, owner, {
      email: "dana@northwind.example",
      roleKey: role.body.key,
      firstName: "Dana",
    });
    monitor = await addMember(t, owner, {
      email: "max@northwind.example",
      roleKey: "monitor",
      firstName: "Max",
    });

    // Dana protects her login with TOTP.
    await editor.client.post("/api/v1/auth/login", {
      email: "dana@northwind.example",
      password: editor.password,
    });
    const start = await editor.client.post("/api/v1/me/mfa/totp", {});
    totpSecret = start.body.secret as string;
    const verified = await editor.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(totpSecret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    expect(verified.statusCode, verified.payload).toBe(200);
    t.services.clock.advance(30);

    const notesPort = await freePort();
    notesUrl = `http://127.0.0.1:${notesPort}`;
    const { client, secret } = await t.services.oidcClients.add(t.services.db, {
      name: "Notes",
      confidential: true,
      party: "first",
      redirectUris: [`${notesUrl}/callback`],
      postLogoutRedirectUris: [`${notesUrl}/`],
      grantTypes: ["authorization_code", "refresh_token"],
      backchannelLogoutUri: `${notesUrl}/backchannel-logout`,
    });
    notes = await buildNotesApp({
      issuer: `${base}/oidc`,
      clientId: client.clientId,
      clientSecret: secret as string,
      publicUrl: notesUrl,
      permission: "notes:publish",
    });
    await notes.server.listen({ port: notesPort, host: "127.0.0.1" });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await notes?.server.close();
    await t?.close();
  });

  async function signInThroughGatehouse(page: Page, email: string, password: string, code?: () => string) {
    await page.goto(notesUrl);
    await page.click("#sign-in");
    // Gatehouse's own login page, sent back to the authorization afterwards.
    await page.waitForURL(/\/login\?next=/);
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');
    if (code) {
      await page.waitForSelector('input[name="code"]');
      await page.fill('input[name="code"]', code());
      await page.click('[data-testid="mfa-submit"]');
    }
    await page.waitForURL(`${notesUrl}/`);
  }

  it("signs in with password and TOTP, shows the account and role, and lets an Editor publish", async () => {
    const page = await browser.newPage();
    await signInThroughGatehouse(page, "dana@northwind.example", editor.password, () =>
      newTotp(totpSecret).generate({ timestamp: t.services.clock.now().getTime() }),
    );
    await expect.poll(() => page.textContent("#user")).toContain("dana@northwind.example");
    expect(await page.textContent("#account")).toBe("Northwind");
    expect(await page.textContent("#role")).toBe("Editor");
    await page.click("#publish");
    expect(await page.textContent("#result")).toBe("Published.");
    expect(notes.published).toHaveLength(1);
    await page.close();
  });

  it("refuses Publish to a Monitor", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughGatehouse(page, "max@northwind.example", monitor.password);
    expect(await page.textContent("#role")).toBe("Monitor");
    await page.click("#publish");
    expect(await page.textContent("#result")).toContain("Refused");
    expect(notes.published).toHaveLength(1);
    await context.close();
  });

  it("ends the Notes session through back-channel logout when an admin suspends the user", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    t.services.clock.advance(30);
    await signInThroughGatehouse(page, "dana@northwind.example", editor.password, () =>
      newTotp(totpSecret).generate({ timestamp: t.services.clock.now().getTime() }),
    );
    expect(await page.textContent("#role")).toBe("Editor");
    const before = notes.sessionCount();

    const suspended = await owner.client.post(
      `/api/v1/accounts/${owner.accountId}/members/${editor.userId}/suspend`,
      {},
    );
    expect(suspended.statusCode, suspended.payload).toBe(200);
    // Each of Dana's Gatehouse sessions (earlier tests' too) gets its own logout token, delivered one
    // by one: wait for this page's session to end, not for any one of them.
    await expect
      .poll(
        async () => {
          await page.reload();
          return page.textContent("body");
        },
        { timeout: 15_000 },
      )
      .toContain("You are not signed in.");
    expect(notes.sessionCount()).toBeLessThan(before);
    await context.close();
  });

  it("switches account: Gatehouse's chooser again (prompt=select_account), then Notes acts in the new one", async () => {
    const login = await monitor.client.post("/api/v1/auth/login", {
      email: "max@northwind.example",
      password: monitor.password,
    });
    expect(login.statusCode, login.payload).toBe(200);
    const lab = await monitor.client.post("/api/v1/accounts", { name: "Max Lab" });
    expect(lab.statusCode, lab.payload).toBe(201);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(notesUrl);
    await page.click("#sign-in");
    await page.waitForURL(/\/login\?next=/);
    await page.fill('input[name="email"]', "max@northwind.example");
    await page.fill('input[name="password"]', monitor.password);
    await page.click('button[type="submit"]');
    // Two accounts now: Gatehouse asks which one.
    const chooser = page.locator('[data-testid="authorize-accounts"]');
    await chooser.waitFor();
    await chooser.locator(`input[name="account_id"][value="${owner.accountId}"]`).check();
    await page.click('[data-testid="authorize-account-continue"]');
    await page.waitForURL(`${notesUrl}/`);
    expect(await page.textContent("#account")).toBe("Northwind");
    expect(await page.textContent("#role")).toBe("Monitor");

    await page.click("#switch-account");
    await chooser.waitFor();
    await chooser.locator(`input[name="account_id"][value="${lab.body.id}"]`).check();
    await page.click('[data-testid="authorize-account-continue"]');
    await page.waitForURL(`${notesUrl}/`);
    await expect.poll(() => page.textContent("#account")).toBe("Max Lab");
    expect(await page.textContent("#role")).toBe("Root");
    await context.close();
  });
});
