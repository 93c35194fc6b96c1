import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailQueueRepository } from "../mail/mail-queue.repository.js";
import { createTestApp, type TestApp, testDialects } from "../testing/harness.js";

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const HOSTILE_HTML = `<!doctype html><html><body><p>Hi</p><script>alert("html")</script><a href="https://app.example/verify?token=abc&amp;x=1">Confirm</a></body></html>`;

describe.each(testDialects())("the development outbox page on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    // No SMTP: the development outbox keeps the bodies.
    t = await createTestApp(dialect, { SMTP_URL: "" });
    await createMailQueueRepository(t.services.database.dialect).insert(t.services.db, {
      id: "mail_hostile",
      to: "eve@example.com",
      subject: `Hello <img src=x onerror="alert('subject')">`,
      text: `Open https://app.example/verify?token=abc&x=1 now.\n<script>alert("text")</script>`,
      html: HOSTILE_HTML,
      now: new Date().toISOString(),
    });
  });
  afterAll(() => t?.close());

  it("answers JSON as before to API clients (no Accept, */*, application/json)", async () => {
    for (const accept of [undefined, "*/*", "application/json"]) {
      const response = await t.app.inject({
        url: "/dev/mail?to=eve@example.com",
        headers: accept ? { accept } : {},
      });
      expect(response.headers["content-type"]).toMatch(/^application\/json/);
      expect(response.json().data[0]).toMatchObject({ id: "mail_hostile", html: HOSTILE_HTML });
    }
  });

  it("answers a browser with a page: everything escaped, the HTML body in a sandboxed frame, links clickable", async () => {
    const response = await t.app.inject({
      url: "/dev/mail?to=eve@example.com",
      headers: { accept: BROWSER_ACCEPT },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    const page = response.body;

    // Nothing from a mail is markup on the page itself.
    expect(page).not.toContain("<script");
    expect(page).not.toContain("<img");
    expect(page).toContain("Hello &lt;img src=x onerror=&quot;alert(&#39;subject&#39;)&quot;&gt;");
    expect(page).toContain("&lt;script&gt;alert(&quot;text&quot;)&lt;/script&gt;");

    // The HTML body is shown in a frame that may not run script (no allow-scripts, no same origin).
    const frames = [...page.matchAll(/<iframe\b([^>]*)>/g)].map((match) => match[1] ?? "");
    expect(frames).toHaveLength(1);
    const frame = frames[0] as string;
    const sandbox = /\ssandbox="([^"]*)"/.exec(frame)?.[1];
    expect(sandbox).toBeDefined();
    expect(sandbox).not.toMatch(/allow-scripts|allow-same-origin/);
    const srcdoc = /\ssrcdoc="([^"]*)"/.exec(frame)?.[1] ?? "";
    expect(srcdoc).not.toMatch(/[<>"]/);
    const unescaped = srcdoc
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&");
    // The mail as sent, with links opening outside the frame.
    expect(unescaped).toContain('<base target="_blank">');
    expect(unescaped).toContain(HOSTILE_HTML.replace("<!doctype html><html><body>", ""));

    // The text view links its addresses.
    expect(page).toContain(
      '<a href="https://app.example/verify?token=abc&amp;x=1">https://app.example/verify?token=abc&amp;x=1</a>',
    );

    // The page's own policy: no script at all.
    expect(response.headers["content-security-policy"]).toMatch(/script-src 'self'/);
  });

  it("says so when the outbox is empty for that address, and escapes the filter it echoes", async () => {
    const response = await t.app.inject({
      url: `/dev/mail?to=${encodeURIComponent('"><b>nobody@example.com')}`,
      headers: { accept: BROWSER_ACCEPT },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("No mail");
    expect(response.body).not.toContain("<b>");
    expect(response.body).toContain("&quot;&gt;&lt;b&gt;nobody@example.com");
  });
});
