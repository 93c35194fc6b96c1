import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp } from "../mfa/totp.js";
import {
  addMember,
  type Client,
  createApiKey,
  createClient,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { TEST_EMAIL_LIMIT } from "./branding.service.js";

type Owner = { client: Client; accountId: string; userId: string };

const CUSTOM_HOST = "login.brand.example";
const CUSTOM_BASE = "https://login.brand.example";

// A stored logo as the uploads set it (content-addressed key; the URL follows PUBLIC_URL).
const LOGO_KEY = `${"ab".repeat(20)}.png`;
describe.each(testDialects())("account branding on %s", (dialect) => {
  let t: TestApp;
  let root: Owner;
  let monitor: Owner;
  let other: Owner;
  let base: string;
  let slug: string;
  let serial = 0;
  // The custom-domains capability's hooks, as the integrator wires them (here: one fixed domain).
  let customDomainAccount: string | undefined;

  const mailsTo = (to: string, subject?: RegExp) =>
    t.mails.filter((m) => m.to === to && (!subject || subject.test(m.subject)));
  const lastMail = (to: string, subject?: RegExp) => mailsTo(to, subject).at(-1);
  const patch = (body: unknown, client = root.client) => client.patch(`${base}/branding`, body);
  const publicBranding = (query: string, host?: string) =>
    t.app.inject({
      url: `/api/v1/branding${query}`,
      remoteAddress: `198.51.100.${(serial++ % 200) + 1}`,
      ...(host ? { headers: { host } } : {}),
    });
  const reset = () =>
    patch({
      primary_color: null,
      login_message: null,
      support_url: null,
      support_email: null,
      privacy_url: null,
      terms_url: null,
      email_templates: { invitation: null, welcome: null },
    });

  beforeAll(async () => {
    t = await createTestApp(
      dialect,
      {},
      {
        branding: {
          accountForHost: async (host) => (host === CUSTOM_HOST ? customDomainAccount : undefined),
          passkeysOnHost: (host) => host !== CUSTOM_HOST,
          linkBaseFor: async (_db, accountId) =>
            accountId === customDomainAccount ? CUSTOM_BASE : undefined,
        },
      },
    );
    root = await signUpAndLogin(t, {
      email: "brand-root@example.com",
      name: "Rita Root",
      account: "Brand Co",
    });
    base = `/api/v1/accounts/${root.accountId}`;
    monitor = {
      ...(await addMember(t, root, { email: "brand-monitor@example.com", roleKey: "monitor" })),
      accountId: root.accountId,
    };
    // Room for the members the tests invite.
    await onPaidPlan(t, root.accountId, { plan: "team" });
    other = await signUpAndLogin(t, { email: "brand-other@example.com", account: "Other Co" });
    slug = (await root.client.get(base)).body.slug as string;
    expect(slug).toBeTruthy();
  });
  afterAll(() => t?.close());
  afterEach(async () => {
    t.services.clock.reset();
    customDomainAccount = undefined;
  });

  it("starts with every field at its default, readable by every member and by a key with account:read", async () => {
    const got = await monitor.client.get(`${base}/branding`);
    expect(got.statusCode, got.payload).toBe(200);
    expect(got.body).toEqual({
      primary_color: null,
      primary_text_color: null,
      logo_url: null,
      login_message: null,
      support_url: null,
      support_email: null,
      privacy_url: null,
      terms_url: null,
      email_templates: {
        invitation: { subject: null, intro: null },
        welcome: { subject: null, intro: null },
      },
    });
    const key = await createApiKey(root, ["account:read"]);
    const byKey = await createKeyClient(t.app, key.secret).get(`${base}/branding`);
    expect(byKey.statusCode, byKey.payload).toBe(200);
    expect(byKey.body.primary_color).toBeNull();
    // Reading is not changing: the key cannot PATCH.
    expect((await createKeyClient(t.app, key.secret).patch(`${base}/branding`, {})).statusCode).toBe(403);
  });

  it("refuses changes without account:update (403) and other accounts' branding (404)", async () => {
    const refused = await patch({ login_message: "Hi" }, monitor.client);
    expect(refused.statusCode).toBe(403);
    expect(refused.body.code).toBe("forbidden");
    expect(
      (await monitor.client.post(`${base}/branding/preview`, { template: "invitation" })).statusCode,
    ).toBe(403);
    expect(
      (await monitor.client.post(`${base}/branding/test-email`, { template: "invitation" })).statusCode,
    ).toBe(403);
    for (const response of [
      await other.client.get(`${base}/branding`),
      await patch({ login_message: "Hi" }, other.client),
      await other.client.post(`${base}/branding/preview`, { template: "welcome" }),
      await root.client.get(`/api/v1/accounts/${other.accountId}/branding`),
    ]) {
      expect(response.statusCode, response.payload).toBe(404);
      expect(response.body.code).toBe("not_found");
    }
  });

  it("saves a colour (normalised) with its computed text colour, records it, and resets to defaults with null", async () => {
    const saved = await patch({ primary_color: "#2563EB", support_url: "https://help.brand.example/start" });
    expect(saved.statusCode, saved.payload).toBe(200);
    expect(saved.body).toMatchObject({
      primary_color: "#2563eb",
      primary_text_color: "#ffffff",
      support_url: "https://help.brand.example/start",
    });
    // Three digits are accepted and written out; a light colour gets black text.
    expect((await patch({ primary_color: "#C50" })).body).toMatchObject({
      primary_color: "#cc5500",
      primary_text_color: "#000000",
    });
    expect((await patch({ primary_color: "#0d9488" })).body.primary_text_color).toBe("#000000");
    expect((await root.client.get(`${base}/branding`)).body.primary_color).toBe("#0d9488");

    const audit = await root.client.get(`${base}/audit-events?action=branding.updated`);
    expect(audit.body.data.length).toBeGreaterThanOrEqual(3);
    const events = (await t.services.events.listRecent(root.accountId, 100)).filter(
      (e) => e.type === "branding.updated",
    );
    expect(events[0]?.data).toMatchObject({ primary_color: "#0d9488", changed: ["primary_color"] });

    const cleared = await reset();
    expect(cleared.statusCode, cleared.payload).toBe(200);
    expect(cleared.body.primary_color).toBeNull();
    expect(cleared.body.primary_text_color).toBeNull();
    expect(cleared.body.support_url).toBeNull();
  });

  it("refuses a colour under 3:1 against either theme, naming both ratios", async () => {
    // The light theme's own accent: fine on light, too dark on the dark theme.
    const dark = await patch({ primary_color: "#3350d0" });
    expect(dark.statusCode).toBe(400);
    expect(dark.body.code).toBe("validation_failed");
    expect(dark.body.detail).toContain("6.07:1");
    expect(dark.body.detail).toContain("2.90:1");
    expect(dark.body.errors).toEqual([
      expect.objectContaining({ path: "primary_color", code: "insufficient_contrast" }),
    ]);
    const pale = await patch({ primary_color: "#fff0f0" });
    expect(pale.statusCode).toBe(400);
    expect(pale.body.detail).toMatch(/\d+\.\d\d:1 against the light theme.*\d+\.\d\d:1 against the dark/);
    for (const bad of ["red", "#12345", "#1234567", "rgb(0,0,0)", "#2563eb; background:url(x)", ""]) {
      const response = await patch({ primary_color: bad });
      expect(response.statusCode, bad).toBe(400);
    }
    expect((await root.client.get(`${base}/branding`)).body.primary_color).toBeNull();
  });

  it("takes only http(s) links and a real address; names every problem at once", async () => {
    const refused = await patch({
      support_url: "javascript:alert(1)",
      privacy_url: "data:text/html,<script>alert(1)</script>",
      terms_url: "https://user:secret@terms.example",
      support_email: "not-an-address",
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "privacy_url",
      "support_email",
      "support_url",
      "terms_url",
    ]);
    for (const bad of [
      "ftp://files.example",
      "//evil.example",
      "vbscript:x",
      "https://",
      "JaVaScRiPt:alert(1)",
    ]) {
      expect((await patch({ support_url: bad })).statusCode, bad).toBe(400);
    }
    const fine = await patch({
      support_url: "HTTPS://Help.Example/a b",
      privacy_url: "http://privacy.example",
      support_email: "help@brand.example",
    });
    expect(fine.statusCode, fine.payload).toBe(200);
    expect(fine.body.support_url).toBe("https://help.example/a%20b");
    expect(fine.body.privacy_url).toBe("http://privacy.example/");
    await reset();
  });

  it("keeps the log-in message plain text: counted in characters, no control characters, markup kept as text", async () => {
    const emoji = "🔐".repeat(280);
    const ok = await patch({ login_message: emoji });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(ok.body.login_message).toBe(emoji);
    const long = await patch({ login_message: `${emoji}x` });
    expect(long.statusCode).toBe(400);
    expect(long.body.errors[0]).toMatchObject({ path: "login_message", code: "too_long" });
    for (const bad of ["bell\u0007", "tab\there", "rtl \u202eevil", "c1 \u0085"]) {
      expect((await patch({ login_message: bad })).statusCode, JSON.stringify(bad)).toBe(400);
    }
    const markup = '<script>alert("x")</script> & {{#each}}';
    const kept = await patch({ login_message: `  Line one\r\n${markup}  ` });
    expect(kept.statusCode, kept.payload).toBe(200);
    expect(kept.body.login_message).toBe(`Line one\n${markup}`);
    // Wrong types and unknown fields are refused by the schema.
    for (const body of [
      { login_message: 42 },
      { primary_color: ["#2563eb"] },
      { email_templates: { invitation: "Subject" } },
      { email_templates: { invitation: { subject: "x", body: "y" } } },
      { logo_url: "https://tracker.example/pixel.png" },
      { primary_text_color: "#000000" },
      { login_message: "x".repeat(3000) },
    ]) {
      const response = await patch(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.body.code).toBe("validation_failed");
    }
    await reset();
  });

  it("refuses mail text with anything but the whitelisted variables, naming them", async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ invitation: { subject: "Hi {{constructor}}" } }, ["{{constructor}}"]],
      [{ invitation: { intro: "{{#each members}}x{{/each}}" } }, ["{{#each members}}", "{{/each}}"]],
      [{ welcome: { intro: "{{{account_name}}}" } }, ["{{{account_name"]],
      [{ welcome: { subject: "{{> partial}} {{account_name" } }, ["{{> partial}}", "{{account_name"]],
      [{ invitation: { subject: "{{lookup . 'constructor'}}" } }, ["{{lookup . 'constructor'}}"]],
      [{ invitation: { intro: "{{__proto__}} {{ password }}" } }, ["{{__proto__}}", "{{ password }}"]],
    ];
    for (const [templates, named] of cases) {
      const response = await patch({ email_templates: templates });
      expect(response.statusCode, JSON.stringify(templates)).toBe(400);
      expect(response.body.errors[0].code).toBe("unknown_variable");
      for (const name of named) expect(response.body.detail, name).toContain(name);
    }
    const newline = await patch({ email_templates: { invitation: { subject: "Two\nlines" } } });
    expect(newline.statusCode).toBe(400);
    expect(newline.body.errors[0].path).toBe("email_templates.invitation.subject");
    expect((await patch({ email_templates: { invitation: { subject: "é".repeat(151) } } })).statusCode).toBe(
      400,
    );
    expect((await patch({ email_templates: { welcome: { intro: "x".repeat(2001) } } })).statusCode).toBe(400);
    const ok = await patch({
      email_templates: {
        invitation: { subject: "é".repeat(150) },
        welcome: {
          intro:
            "{{ account_name }} says hi to {{recipient_name}} ({{recipient_email}}, {{role_name}}, from {{inviter_name}})",
        },
      },
    });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(ok.body.email_templates.invitation).toEqual({ subject: "é".repeat(150), intro: null });
    await reset();
  });

  it("answers an unknown slug exactly like an account without branding, and shows a branded one", async () => {
    const unknown = await publicBranding("?account=no-such-account-anywhere");
    const unbranded = await publicBranding(`?account=${slug}`);
    const none = await publicBranding("");
    expect(unknown.statusCode).toBe(200);
    expect(unbranded.payload).toBe(unknown.payload);
    expect(none.payload).toBe(unknown.payload);
    expect(unbranded.headers["content-type"]).toBe(unknown.headers["content-type"]);
    expect(JSON.parse(unknown.payload)).toEqual({
      branded: false,
      account_name: null,
      logo_url: null,
      primary_color: null,
      primary_text_color: null,
      login_message: null,
      support_url: null,
      support_email: null,
      privacy_url: null,
      terms_url: null,
      passkeys: true,
    });
    // Mail wording alone changes nothing on the log-in page.
    await patch({ email_templates: { invitation: { subject: "Join us" } } });
    expect((await publicBranding(`?account=${slug}`)).payload).toBe(unknown.payload);

    // A change shows at once (the cached answer is dropped), markup stays text in JSON.
    await patch({
      primary_color: "#2563eb",
      login_message: "<b>Welcome</b> to Brand Co",
      terms_url: "https://t.example",
    });
    const branded = JSON.parse((await publicBranding(`?account=${slug}`)).payload);
    expect(branded).toEqual({
      branded: true,
      account_name: "Brand Co",
      logo_url: null,
      primary_color: "#2563eb",
      primary_text_color: "#ffffff",
      login_message: "<b>Welcome</b> to Brand Co",
      support_url: null,
      support_email: null,
      privacy_url: null,
      terms_url: "https://t.example/",
      passkeys: true,
    });
    await reset();
    expect((await publicBranding(`?account=${slug}`)).payload).toBe(unknown.payload);
    // Bad input is refused, not looked up.
    expect((await publicBranding(`?account=${"x".repeat(300)}`)).statusCode).toBe(400);
    expect((await publicBranding("?account=a%00b")).statusCode).toBe(400);
  });

  it("lets a verified custom domain's Host decide, and says whether passkeys are offered there", async () => {
    await patch({ login_message: "On our own domain" });
    customDomainAccount = root.accountId;
    const onDomain = JSON.parse((await publicBranding("?account=no-such-account", CUSTOM_HOST)).payload);
    expect(onDomain).toMatchObject({ branded: true, login_message: "On our own domain", passkeys: false });
    const elsewhere = JSON.parse(
      (await publicBranding("?account=no-such-account", "gatehouse.test")).payload,
    );
    expect(elsewhere).toMatchObject({ branded: false, passkeys: true });
    await reset();
  });

  it("brands the invitation mail: logo, colour, overrides (substituted, escaped), support links, link from the link base", async () => {
    await t.services.db
      .updateTable("accounts")
      .set({ logo_key: LOGO_KEY })
      .where("id", "=", root.accountId)
      .execute();
    const saved = await patch({
      primary_color: "#0d9488",
      support_url: "https://help.brand.example",
      support_email: "it@brand.example",
      email_templates: {
        invitation: {
          subject: "{{inviter_name}} wants you in {{account_name}}",
          intro:
            "Hi {{recipient_name}}! <script>alert(1)</script>\n{{ inviter_name }} made you {{role_name}} at {{account_name}}.",
        },
      },
    });
    expect(saved.statusCode, saved.payload).toBe(200);
    expect(saved.body.logo_url).toBe(`http://gatehouse.test/files/${LOGO_KEY}`);
    // A name is user-controlled too: it goes in as text.
    await root.client.patch("/api/v1/me", { first_name: "Rita <img src=x onerror=alert(1)>" });
    try {
      await inviteAndWelcome();
    } finally {
      await root.client.patch("/api/v1/me", { first_name: "Rita" });
    }
  });

  async function inviteAndWelcome() {
    const invite = await root.client.post(`${base}/invitations`, {
      emails: ["invitee@example.com"],
      first_name: "Ivy",
    });
    expect(invite.statusCode, invite.payload).toBe(201);
    const mail = lastMail("invitee@example.com");
    expect(mail?.subject).toBe("Rita <img src=x onerror=alert(1)> Root wants you in Brand Co");
    expect(mail?.text).toContain("Hi Ivy! <script>alert(1)</script>");
    expect(mail?.text).toContain("made you Monitor at Brand Co.");
    expect(mail?.text.match(/\?token=/g)).toHaveLength(1);
    expect(mail?.text).toMatch(
      /^Accept invitation: http:\/\/gatehouse\.test\/accept-invitation\?token=[\w-]+$/m,
    );
    expect(mail?.text).toContain("Help: https://help.brand.example/");
    const html = mail?.html ?? "";
    expect(html).toContain(`<img src="http://gatehouse.test/files/${LOGO_KEY}" alt="Brand Co"`);
    expect(html).toContain("background:#0d9488;color:#000000");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain('href="mailto:it@brand.example"');
    expect(html.match(/accept-invitation\?token/g)).toHaveLength(1);

    // With a verified custom domain, the action link starts there.
    customDomainAccount = root.accountId;
    const second = await root.client.post(`${base}/invitations`, { emails: ["invitee2@example.com"] });
    expect(second.statusCode).toBe(201);
    const link = await t.linkFor("invitee2@example.com");
    expect(link.startsWith(`${CUSTOM_BASE}/accept-invitation?token=`)).toBe(true);
    customDomainAccount = undefined;

    // Accepting it (on any host) sends the welcome mail, in the defaults when not overridden.
    const accept = await createClient(t.app).post("/api/v1/invitations/accept", {
      token: tokenOf(link),
      password: STRONG_PASSWORD,
      first_name: "Wes",
    });
    expect(accept.statusCode, accept.payload).toBe(200);
    const welcome = lastMail("invitee2@example.com", /Welcome/);
    expect(welcome?.subject).toBe("Welcome to Brand Co");
    expect(welcome?.text).toContain(`http://gatehouse.test/login?account=${slug}`);
    expect(welcome?.html).toContain("background:#0d9488");
    await reset();
  }

  it("uses the welcome override, and leaves a plain account's invitation as it always was", async () => {
    await patch({
      email_templates: {
        welcome: { subject: "You're in, {{recipient_name}}", intro: "{{account_name}} welcomes you." },
      },
    });
    const member = await addMember(t, root, { email: "welcomed@example.com", firstName: "Wanda" });
    expect(member.userId).toBeTruthy();
    const welcome = lastMail("welcomed@example.com", /You're in/);
    expect(welcome?.subject).toBe("You're in, Wanda");
    expect(welcome?.text).toContain("Brand Co welcomes you.");
    await reset();

    const otherInvite = await other.client.post(`/api/v1/accounts/${other.accountId}/invitations`, {
      emails: ["plain@example.com"],
    });
    expect(otherInvite.statusCode).toBe(201);
    const plain = lastMail("plain@example.com");
    expect(plain?.subject).toBe("You're invited to join Other Co");
    expect(plain?.text).toContain("invited you to join Other Co on Gatehouse.");
    expect(plain?.html).toContain("background:#2f5bea;color:#ffffff");
    expect(plain?.html).not.toContain("<img");
  });

  it("brands a security notice about the account (an administrator reset a member's MFA)", async () => {
    await patch({ primary_color: "#2563eb", support_email: "sec@brand.example" });
    const n = ++serial;
    const member = await addMember(t, root, { email: `mfa-${n}@example.com`, roleKey: "developer" });
    const start = await member.client.post("/api/v1/me/mfa/totp", {});
    const verify = await member.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: newTotp(start.body.secret).generate({ timestamp: t.services.clock.now().getTime() }),
    });
    expect(verify.statusCode, verify.payload).toBe(200);
    const reset_ = await root.client.post(`${base}/members/${member.userId}/mfa/reset`);
    expect(reset_.statusCode, reset_.payload).toBe(204);
    const notice = lastMail(`mfa-${n}@example.com`, /two-factor authentication was reset/);
    // The logo set by an earlier test (the account's logo_url) heads it.
    expect(notice?.html).toContain('alt="Brand Co"');
    expect(notice?.text).toContain("Sent for Brand Co. Contact: sec@brand.example");
    // The member's own enrollment notice is about their login, not the account: unbranded. (The
    // account's notification of the same event, which the fan-out may deliver before or after it, is
    // about the account and branded: it is not the one meant here.)
    const own = mailsTo(`mfa-${n}@example.com`, /Two-factor authentication is on/).find(
      (m) => !m.text.includes("signing in now asks for it"),
    );
    expect(own?.text).toBeDefined();
    expect(own?.text).not.toContain("Sent for Brand Co");
    await reset();
  });

  it("writes dates in the recipient's time zone and language", async () => {
    const at = new Date("2026-11-23T08:30:00.000Z");
    t.services.clock.freeze(at);
    const user = await signUpAndLogin(t, { email: "berlin@example.com", account: "Zeit Co" });
    const profile = await user.client.patch("/api/v1/me", { timezone: "Europe/Berlin", locale: "de" });
    expect(profile.statusCode, profile.payload).toBe(200);
    const changed = await user.client.post("/api/v1/me/password", {
      current_password: STRONG_PASSWORD,
      new_password: "another-Harbor-sunset-77",
    });
    expect(changed.statusCode, changed.payload).toBe(200);
    const mail = lastMail("berlin@example.com", /password was changed/);
    // 08:30 UTC is 09:30 in Berlin in November, written the German way.
    expect(mail?.text.replace(/\s/g, " ")).toContain("changed at 23.11.2026, 09:30:00 MEZ");
    expect(mail?.text).not.toContain("UTC");
  });

  it("previews the invitation and welcome mails with unsaved fields, validated like PATCH", async () => {
    await patch({ primary_color: "#2563eb" });
    const preview = await root.client.post(`${base}/branding/preview`, {
      template: "invitation",
      branding: {
        primary_color: "#0d9488",
        email_templates: {
          invitation: {
            subject: "Join {{account_name}}, {{recipient_name}}",
            intro: "{{inviter_name}} <b>asks</b>",
          },
        },
      },
    });
    expect(preview.statusCode, preview.payload).toBe(200);
    expect(preview.body.subject).toBe("Join Brand Co, Alex");
    expect(preview.body.html).toContain("background:#0d9488;color:#000000");
    expect(preview.body.html).toContain("Rita Root &lt;b&gt;asks&lt;/b&gt;");
    expect(preview.body.text).toContain("Rita Root <b>asks</b>");
    expect(preview.body.text).toMatch(
      /Accept invitation: http:\/\/gatehouse\.test\/accept-invitation\?token=/,
    );
    // Nothing was saved.
    expect((await root.client.get(`${base}/branding`)).body).toMatchObject({
      primary_color: "#2563eb",
      email_templates: { invitation: { subject: null } },
    });
    const welcome = await root.client.post(`${base}/branding/preview`, { template: "welcome" });
    expect(welcome.statusCode).toBe(200);
    expect(welcome.body.subject).toBe("Welcome to Brand Co");
    expect(welcome.body.html).toContain("background:#2563eb;color:#ffffff");

    const invalid = await root.client.post(`${base}/branding/preview`, {
      template: "invitation",
      branding: { primary_color: "#ffffff", email_templates: { invitation: { subject: "{{#if x}}" } } },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body.errors.map((e: { path: string }) => e.path)).toEqual([
      "primary_color",
      "email_templates.invitation.subject",
    ]);
    expect(
      (await root.client.post(`${base}/branding/preview`, { template: "password-reset" })).statusCode,
    ).toBe(400);
    await reset();
  });

  it("sends a test mail to the caller's own address, at most 5 an hour, never by API key", async () => {
    await patch({ email_templates: { invitation: { subject: "Test of {{account_name}}" } } });
    const before = mailsTo("brand-root@example.com").length;
    for (let i = 0; i < TEST_EMAIL_LIMIT.limit; i++) {
      const sent = await root.client.post(`${base}/branding/test-email`, {
        template: i % 2 ? "welcome" : "invitation",
      });
      expect(sent.statusCode, sent.payload).toBe(202);
    }
    const sent = mailsTo("brand-root@example.com").slice(before);
    expect(sent).toHaveLength(TEST_EMAIL_LIMIT.limit);
    expect(sent[0]?.subject).toBe("[Test] Test of Brand Co");
    expect(sent[1]?.subject).toBe("[Test] Welcome to Brand Co");
    const refused = await root.client.post(`${base}/branding/test-email`, { template: "invitation" });
    expect(refused.statusCode).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(refused.headers["retry-after"]).toBeDefined();
    expect(mailsTo("brand-root@example.com").slice(before)).toHaveLength(TEST_EMAIL_LIMIT.limit);
    const key = await createApiKey(root, ["account:read", "account:update"]);
    const byKey = await createKeyClient(t.app, key.secret).post(`${base}/branding/test-email`, {
      template: "invitation",
    });
    expect(byKey.statusCode).toBe(403);
    expect(byKey.body.code).toBe("session_required");
    await reset();
  });

  it("keeps the last write of concurrent changes whole (one transaction each)", async () => {
    const results = await Promise.all(
      ["#2563eb", "#0d9488", "#dc2626", "#7c3aed"].map((color) =>
        patch({ primary_color: color, login_message: `colour ${color}` }),
      ),
    );
    for (const r of results) expect(r.statusCode, r.payload).toBe(200);
    const now = (await root.client.get(`${base}/branding`)).body;
    expect(now.login_message).toBe(`colour ${now.primary_color}`);
    await reset();
  });
});
