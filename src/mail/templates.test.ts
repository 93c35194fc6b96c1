import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MAIL_TEMPLATES, preloadMailTemplates } from "./render.js";
import { mails, withSettingsFooter } from "./templates.js";

const DIR = new URL("./templates/", import.meta.url);

describe("mail templates (files)", () => {
  it("has an HTML and a text file for every mail, and compiles them all", () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith(".hbs"));
    const expected = ["layout", ...MAIL_TEMPLATES].flatMap((n) => [`${n}.html.hbs`, `${n}.text.hbs`]);
    expect(files.sort()).toEqual(expected.sort());
    expect(() => preloadMailTemplates()).not.toThrow();
  });

  it("never uses triple braces (unescaped output) in any template", () => {
    for (const file of [
      ...readdirSync(DIR),
      ...readdirSync(new URL("partials/", DIR)).map((f) => `partials/${f}`),
    ]) {
      if (!file.endsWith(".hbs")) continue;
      expect(readFileSync(new URL(file, DIR), "utf8"), file).not.toMatch(/\{\{\{|\{\{&/);
    }
  });

  it("escapes values in HTML and keeps them as written in text; one action link", () => {
    const mail = mails.invitation(
      "x@example.com",
      '<img src=x onerror="alert(1)">',
      "Acme & {{constructor}}",
      "{{#each this}}",
      "http://gatehouse.test/accept-invitation?token=abc",
    );
    expect(mail.subject).toBe("You're invited to join Acme & {{constructor}}");
    expect(mail.html).not.toContain("<img src=x");
    expect(mail.html).toContain("&lt;img src&#x3D;x onerror&#x3D;&quot;alert(1)&quot;&gt;");
    expect(mail.html).toContain("Acme &amp; {{constructor}}");
    expect(mail.html).toContain("{{#each this}} invited you");
    expect(mail.text).toContain('Hello <img src=x onerror="alert(1)">,');
    expect(mail.text.match(/https?:\/\//g)).toHaveLength(1);
    expect(mail.html.match(/<a /g)).toHaveLength(1);
    expect(mail.text.endsWith("— Gatehouse")).toBe(true);
  });

  it("keeps the settings footer working on the rendered layout", () => {
    const mail = withSettingsFooter(mails.securityNotice("x@example.com", "X", "S", "line"), "http://g.test");
    expect(mail.html).toMatch(
      /Your other notification settings: <a href="http:\/\/g\.test\/settings\/notifications">/,
    );
    expect(mail.html.trim().endsWith("</html>")).toBe(true);
    expect(mail.text).toMatch(/settings: http:\/\/g\.test\/settings\/notifications$/);
  });
});
