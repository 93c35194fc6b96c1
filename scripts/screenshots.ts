// `npm run screenshots`: every page of the web app (and its main dialogs) at 1280×800 and 390×844, in the
// light and the dark theme, as PNG files under ./screenshots (not committed), so a reviewer can look at
// all of them at once. It runs its own server on a temporary SQLite file with a demo account.
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";
import { createDemoAccount, DEMO_ROOT } from "../src/testing/demo.js";
import { createTestApp } from "../src/testing/harness.js";
import { launchBrowser } from "../test/e2e/browser.js";

const OUT = resolve(process.argv[2] ?? "screenshots");
const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "mobile", width: 390, height: 844 },
] as const;
const SCHEMES = ["light", "dark"] as const;

type Shot = { name: string; path: string; open?: (page: Page) => Promise<void> };

const SIGNED_OUT: Shot[] = [
  { name: "login", path: "/login" },
  // The demo account has no branding of its own yet: this shows the unbranded answer for a real slug.
  { name: "login-account", path: "/login?account=northwind-traders" },
  { name: "signup", path: "/signup" },
  { name: "forgot-password", path: "/forgot-password" },
  { name: "reset-password-bad-link", path: "/reset-password?token=used-or-expired" },
  { name: "not-found", path: "/no-such-page" },
];

function signedIn(demo: Awaited<ReturnType<typeof createDemoAccount>>, webhookId: string | null): Shot[] {
  const dialog = (testId: string) => async (page: Page) => {
    await page.click(`[data-testid="${testId}"]`);
    await page.waitForSelector('[role="dialog"]');
  };
  return [
    { name: "profile", path: "/settings/profile" },
    { name: "security", path: "/settings/security" },
    { name: "preferences", path: "/settings/preferences" },
    { name: "organization", path: "/settings/organization" },
    { name: "branding", path: "/settings/branding" },
    { name: "domains", path: "/settings/domains" },
    { name: "members", path: "/settings/members" },
    { name: "members-invite", path: "/settings/members", open: dialog("invite-open") },
    { name: "member-deep-link", path: `/settings/members/${demo.memberId}` },
    { name: "teams", path: "/settings/teams" },
    { name: "team-deep-link", path: `/settings/teams/${demo.teamId}` },
    { name: "roles", path: "/settings/roles" },
    { name: "api-keys", path: "/settings/api-keys" },
    { name: "api-keys-create", path: "/settings/api-keys", open: dialog("api-key-create") },
    { name: "api-key-detail", path: `/settings/api-keys/${demo.apiKeyId}` },
    { name: "webhooks", path: "/settings/webhooks" },
    { name: "webhooks-create", path: "/settings/webhooks", open: dialog("webhook-create") },
    ...(webhookId ? [{ name: "webhook-detail", path: `/settings/webhooks/${webhookId}` }] : []),
    { name: "notifications", path: "/settings/notifications" },
    {
      name: "notification-bell",
      path: "/settings/profile",
      open: async (page: Page) => {
        await page.click('[data-testid="notification-bell"]');
        await page.waitForSelector('[data-testid="notification-panel"]');
      },
    },
    { name: "audit-log", path: "/settings/audit-log" },
    { name: "security-policy", path: "/settings/security-policy" },
    { name: "billing", path: "/settings/billing" },
  ];
}

async function shoot(page: Page, base: string, shot: Shot, folder: string) {
  await page.goto(`${base}${shot.path}`);
  await page.waitForLoadState("networkidle");
  if (shot.open) await shot.open(page);
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(folder, `${shot.name}.png`), fullPage: true });
}

async function main() {
  rmSync(OUT, { recursive: true, force: true });
  // The demo webhook endpoint points at this machine: private networks are allowed for it.
  const t = await createTestApp("sqlite", { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
  const browser = await launchBrowser();
  try {
    const base = await t.app.listen({ port: 0, host: "127.0.0.1" });
    const demo = await createDemoAccount(t);
    const webhook = await demo.root.client.post(`/api/v1/accounts/${demo.accountId}/webhooks`, {
      url: "http://127.0.0.1:9/gatehouse",
      events: ["member.invited", "member.joined"],
      description: "CRM sync",
    });
    const webhookId = webhook.statusCode === 201 ? (webhook.body.id as string) : null;
    let count = 0;
    let failed = 0;
    for (const scheme of SCHEMES) {
      for (const viewport of VIEWPORTS) {
        const folder = join(OUT, `${viewport.name}-${scheme}`);
        mkdirSync(folder, { recursive: true });
        const context = await browser.newContext({
          viewport: { width: viewport.width, height: viewport.height },
          colorScheme: scheme,
        });
        const page = await context.newPage();
        for (const shot of SIGNED_OUT) {
          await shoot(page, base, shot, folder);
          count++;
        }
        await page.goto(`${base}/login`);
        await page.fill('input[name="email"]', DEMO_ROOT.email);
        await page.fill('input[name="password"]', DEMO_ROOT.password);
        await page.click('button[type="submit"]');
        await page.waitForURL(/\/settings\//);
        for (const shot of signedIn(demo, webhookId)) {
          try {
            await shoot(page, base, shot, folder);
            count++;
          } catch (error) {
            failed++;
            console.error(`${viewport.name}-${scheme}/${shot.name}: ${(error as Error).message}`);
          }
        }
        await context.close();
      }
    }
    console.log(`${count} screenshots in ${OUT}${failed ? `; ${failed} failed` : ""}`);
    if (failed) process.exitCode = 1;
  } finally {
    await browser.close();
    await t.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
