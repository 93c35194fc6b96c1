import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  tokenOf,
} from "../../src/testing/harness.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "root@hooks.example";
const INVITEE = "maya@hooks.example";

type Received = { type: string; timestamp: string; data: Record<string, unknown> };

/**
 * A receiver of the account's own: an HTTP server on 127.0.0.1 that checks every delivery's signature
 * with the standardwebhooks package, answers 200 to the good ones and 401 to the rest, and lets the test
 * await a verified event by type.
 */
async function startReceiver() {
  let secret: string | null = null;
  const verified: Received[] = [];
  const refused: string[] = [];
  const waiting: Array<{ type: string; resolve: (event: Received) => void }> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        if (!secret) throw new Error("no secret yet");
        const event = new Webhook(secret).verify(body, headersOf(request.headers)) as Received;
        verified.push(event);
        for (const waiter of waiting.filter((w) => w.type === event.type)) waiter.resolve(event);
        response.writeHead(200, { "content-type": "text/plain" }).end(`ok ${event.type}`);
      } catch (error) {
        refused.push((error as Error).message);
        response.writeHead(401, { "content-type": "text/plain" }).end("bad signature");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/gatehouse`,
    verified,
    refused,
    useSecret(value: string) {
      secret = value;
    },
    /** The first verified delivery of `type` (one already received counts). */
    next(type: string): Promise<Received> {
      const seen = verified.find((event) => event.type === type);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.push({ type, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function headersOf(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === "string") flat[name] = value;
  return flat;
}

/**
 * A Root adds a webhook endpoint for `member.invited` in Settings → Webhooks, copies its secret from the
 * one-time view, invites someone in the UI, and the receiver gets the signed event; the delivery log
 * shows it. A second tab's bell counts a notification as it arrives, and the notification settings keep
 * what was saved.
 *
 * Depends on the webhooks API (src/webhooks: create, list, get, deliveries, test) and on the
 * notifications API (src/notifications: list, read, stream, preferences).
 */
describe("webhooks and notifications in a real browser", () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let webhookId: string;

  beforeAll(async () => {
    // The receiver is on 127.0.0.1: the test app allows private networks (production refuses them).
    t = await createTestApp("sqlite", { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    receiver = await startReceiver();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    page = await context.newPage();
    await signUpAndLogin(t, { email: EMAIL, password: PASSWORD, account: "Hooks" });
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await t?.close();
  });

  /**
   * Awaits a verified delivery of `type`. Deliveries go out from jobs: between looks, the jobs this
   * process started are awaited and the webhook delivery jobs run now (the loop is not running in tests).
   */
  async function delivered(type: string): Promise<Received> {
    let got: Received | null = null;
    const arrival = receiver.next(type).then((event) => {
      got = event;
      return event;
    });
    for (let round = 0; round < 200 && !got; round++) {
      await t.services.jobs.idle();
      const jobs = t.services.jobs.names().filter((name) => name.includes("webhook"));
      if (jobs.length > 0) await t.services.jobs.runNow(jobs);
      await Promise.race([arrival, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
    return arrival;
  }

  it("adds an endpoint for member.invited and shows its signing secret once", async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForURL(/\/settings\//);

    await page.click('nav[aria-label="Settings sections"] a:has-text("Webhooks")');
    await page.waitForURL(/\/settings\/webhooks$/);
    await page.locator('[data-testid="webhooks-empty"]').waitFor();

    await page.click('[data-testid="webhook-create"]');
    await expectDialogInViewport(page);
    const create = page.locator('[data-testid="webhook-create-dialog"]');
    // The catalog, grouped by prefix, with each type's description.
    const invited = create.locator('input[name="events"][value="member.invited"]');
    await invited.waitFor();

    // Nothing filled in: the problems show at their fields, and nothing is sent.
    await page.click('[data-testid="webhook-create-submit"]');
    expect(await create.locator('input[name="url"]').getAttribute("aria-invalid")).toBe("true");
    expect(await create.locator('[data-testid="webhook-events"] > .field-error').textContent()).toBe(
      "Choose at least one event, or All events.",
    );

    await create.locator('input[name="url"]').fill(receiver.url);
    await create.locator('input[name="description"]').fill("CRM sync");
    await invited.check();
    // The example payload is the chosen type's.
    expect(await create.locator('[data-testid="webhook-example-type"]').inputValue()).toBe("member.invited");
    const example = JSON.parse(
      (await create.locator('[data-testid="webhook-example"]').textContent()) ?? "{}",
    );
    expect(example.type).toBe("member.invited");
    expect(example.data).toBeTypeOf("object");
    await page.click('[data-testid="webhook-create-submit"]');

    const shown = page.locator('[data-testid="webhook-secret-dialog"]');
    await shown.waitFor();
    await expectDialogInViewport(page);
    expect(await shown.locator('[data-testid="webhook-secret-warning"]').textContent()).toContain(
      "Copy it now — you won't be able to see it again",
    );
    await page.click('[data-testid="webhook-copy"]');
    await expect.poll(() => shown.locator('[data-testid="webhook-copy-note"]').textContent()).toBe("Copied");
    const secret = await page.evaluate(() =>
      (
        globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
      ).navigator.clipboard.readText(),
    );
    expect(secret).toMatch(/^whsec_/);
    expect(await shown.locator('[data-testid="webhook-secret"]').inputValue()).toBe(secret);
    receiver.useSecret(secret);
    await page.click('[data-testid="webhook-secret-done"]');
    await shown.waitFor({ state: "detached" });

    const row = page.locator(`[data-testid="webhook-row"][data-url="${receiver.url}"]`);
    await row.waitFor();
    webhookId = (await row.getAttribute("data-webhook-id")) as string;
    expect(webhookId).toMatch(/^wh_/);
    expect(await row.locator('[data-testid="webhook-events-count"]').textContent()).toBe("1 event");
    expect(await row.locator('[data-testid="webhook-enabled"]').getAttribute("data-enabled")).toBe("true");
    expect(await page.content()).not.toContain(secret);
  });

  it("delivers a signed member.invited when someone is invited in the UI, and logs the delivery", async () => {
    await page.goto(`${base}/settings/members`);
    await page.click('[data-testid="invite-open"]');
    await page.fill('textarea[name="emails"]', INVITEE);
    const roleSelect = page.locator('[role="dialog"] select[name="role_id"]');
    const monitor = await roleSelect.locator("option", { hasText: "Monitor" }).getAttribute("value");
    await roleSelect.selectOption(monitor as string);
    await page.click('[data-testid="invite-submit"]');
    await page.locator('[data-testid="invite-result"][data-ok="true"]').waitFor();
    await page.keyboard.press("Escape");

    const event = await delivered("member.invited");
    expect(event.data.email).toBe(INVITEE);
    expect(receiver.refused).toEqual([]);

    await page.goto(`${base}/settings/webhooks/${webhookId}`);
    const delivery = page.locator('[data-testid="delivery-row"][data-event-type="member.invited"]');
    await delivery.waitFor();
    expect(await delivery.getAttribute("data-status")).toBe("succeeded");
    expect(await delivery.getAttribute("data-response-status")).toBe("200");
    expect(await delivery.locator('[data-testid="delivery-status"]').textContent()).toBe("Succeeded");
    // A succeeded delivery offers no retry; its row opens on the response body.
    expect(await delivery.locator('[data-testid="delivery-retry"]').count()).toBe(0);
    await delivery.locator('[data-testid="delivery-expand"]').click();
    expect(await page.textContent('[data-testid="delivery-response-body"]')).toBe("ok member.invited");

    // The list shows the last delivery's status.
    await page.goto(`${base}/settings/webhooks`);
    await page
      .locator(`[data-testid="webhook-row"][data-webhook-id="${webhookId}"] [data-status="succeeded"]`)
      .waitFor();
  });

  it("sends a test event from the endpoint's page", async () => {
    await page.goto(`${base}/settings/webhooks/${webhookId}`);
    await page.click('[data-testid="webhook-test"]');
    await page.locator('[data-testid="toast"]', { hasText: "Sent a test event to 127.0.0.1" }).waitFor();
    const event = await delivered("webhook.test");
    expect(event.type).toBe("webhook.test");
  });

  it("brings a notification to a second tab's bell without a reload", async () => {
    const other = await context.newPage();
    await other.goto(`${base}/settings/profile`);
    const bell = other.locator('[data-testid="notification-bell"]');
    await bell.waitFor();
    const before = Number(await bell.getAttribute("data-unread"));

    // The invitee accepts: the account's Root hears of the new member.
    const link = await t.linkFor(INVITEE, /invited/);
    const accepted = await createClient(t.app).post("/api/v1/invitations/accept", {
      token: tokenOf(link),
      password: PASSWORD,
      first_name: "Maya",
      last_name: "Patel",
    });
    expect(accepted.statusCode).toBe(200);

    await other.locator(`[data-testid="notification-bell"][data-unread="${before + 1}"]`).waitFor();
    expect(await bell.getAttribute("aria-label")).toBe(`Notifications, ${before + 1} unread`);
    expect(await other.textContent('[data-testid="notification-count"]')).toBe(String(before + 1));

    await bell.click();
    const item = other.locator('[data-testid="notification-item"][data-read="false"]').first();
    await item.waitFor();
    expect(await item.textContent()).toContain("Maya");
    await item.click();
    await other.locator(`[data-testid="notification-bell"][data-unread="${before}"]`).waitFor();
    await other.close();
  });

  it("keeps notification settings: members email off after a reload; security email is locked", async () => {
    await page.goto(`${base}/settings/notifications`);
    const membersEmail = page.locator('[data-testid="notification-members-email"]');
    await membersEmail.waitFor();
    expect(await membersEmail.isChecked()).toBe(true);
    await membersEmail.uncheck();
    await page.click('[data-testid="notification-preferences-save"]');
    await page.locator('[data-testid="toast"]', { hasText: "Saved your notification settings." }).waitFor();

    await page.reload();
    await membersEmail.waitFor();
    expect(await membersEmail.isChecked()).toBe(false);

    const securityEmail = page.locator('[data-testid="notification-security-email"]');
    expect(await securityEmail.isDisabled()).toBe(true);
    expect(await securityEmail.isChecked()).toBe(true);
    const reasonId = await securityEmail.getAttribute("aria-describedby");
    expect(await page.textContent(`[id="${reasonId}"]`)).toBe("Security email can't be turned off");
    // No verified mobile: text messages are locked, saying how to unlock them.
    const membersSms = page.locator('[data-testid="notification-members-sms"]');
    expect(await membersSms.isDisabled()).toBe(true);
    const smsReason = await membersSms.getAttribute("aria-describedby");
    expect(await page.textContent(`[id="${smsReason}"]`)).toBe("Verify your mobile number to get SMS alerts");
  });
});
