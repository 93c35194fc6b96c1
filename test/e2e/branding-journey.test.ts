import { createServer } from "node:net";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, tokenOf } from "../../src/testing/harness.js";
import { expectAccessible } from "./a11y.js";
import { launchBrowser } from "./browser.js";
import { expectDialogInViewport } from "./dialogs.js";
import { startRawMailSink } from "./raw-mail.js";

const PASSWORD = "violet-Harbor-sunrise-42";
const EMAIL = "root@brand.example";
const INVITEE = "sam@brand.example";
/** ≥ 3:1 against both themes' backgrounds; white text on it is ≥ 4.5:1. */
const COLOUR = "#1a7f5a";
const COLOUR_RGB = [0x1a, 0x7f, 0x5a] as const;
/** Too light for the light theme: the server refuses it. */
const PALE = "#ffd700";
const MESSAGE = "Welcome to Brand Co — sign in with your work account.\nNeed help? Ask IT.";

// The browser's globals, for code that runs in the page (the root tsconfig has no DOM library).
type PageGlobals = {
  document: {
    documentElement: { dataset: Record<string, string | undefined> };
    activeElement: { getAttribute(name: string): string | null } | null;
  };
  getComputedStyle(element: unknown): { backgroundColor: string; color: string };
};

const naturalWidth = (image: Locator) =>
  image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
const background = (element: Locator) =>
  element.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor);
const textColour = (element: Locator) =>
  element.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).color);
const brandColourOf = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).document.documentElement.dataset.brandColour);

/** A free port, so PUBLIC_URL (links in mails, /files/ URLs) is the address the browser really opens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A 240×120 PNG logo: a red field with a white square, made here, not read from a file. */
async function logoPng(): Promise<Buffer> {
  const square = await sharp({
    create: { width: 60, height: 60, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 1 } },
  })
    .png()
    .toBuffer();
  return sharp({
    create: { width: 240, height: 120, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 1 } },
  })
    .composite([{ input: square, left: 90, top: 30 }])
    .png()
    .toBuffer();
}

/**
 * A Root signs up, uploads a logo (checked and previewed in the browser), sets a brand colour (the
 * contrast feedback, then the server's refusal of a pale one) and a welcome message; the login page at
 * `/login?account=<slug>`, in a fresh browser, shows the logo and the message and paints its primary
 * button in that colour (read from a screenshot's pixels); an invitation sent from the UI carries the
 * logo's URL and the colour. axe runs on Organization, Branding, Domains and the branded login page.
 *
 * Depends on the issue-14 API: PATCH /accounts/{id} (profile), PUT/DELETE …/logo, GET/PATCH …/branding,
 * POST …/branding/preview, GET /branding, …/domains (402 on Free), /files/….
 */
describe("organization, branding and the branded login page in a real browser", () => {
  let t: TestApp;
  let mail: Awaited<ReturnType<typeof startRawMailSink>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let slug: string;
  let logoUrl: string;

  beforeAll(async () => {
    mail = await startRawMailSink();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp("sqlite", { SMTP_URL: mail.url, PUBLIC_URL: base, PORT: String(port) });
    await t.app.listen({ port, host: "127.0.0.1" });
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await mail?.close();
  });

  it("signs up, verifies and logs in", async () => {
    await page.goto(`${base}/signup`);
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="name"]', "Rosa Brand");
    await page.fill('input[name="account_name"]', "Brand Co");
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector('[data-testid="signup-done"]');
    const confirm = await mail.next(EMAIL, /Confirm/);
    const link = /https?:\/\/\S+\?token=[\w-]+/.exec(confirm.text)?.[0];
    expect(link).toBeTruthy();
    await page.goto(`${base}/verify-email?token=${tokenOf(link as string)}`);
    await page.waitForSelector('[data-testid="verify-ok"]');

    await page.goto(`${base}/login`);
    // No account named: Gatehouse's own page.
    await page.locator('[data-testid="login-brand"]').waitFor({ state: "detached" });
    await page.fill('input[name="email"]', EMAIL);
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('[data-testid="login-submit"]');
    await page.waitForURL(/\/settings\/(overview|profile)$/);
  });

  it("uploads a logo on Settings → Organization after a preview, refusing a fake image first", async () => {
    await page.click('nav[aria-label="Settings sections"] a:has-text("Organization")');
    await page.waitForURL(/\/settings\/organization$/);
    await page.locator('[data-testid="logo-none"]').waitFor();
    slug = await page.inputValue('input[name="slug"]');
    expect(slug).toMatch(/^[a-z0-9-]+$/);

    // An HTML page named .png never leaves the browser.
    await page.setInputFiles('[data-testid="logo-file"]', {
      name: "logo.png",
      mimeType: "image/png",
      buffer: Buffer.from("<!doctype html><script>alert(1)</script>"),
    });
    expect(await page.textContent('[data-testid="logo-error"]')).toBe(
      "logo.png is not a PNG, JPEG or WebP image.",
    );

    await page.setInputFiles('[data-testid="logo-file"]', {
      name: "brand.png",
      mimeType: "image/png",
      buffer: await logoPng(),
    });
    await page.locator('[data-testid="logo-preview"]').waitFor();
    expect(await page.locator('[data-testid="logo-error"]').count()).toBe(0);
    // The whole logo fits the square by default; cropping is offered.
    expect(await page.isChecked('[data-testid="logo-fit-contain"]')).toBe(true);
    await page.check('[data-testid="logo-fit-cover"]');
    await page.check('[data-testid="logo-fit-contain"]');
    await page.click('[data-testid="logo-upload"]');
    const current = page.locator('[data-testid="logo-current"]');
    await current.waitFor();
    logoUrl = (await current.getAttribute("src")) as string;
    expect(logoUrl).toMatch(/\/files\//);
    await expect.poll(() => naturalWidth(current)).toBeGreaterThan(0);
    await page.locator('[data-testid="toast"]', { hasText: "Uploaded the logo." }).waitFor();

    // The profile fields save, and a wrong one comes back on its field.
    await page.fill('input[name="legal_name"]', "Brand Company Ltd");
    await page.selectOption('select[name="industry"]', "software");
    await page.fill('input[name="billing_email"]', "not-an-email");
    await page.click('[data-testid="organization-save"]');
    const billing = page.locator('input[name="billing_email"]');
    await expect.poll(() => billing.getAttribute("aria-invalid")).toBe("true");
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute("name"),
      ),
    ).toBe("billing_email");
    await billing.fill("billing@brand.example");
    await page.check('input[name="certifications"][value="soc2"]');
    await page.click('[data-testid="organization-save"]');
    await page.locator('[data-testid="account-saved"]').waitFor();

    await expectAccessible(page, "Settings → Organization");
  });

  it("sets a colour (contrast shown live, a pale one refused by the server) and a welcome message", async () => {
    await page.click('nav[aria-label="Settings sections"] a:has-text("Branding")');
    await page.waitForURL(/\/settings\/branding$/);
    const colour = page.locator('[data-testid="branding-colour"]');
    await colour.waitFor();

    await colour.fill(PALE);
    const verdict = page.locator('[data-testid="contrast-verdict"]');
    expect(await verdict.getAttribute("data-acceptable")).toBe("false");
    expect(await page.textContent('[data-testid="contrast-report"]')).toContain("against the light theme");
    // The browser warns; the server decides, and its reason lands on the field.
    await page.click('[data-testid="branding-save"]');
    await expect.poll(() => colour.getAttribute("aria-invalid")).toBe("true");
    const errorId = ((await colour.getAttribute("aria-describedby")) ?? "").split(" ")[0];
    expect(await page.textContent(`[id="${errorId}"]`)).toMatch(/\d(\.\d+)?:1/);

    await colour.fill(COLOUR);
    expect(await verdict.getAttribute("data-acceptable")).toBe("true");
    expect(await page.textContent('[data-testid="contrast-text"]')).toContain("White text");
    await page.fill('textarea[name="login_message"]', MESSAGE);
    expect(await page.textContent('[data-testid="login-message-count"]')).toContain(
      `${[...MESSAGE].length} / 280`,
    );
    await page.fill('input[name="support_url"]', "https://help.brand.example/");
    await page.fill('input[name="privacy_url"]', "https://brand.example/privacy");

    // The previews follow the unsaved values.
    expect(await page.textContent('[data-testid="login-preview-message"]')).toBe(MESSAGE);
    await expect
      .poll(() => background(page.locator('[data-testid="login-preview-button"]')))
      .toBe(`rgb(${COLOUR_RGB.join(", ")})`);
    const frame = page.locator('[data-testid="mail-preview-frame"]');
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("");
    await expect
      .poll(async () => ((await frame.getAttribute("srcdoc")) ?? "").toLowerCase())
      .toContain(COLOUR);

    await page.click('[data-testid="branding-save"]');
    await page.locator('[data-testid="branding-saved"]').waitFor();
    expect(await colour.getAttribute("aria-invalid")).toBeNull();
    // The app's own primary buttons take the account's colour (read away from the pointer: hover darkens).
    await page.mouse.move(0, 0);
    await expect.poll(() => brandColourOf(page)).toBe(COLOUR);
    // Polled: buttons ease into a new colour (a background-color transition).
    await expect
      .poll(() => background(page.locator('[data-testid="branding-save"]')))
      .toBe(`rgb(${COLOUR_RGB.join(", ")})`);

    // "Send me a test" mails the caller.
    const before = mail.mails.length;
    await page.click('[data-testid="branding-test-email"]');
    await page.locator('[data-testid="toast"]', { hasText: "Sent a test invitation mail" }).waitFor();
    await expect.poll(() => mail.mails.slice(before).filter((m) => m.to === EMAIL).length).toBe(1);
    expect(mail.mails.at(-1)?.html.toLowerCase()).toContain(COLOUR);

    await expectAccessible(page, "Settings → Branding");
  });

  it("offers custom domains from the Team plan: on Free, adding one shows the upgrade prompt", async () => {
    await page.click('nav[aria-label="Settings sections"] a:has-text("Domains")');
    await page.waitForURL(/\/settings\/domains$/);
    await page.locator('[data-testid="domains-empty"]').waitFor();
    await page.fill('input[name="hostname"]', "https://Login.Brand.example/");
    await page.click('[data-testid="domain-add"]');
    await page.locator('[data-testid="domains-upgrade-prompt"]').waitFor();
    expect(await page.getAttribute('[data-testid="upgrade-link"]', "href")).toBe("/settings/billing");
    await expectAccessible(page, "Settings → Domains");
  });

  it("shows the logo, the message and the colour on /login?account=<slug> in a fresh browser", async () => {
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const login = await visitor.newPage();
    await login.goto(`${base}/login?account=${encodeURIComponent(slug)}`);
    const logo = login.locator('[data-testid="login-logo"]');
    await logo.waitFor();
    await expect.poll(() => naturalWidth(logo)).toBeGreaterThan(0);
    expect(new URL((await logo.getAttribute("src")) as string, base).pathname).toBe(
      new URL(logoUrl, base).pathname,
    );
    expect(await login.textContent('[data-testid="login-account-name"]')).toBe("Brand Co");
    // Plain text, line break kept.
    expect(await login.textContent('[data-testid="login-message"]')).toBe(MESSAGE);
    expect(await login.getAttribute('[data-testid="login-link-support"]', "href")).toBe(
      "https://help.brand.example/",
    );
    expect(await login.getAttribute('[data-testid="login-link-privacy"]', "href")).toBe(
      "https://brand.example/privacy",
    );

    // The pixels of the button, as drawn: its left edge, half-way down (the label is centred).
    const button = login.locator('[data-testid="login-submit"]');
    const shot = await button.screenshot();
    const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => {
      const offset = (y * info.width + x) * info.channels;
      return [data[offset], data[offset + 1], data[offset + 2]] as number[];
    };
    for (const [x, y] of [
      [6, Math.floor(info.height / 2)],
      [info.width - 7, Math.floor(info.height / 2)],
    ] as const) {
      const pixel = at(x, y);
      pixel.forEach((channel, index) => {
        expect(
          Math.abs(channel - (COLOUR_RGB[index] as number)),
          `pixel ${pixel} at ${x},${y}`,
        ).toBeLessThanOrEqual(3);
      });
    }
    expect(await textColour(button)).toBe("rgb(255, 255, 255)");

    await expectAccessible(login, "the branded login page");

    // An unknown slug is the default page, exactly like an account without branding.
    await login.goto(`${base}/login?account=no-such-account-anywhere`);
    await login.waitForSelector('input[name="email"]');
    await login.locator('[data-testid="login-brand"]').waitFor({ state: "detached" });
    expect(await brandColourOf(login)).toBeUndefined();
    await visitor.close();
  });

  it("sends an invitation that carries the logo's URL and the colour", async () => {
    await page.goto(`${base}/settings/members`);
    await page.click('[data-testid="invite-open"]');
    await expectDialogInViewport(page);
    await page.fill('textarea[name="emails"]', INVITEE);
    const roleSelect = page.locator('[role="dialog"] select[name="role_id"]');
    const monitor = await roleSelect.locator("option", { hasText: "Monitor" }).getAttribute("value");
    await roleSelect.selectOption(monitor as string);
    await page.click('[data-testid="invite-submit"]');
    await page.locator('[data-testid="invite-result"][data-ok="true"]').waitFor();
    await page.keyboard.press("Escape");

    const invitation = await mail.next(INVITEE, /invited/i);
    expect(invitation.html).toContain(new URL(logoUrl, base).pathname);
    expect(invitation.html.toLowerCase()).toContain(COLOUR);
    expect(invitation.html).toContain("Brand Co");
    // The member list shows initials for people without a picture.
    const row = page.locator(`[data-testid="member-row"][data-email="${EMAIL}"]`);
    await row.waitFor();
    expect(await row.locator('[data-testid="member-avatar"]').getAttribute("data-avatar")).toBe("initials");
  });

  it("uploads a profile picture that the header shows", async () => {
    await page.goto(`${base}/settings/profile`);
    expect(await page.getAttribute('[data-testid="user-menu-avatar"]', "data-avatar")).toBe("initials");
    await page.setInputFiles('[data-testid="avatar-file"]', {
      name: "me.png",
      mimeType: "image/png",
      buffer: await logoPng(),
    });
    await page.locator('[data-testid="avatar-preview"]').waitFor();
    await page.click('[data-testid="avatar-upload"]');
    await page.locator('[data-testid="avatar-current"]').waitFor();
    await expect
      .poll(() => page.getAttribute('[data-testid="user-menu-avatar"]', "data-avatar"))
      .toBe("image");

    // The avatar menu: Profile, Security, Preferences, Switch account, Log out, by keyboard.
    await page.focus('[data-testid="user-menu"]');
    await page.keyboard.press("ArrowDown");
    const items = await page.getByRole("menuitem").allTextContents();
    expect(items).toEqual(["Profile", "Security", "Preferences", "Switch account…", "Log out"]);
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Enter");
    await page.locator('[data-testid="switch-account-dialog"]').waitFor();
    await expectDialogInViewport(page);
    await page.keyboard.press("Escape");
  });
});
