import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadPlans } from "../billing/plans.js";
import { ConfigError, loadConfig } from "../config.js";
import { MAIL_JOB } from "../mail/mail-queue.js";
import { type DnsRecordsServer, startDnsRecordsServer } from "../testing/dns-records-server.js";
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
} from "../testing/harness.js";

type Owner = { client: Client; accountId: string; userId: string };

const TARGET = "edge.gatehouse.test";

describe("custom domain configuration", () => {
  it("parses DNS_SERVERS as IP addresses with optional ports, and refuses anything else", () => {
    const base = { PUBLIC_URL: "https://id.example.com:8443", SECRET_KEY: "x".repeat(32) };
    const config = loadConfig({ ...base, DNS_SERVERS: " 1.1.1.1, 127.0.0.1:5353 ,2606:4700::1111,[::1]:53" });
    expect(config.dnsServers).toEqual(["1.1.1.1", "127.0.0.1:5353", "2606:4700::1111", "[::1]:53"]);
    expect(loadConfig(base).dnsServers).toEqual([]);
    for (const bad of ["dns.google", "1.1.1.1:0", "1.1.1.1:70000", "[1.1.1.1]:53", "999.1.1.1", "::1:53:x"])
      expect(() => loadConfig({ ...base, DNS_SERVERS: bad }), bad).toThrow(ConfigError);
  });

  it("defaults PUBLIC_HOSTNAME to PUBLIC_URL's host name and refuses one that is not a host name", () => {
    const base = { PUBLIC_URL: "https://ID.example.com:8443", SECRET_KEY: "x".repeat(32) };
    expect(loadConfig(base).publicHostname).toBe("id.example.com");
    expect(loadConfig({ ...base, PUBLIC_HOSTNAME: "Edge.Example.NET." }).publicHostname).toBe(
      "edge.example.net",
    );
    for (const bad of ["https://edge.example.net", "edge example", `${"a".repeat(64)}.example`])
      expect(() => loadConfig({ ...base, PUBLIC_HOSTNAME: bad }), bad).toThrow(ConfigError);
  });

  it("gives custom domains to Team and Enterprise, and lets BILLING_PLANS change that", () => {
    expect(loadPlans(undefined).map((p) => [p.id, p.custom_domains])).toEqual([
      ["free", false],
      ["pro", false],
      ["team", true],
      ["enterprise", true],
    ]);
    const changed = loadPlans(
      JSON.stringify({ pro: { custom_domains: true }, team: { custom_domains: false } }),
    );
    expect(changed.find((p) => p.id === "pro")?.custom_domains).toBe(true);
    expect(changed.find((p) => p.id === "team")?.custom_domains).toBe(false);
    expect(() => loadPlans(JSON.stringify({ pro: { custom_domains: "yes" } }))).toThrow(ConfigError);
  });
});

describe.each(testDialects())("custom domains on %s", (dialect) => {
  let t: TestApp;
  let dns: DnsRecordsServer;
  let acme: Owner;
  let other: Owner;
  let serial = 0;
  const api = (owner: Owner, rest = "") => `/api/v1/accounts/${owner.accountId}/domains${rest}`;
  const unique = (label: string) => `${label}${++serial}.acme.example`;

  async function addDomain(owner: Owner, hostname: string) {
    const created = await owner.client.post(api(owner), { hostname });
    expect(created.statusCode, created.payload).toBe(201);
    return created.body as { id: string; hostname: string; txt_record: { name: string; value: string } };
  }
  /** Publishes both records right, the way the domain's answer says. */
  function publish(domain: { hostname: string; txt_record: { name: string; value: string } }) {
    dns.txt(domain.txt_record.name, [domain.txt_record.value]);
    dns.cname(domain.hostname, TARGET);
  }
  async function verified(owner: Owner, hostname: string) {
    const domain = await addDomain(owner, hostname);
    publish(domain);
    const verify = await owner.client.post(api(owner, `/${domain.id}/verify`));
    expect(verify.statusCode, verify.payload).toBe(200);
    expect(verify.body.status).toBe("verified");
    return domain;
  }
  const tlsAllowed = (query: string) => t.app.inject({ url: `/internal/tls-allowed${query}` });

  beforeAll(async () => {
    dns = await startDnsRecordsServer();
    t = await createTestApp(dialect, { DNS_SERVERS: dns.address, PUBLIC_HOSTNAME: TARGET });
    acme = await signUpAndLogin(t, { email: "root@acme.example", account: "Acme" });
    await onPaidPlan(t, acme.accountId, { plan: "team" });
    other = await signUpAndLogin(t, { email: "root@other.example", account: "Other" });
    await onPaidPlan(t, other.accountId, { plan: "team" });
  });
  afterAll(async () => {
    await t?.close();
    await dns?.close();
  });
  // Each test starts with a fresh verification allowance (the throttle has its own test).
  beforeEach(async () => {
    await t.services.db.deleteFrom("throttles").where("key", "like", "rate:domain-verify:%").execute();
  });

  it("adds a domain: normalized host name, the TXT record to publish and the CNAME target", async () => {
    const created = await acme.client.post(api(acme), { hostname: "  Login.ACME.example. " });
    expect(created.statusCode, created.payload).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^dom_[\w-]{22}$/),
      hostname: "login.acme.example",
      status: "pending",
      txt_record: {
        name: "_gatehouse.login.acme.example",
        value: expect.stringMatching(/^gatehouse-verification=[\w-]{24}$/),
      },
      cname_target: TARGET,
      verified_at: null,
      last_checked_at: null,
      failure_reason: null,
      created_at: expect.any(String),
    });
    const idn = await acme.client.post(api(acme), { hostname: "Bücher.Acme.example" });
    expect(idn.statusCode, idn.payload).toBe(201);
    expect(idn.body.hostname).toBe("xn--bcher-kva.acme.example");
    expect(idn.body.txt_record.name).toBe("_gatehouse.xn--bcher-kva.acme.example");

    const list = await acme.client.get(api(acme));
    expect(list.body.data.map((d: { hostname: string }) => d.hostname)).toEqual([
      "login.acme.example",
      "xn--bcher-kva.acme.example",
    ]);
    const one = await acme.client.get(api(acme, `/${created.body.id}`));
    expect(one.body).toEqual(created.body);
    // The same name twice in one account (also spelled differently).
    const again = await acme.client.post(api(acme), { hostname: "LOGIN.acme.example" });
    expect(again.statusCode).toBe(409);
    expect(again.body.code).toBe("conflict");
    const audit = await acme.client.get(`/api/v1/accounts/${acme.accountId}/audit-events?limit=200`);
    expect(audit.body.data.map((e: { action: string }) => e.action)).toContain("domain.added");
  });

  it("refuses host names that cannot be custom domains, each with a reason", async () => {
    const refused: Array<[unknown, string]> = [
      ["1.2.3.4", "ip_address"],
      ["1.2.3.04", "ip_address"],
      ["[::1]", "ip_address"],
      ["::1", "ip_address"],
      ["2001:db8::1", "ip_address"],
      ["localhost", "reserved"],
      ["app.localhost", "reserved"],
      ["intranet", "single_label"],
      ["gatehouse.test", "reserved"],
      ["acme.gatehouse.test", "reserved"],
      [TARGET, "reserved"],
      [`${"a".repeat(64)}.example`, "invalid_label"],
      [`${"abcdefghi.".repeat(26)}example`, "too_long"],
      ["https://login.acme.example/path", "invalid"],
      ["login.acme.example:8443", "invalid"],
      ["*.acme.example", "invalid"],
      ["-bad.acme.example", "invalid_label"],
      ["bad-.acme.example", "invalid_label"],
      ["a..example", "invalid_label"],
      ["under_score.example", "invalid_label"],
      ["ex ample.com", "invalid"],
      ["x.example'; drop table account_domains;--", "invalid"],
      ["   ", "required"],
    ];
    for (const [hostname, code] of refused) {
      const response = await acme.client.post(api(acme), { hostname });
      expect(response.statusCode, `${hostname}: ${response.payload}`).toBe(400);
      expect(response.body.code).toBe("validation_failed");
      expect(response.body.errors, String(hostname)).toEqual([
        {
          path: "hostname",
          code: expect.stringMatching(new RegExp(`^${code}$`)),
          message: expect.any(String),
        },
      ]);
    }
    for (const body of [
      { hostname: 42 },
      { hostname: null },
      {},
      { hostname: "a.example", extra: 1 },
      "[]",
    ]) {
      const response = await acme.client.post(api(acme), body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.headers["content-type"]).toContain("application/problem+json");
    }
    const huge = await acme.client.post(api(acme), { hostname: `${"a".repeat(100_000)}.example` });
    expect(huge.statusCode).toBe(400);
    // Nothing of that was stored.
    const list = await acme.client.get(api(acme));
    expect(list.body.data.every((d: { hostname: string }) => /^[a-z0-9.-]+$/.test(d.hostname))).toBe(true);
  });

  it("needs the Team plan or above: 402 plan_limit_reached on Free and Pro", async () => {
    const free = await signUpAndLogin(t, { email: "root@free.example", account: "Free" });
    const response = await free.client.post(api(free), { hostname: "login.free.example" });
    expect(response.statusCode).toBe(402);
    expect(response.body.code).toBe("plan_limit_reached");
    await onPaidPlan(t, free.accountId, { plan: "pro" });
    expect((await free.client.post(api(free), { hostname: "login.free.example" })).statusCode).toBe(402);
    await onPaidPlan(t, free.accountId, { plan: "enterprise" });
    expect((await free.client.post(api(free), { hostname: "login.free.example" })).statusCode).toBe(201);
  });

  it("needs account:update to change and account:read to see; other accounts' domains are 404", async () => {
    const domain = await addDomain(acme, unique("authz"));
    const monitor = await addMember(t, acme, { email: "monitor@acme.example", roleKey: "monitor" });
    expect((await monitor.client.get(api(acme))).statusCode).toBe(200);
    expect((await monitor.client.get(api(acme, `/${domain.id}`))).statusCode).toBe(200);
    for (const response of [
      await monitor.client.post(api(acme), { hostname: unique("monitor") }),
      await monitor.client.post(api(acme, `/${domain.id}/verify`)),
      await monitor.client.delete(api(acme, `/${domain.id}`)),
    ]) {
      expect(response.statusCode, response.payload).toBe(403);
      expect(response.body.code).toBe("forbidden");
    }
    // Another account's member: the account does not exist for them.
    expect((await other.client.get(api(acme))).statusCode).toBe(404);
    expect((await other.client.get(api(acme, `/${domain.id}`))).statusCode).toBe(404);
    expect((await other.client.delete(api(acme, `/${domain.id}`))).statusCode).toBe(404);
    // Acme's domain through Other's own account path: not there either.
    expect((await other.client.get(api(other, `/${domain.id}`))).statusCode).toBe(404);
    expect((await other.client.post(api(other, `/${domain.id}/verify`))).statusCode).toBe(404);
    expect((await other.client.delete(api(other, `/${domain.id}`))).statusCode).toBe(404);
    expect((await acme.client.get(api(acme, `/${domain.id}`))).statusCode).toBe(200);
    // API keys: account:read sees, account:update changes.
    const reader = createKeyClient(t.app, (await createApiKey(acme, ["account:read"])).secret);
    expect((await reader.get(api(acme))).statusCode).toBe(200);
    expect((await reader.post(api(acme), { hostname: unique("key") })).statusCode).toBe(403);
    const writer = createKeyClient(t.app, (await createApiKey(acme, ["account:update"])).secret);
    expect((await writer.post(api(acme), { hostname: unique("key") })).statusCode).toBe(201);
  });

  it("verifies against real DNS, naming the record that is missing or wrong", async () => {
    const domain = await addDomain(acme, unique("verify"));
    const verify = () => acme.client.post(api(acme, `/${domain.id}/verify`));

    let response = await verify();
    expect(response.statusCode, response.payload).toBe(200);
    expect(response.body).toMatchObject({ status: "failed", verified_at: null });
    expect(response.body.failure_reason).toContain(`TXT record _gatehouse.${domain.hostname} not found`);
    expect(response.body.failure_reason).toContain(`CNAME record ${domain.hostname} → ${TARGET} not found`);
    expect(response.body.last_checked_at).not.toBeNull();

    dns.txt(domain.txt_record.name, ["gatehouse-verification=somebody-elses-token"]);
    dns.cname(domain.hostname, TARGET);
    response = await verify();
    expect(response.body.status).toBe("failed");
    expect(response.body.failure_reason).toBe(
      `TXT record _gatehouse.${domain.hostname} does not hold ${domain.txt_record.value}`,
    );

    dns.txt(domain.txt_record.name, ["v=spf1 -all", domain.txt_record.value]);
    dns.cname(domain.hostname, "elsewhere.example.net");
    response = await verify();
    expect(response.body.status).toBe("failed");
    expect(response.body.failure_reason).toBe(
      `CNAME record ${domain.hostname} points at elsewhere.example.net, not ${TARGET}`,
    );
    expect(await t.services.domains.accountForHost(domain.hostname)).toBeUndefined();

    dns.cname(domain.hostname, `${TARGET.toUpperCase()}.`);
    response = await verify();
    expect(response.body).toMatchObject({ status: "verified", failure_reason: null });
    expect(response.body.verified_at).not.toBeNull();
    expect(await t.services.domains.accountForHost(domain.hostname)).toBe(acme.accountId);
    const events = await t.services.events.listRecent(acme.accountId, 100);
    expect(events.find((e) => e.type === "domain.verified")?.data).toMatchObject({
      id: domain.id,
      hostname: domain.hostname,
      status: "verified",
    });
  });

  it("accepts a zone apex flattened to the target's addresses instead of a CNAME", async () => {
    const domain = await addDomain(acme, `apex${++serial}.example`);
    dns.txt(domain.txt_record.name, [domain.txt_record.value]);
    dns.a(TARGET, ["192.0.2.80"]);
    dns.a(domain.hostname, ["192.0.2.99"]);
    let response = await acme.client.post(api(acme, `/${domain.id}/verify`));
    expect(response.body.status).toBe("failed");
    dns.a(domain.hostname, ["192.0.2.80"]);
    response = await acme.client.post(api(acme, `/${domain.id}/verify`));
    expect(response.body.status, response.body.failure_reason).toBe("verified");
  });

  it("keeps the status when the resolver cannot answer, saying so", async () => {
    const domain = await verified(acme, unique("servfail"));
    dns.fail(domain.txt_record.name);
    const response = await acme.client.post(api(acme, `/${domain.id}/verify`));
    dns.fail(domain.txt_record.name, false);
    expect(response.statusCode).toBe(200);
    expect(response.body.status).toBe("verified");
    expect(response.body.failure_reason).toMatch(/^Looking up TXT _gatehouse\..* failed \(E\w+\)$/);
  });

  it("lets one account verify a host name: 409 for the other, at creation or at verification", async () => {
    const hostname = unique("shared");
    const pendingElsewhere = await addDomain(other, hostname);
    await verified(acme, hostname);
    const created = await other.client.post(api(other), { hostname });
    expect(created.statusCode).toBe(409);
    // Other's earlier pending entry, even with its own TXT value published beside Acme's.
    dns.txt(pendingElsewhere.txt_record.name, [
      pendingElsewhere.txt_record.value,
      ...(await acme.client.get(api(acme))).body.data
        .filter((d: { hostname: string }) => d.hostname === hostname)
        .map((d: { txt_record: { value: string } }) => d.txt_record.value),
    ]);
    const verify = await other.client.post(api(other, `/${pendingElsewhere.id}/verify`));
    expect(verify.statusCode, verify.payload).toBe(409);
    expect(verify.body.code).toBe("conflict");
    expect((await other.client.get(api(other, `/${pendingElsewhere.id}`))).body.status).toBe("pending");
    expect(await t.services.domains.accountForHost(hostname)).toBe(acme.accountId);
  });

  it("settles races: one of two simultaneous additions, one of two accounts verifying at once", async () => {
    const hostname = unique("race");
    const added = await Promise.all([
      acme.client.post(api(acme), { hostname }),
      acme.client.post(api(acme), { hostname: hostname.toUpperCase() }),
    ]);
    expect(added.map((r) => r.statusCode).sort()).toEqual([201, 409]);

    const contested = unique("contested");
    const mine = await addDomain(acme, contested);
    const theirs = await addDomain(other, contested);
    dns.txt(mine.txt_record.name, [mine.txt_record.value, theirs.txt_record.value]);
    dns.cname(contested, TARGET);
    const verifies = await Promise.all([
      acme.client.post(api(acme, `/${mine.id}/verify`)),
      other.client.post(api(other, `/${theirs.id}/verify`)),
    ]);
    expect(verifies.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const winner = verifies[0]?.statusCode === 200 ? acme : other;
    expect(await t.services.domains.accountForHost(contested)).toBe(winner.accountId);
    const verifiedRows = await t.services.db
      .selectFrom("account_domains")
      .select("account_id")
      .where("hostname", "=", contested)
      .where("status", "=", "verified")
      .execute();
    expect(verifiedRows).toEqual([{ account_id: winner.accountId }]);
  });

  it("throttles verification per account: 429 after 10 a minute", async () => {
    const domain = await addDomain(other, unique("throttle"));
    for (let i = 0; i < 10; i++)
      expect((await other.client.post(api(other, `/${domain.id}/verify`))).statusCode).toBe(200);
    const refused = await other.client.post(api(other, `/${domain.id}/verify`));
    expect(refused.statusCode).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // Another account is not held back by it.
    const mine = await addDomain(acme, unique("throttle"));
    expect((await acme.client.post(api(acme, `/${mine.id}/verify`))).statusCode).toBe(200);
  });

  it("answers Caddy's TLS check: 200 for verified domains, 404 for everything else, never a 5xx", async () => {
    const domain = await verified(acme, unique("tls"));
    const pending = await addDomain(acme, unique("tls-pending"));
    expect((await tlsAllowed(`?domain=${domain.hostname}`)).statusCode).toBe(200);
    expect((await tlsAllowed(`?domain=${domain.hostname.toUpperCase()}.`)).statusCode).toBe(200);
    // The installation's own host name (PUBLIC_URL's), so one catch-all Caddy site serves it too.
    expect((await tlsAllowed("?domain=gatehouse.test")).statusCode).toBe(200);
    for (const query of [
      `?domain=${pending.hostname}`,
      "?domain=unknown.example",
      `?domain=${TARGET}`,
      "",
      "?domain=",
      "?domain=%00",
      `?domain=${domain.hostname}:443`,
      `?domain=${domain.hostname}&domain=${domain.hostname}`,
      "?domain[]=x",
      `?domain=${"a".repeat(5000)}`,
      "?domain=%E2%80%AE%F0%9F%98%80",
      "?domain=' or 1=1 --",
    ]) {
      const response = await tlsAllowed(query);
      expect(response.statusCode, `${query.slice(0, 80)}: ${response.payload}`).toBe(404);
    }
    // Deleted: no more certificates for it.
    expect((await acme.client.delete(api(acme, `/${domain.id}`))).statusCode).toBe(204);
    expect((await tlsAllowed(`?domain=${domain.hostname}`)).statusCode).toBe(404);
  });

  it("publishes the verified domains as WebAuthn related origins, and hides passkeys on them", async () => {
    const domain = await verified(other, unique("webauthn"));
    const response = await t.app.inject({ url: "/.well-known/webauthn" });
    expect(response.statusCode).toBe(200);
    const { origins } = response.json() as { origins: string[] };
    expect(origins).toContain(`http://${domain.hostname}`);
    expect(origins.every((o) => /^http:\/\/[a-z0-9.-]+$/.test(o))).toBe(true);
    const pending = await addDomain(other, unique("webauthn-pending"));
    expect(
      ((await t.app.inject({ url: "/.well-known/webauthn" })).json() as { origins: string[] }).origins,
    ).not.toContain(`http://${pending.hostname}`);
    const { domains } = t.services;
    expect(domains.passkeysOnHost("gatehouse.test")).toBe(true);
    expect(domains.passkeysOnHost("GATEHOUSE.test:8080")).toBe(true);
    expect(domains.passkeysOnHost(domain.hostname)).toBe(false);
    expect(domains.passkeysOnHost(undefined)).toBe(false);
  });

  it("bases the account's mail links on its first verified domain", async () => {
    const fresh = await signUpAndLogin(t, { email: "root@links.example", account: "Links" });
    await onPaidPlan(t, fresh.accountId, { plan: "team" });
    const { domains, db } = t.services;
    expect(await domains.linkBaseFor(db, fresh.accountId)).toBeUndefined();
    await addDomain(fresh, "a.links.example");
    const second = await verified(fresh, "b.links.example");
    expect(await domains.linkBaseFor(db, fresh.accountId)).toBe("http://b.links.example");
    const third = await verified(fresh, "c.links.example");
    expect(await domains.linkBaseFor(db, fresh.accountId)).toBe("http://b.links.example");
    expect((await fresh.client.delete(api(fresh, `/${second.id}`))).statusCode).toBe(204);
    expect(await domains.linkBaseFor(db, fresh.accountId)).toBe(`http://${third.hostname}`);
    expect(await domains.linkBaseFor(db, other.accountId)).not.toBe(`http://${third.hostname}`);
  });

  it("brands the login page on the domain by its Host, hides passkeys there, and links the account's mail to it", async () => {
    const fresh = await signUpAndLogin(t, { email: "root@wired.example", account: "Wired" });
    await onPaidPlan(t, fresh.accountId, { plan: "team" });
    const patched = await fresh.client.patch(`/api/v1/accounts/${fresh.accountId}/branding`, {
      login_message: "Welcome to Wired",
    });
    expect(patched.statusCode, patched.payload).toBe(200);
    const hostname = unique("wired");
    const branding = async (host: string) =>
      (await t.app.inject({ url: "/api/v1/branding?account=no-such-slug", headers: { host } })).json();
    // Before verification the host means nothing: the default page.
    await addDomain(fresh, hostname).then(publish);
    expect(await branding(hostname)).toMatchObject({ branded: false, account_name: null });
    const [domain] = (await fresh.client.get(api(fresh))).body.data as Array<{ id: string }>;
    expect((await fresh.client.post(api(fresh, `/${domain?.id}/verify`))).body.status).toBe("verified");
    expect(await branding(`${hostname}:8080`)).toMatchObject({
      branded: true,
      account_name: "Wired",
      login_message: "Welcome to Wired",
      passkeys: false,
    });
    expect(await branding("gatehouse.test")).toMatchObject({ branded: false, passkeys: true });

    const invite = await fresh.client.post(`/api/v1/accounts/${fresh.accountId}/invitations`, {
      emails: ["guest@wired.example"],
    });
    expect(invite.statusCode, invite.payload).toBe(201);
    await expect
      .poll(() => t.mails.find((m) => m.to === "guest@wired.example")?.text, { timeout: 10_000 })
      .toMatch(
        new RegExp(
          `^Accept invitation: http://${hostname.replaceAll(".", "\\.")}/accept-invitation\\?token=`,
          "m",
        ),
      );
  });

  it("logs in on a custom domain into its account only; outsiders get invalid_credentials", async () => {
    const hostname = unique("login");
    await verified(acme, hostname);
    // A member of both accounts, who last used Other.
    const both = await addMember(t, other, { email: "both@example.com", roleKey: "admin" });
    const invite = await acme.client.get(`/api/v1/accounts/${acme.accountId}/roles`);
    const monitorRole = invite.body.data.find((r: { key: string }) => r.key === "monitor");
    expect(
      (
        await acme.client.post(`/api/v1/accounts/${acme.accountId}/invitations`, {
          emails: ["both@example.com"],
          role_id: monitorRole.id,
        })
      ).statusCode,
    ).toBe(201);
    const link = await t.linkFor("both@example.com", /invited/);
    const token = new URL(link).searchParams.get("token");
    expect((await both.client.post("/api/v1/invitations/accept", { token })).statusCode).toBe(200);

    const browser = createClient(t.app);
    const login = await browser.post(
      "/api/v1/auth/login",
      { email: "both@example.com", password: STRONG_PASSWORD, account_id: other.accountId },
      { host: hostname },
    );
    expect(login.statusCode, login.payload).toBe(200);
    expect(login.body.account_id).toBe(acme.accountId);
    const setCookie = [login.headers["set-cookie"]].flat().join("\n");
    expect(setCookie).toContain("gatehouse_session=");
    expect(setCookie.toLowerCase()).not.toContain("domain=");
    const session = await browser.get("/api/v1/session", { host: hostname });
    expect(session.statusCode).toBe(200);
    expect(session.body.account_id).toBe(acme.accountId);

    // Other's Root is no member of Acme: the right password is answered like a wrong one.
    const outsider = await createClient(t.app).post(
      "/api/v1/auth/login",
      { email: "root@other.example", password: STRONG_PASSWORD },
      { host: hostname },
    );
    const wrong = await createClient(t.app).post(
      "/api/v1/auth/login",
      { email: "root@acme.example", password: "not-the-password-1" },
      { host: hostname },
    );
    const unknown = await createClient(t.app).post(
      "/api/v1/auth/login",
      { email: "nobody@nowhere.example", password: STRONG_PASSWORD },
      { host: hostname },
    );
    for (const refused of [outsider, wrong, unknown]) {
      expect(refused.statusCode).toBe(401);
      expect(refused.headers["set-cookie"]).toBeUndefined();
    }
    const shape = (r: typeof outsider) => ({ ...r.body, instance: undefined, request_id: undefined });
    expect(shape(outsider)).toEqual(shape(wrong));
    expect(shape(outsider)).toEqual(shape(unknown));

    // Unknown hosts keep today's behaviour: the last-used or requested account.
    for (const host of ["localhost:3000", "unknown.example", "gatehouse.test"]) {
      const elsewhere = await createClient(t.app).post(
        "/api/v1/auth/login",
        { email: "root@other.example", password: STRONG_PASSWORD },
        { host },
      );
      expect(elsewhere.statusCode, host).toBe(200);
      expect(elsewhere.body.account_id).toBe(other.accountId);
    }
  });

  it("scopes a log-in with a second factor to the custom domain too", async () => {
    const hostname = unique("mfa");
    await verified(acme, hostname);
    const user = await addMember(t, acme, { email: "mfa@acme.example", roleKey: "monitor" });
    const { newTotp } = await import("../mfa/totp.js");
    const start = await user.client.post("/api/v1/me/mfa/totp", { label: "Phone" });
    const totp = newTotp(start.body.secret);
    const code = () => totp.generate({ timestamp: t.services.clock.now().getTime() });
    expect(
      (await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, { code: code() }))
        .statusCode,
    ).toBe(200);

    // Started on the main host (no account there): cannot be completed on the custom domain.
    const main = createClient(t.app);
    const first = await main.post("/api/v1/auth/login", {
      email: "mfa@acme.example",
      password: STRONG_PASSWORD,
    });
    expect(first.body.mfa_required).toBe(true);
    const crossed = await main.post(
      "/api/v1/auth/login/mfa",
      { mfa_token: first.body.mfa_token, method: "totp", code: code() },
      { host: hostname },
    );
    expect(crossed.statusCode).toBe(400);
    expect(crossed.body.code).toBe("invalid_token");

    t.services.clock.advance(31);
    const there = createClient(t.app);
    const second = await there.post(
      "/api/v1/auth/login",
      { email: "mfa@acme.example", password: STRONG_PASSWORD },
      { host: hostname },
    );
    expect(second.body.mfa_required).toBe(true);
    const done = await there.post(
      "/api/v1/auth/login/mfa",
      { mfa_token: second.body.mfa_token, method: "totp", code: code() },
      { host: hostname },
    );
    t.services.clock.reset();
    expect(done.statusCode, done.payload).toBe(200);
    expect(done.body.account_id).toBe(acme.accountId);
  });

  it("re-checks verified domains daily: a broken one fails, stops serving, and its admins get mail", async () => {
    const admin = await addMember(t, acme, { email: "admin@acme.example", roleKey: "admin" });
    const broken = await verified(acme, unique("recheck"));
    const healthy = await verified(acme, unique("recheck-ok"));
    const flaky = await verified(acme, unique("recheck-flaky"));
    expect(await t.services.domains.accountForHost(broken.hostname)).toBe(acme.accountId);
    const yesterday = new Date(t.services.clock.now().getTime() - 25 * 3600_000).toISOString();
    const checkedAt = async (id: string) =>
      (
        await t.services.db
          .selectFrom("account_domains")
          .select("last_checked_at")
          .where("id", "=", id)
          .executeTakeFirstOrThrow()
      ).last_checked_at;
    for (const id of [broken.id, healthy.id, flaky.id])
      await t.services.db
        .updateTable("account_domains")
        .set({ last_checked_at: yesterday })
        .where("id", "=", id)
        .execute();
    dns.remove(broken.txt_record.name);
    dns.fail(flaky.txt_record.name);
    const mailsBefore = t.mails.length;

    const outcome = await t.services.jobs.runNow(["domain-recheck", MAIL_JOB]);
    dns.fail(flaky.txt_record.name, false);
    expect(outcome["domain-recheck"]).toMatchObject({ status: "ok" });

    const after = await acme.client.get(api(acme, `/${broken.id}`));
    expect(after.body.status).toBe("failed");
    expect(after.body.failure_reason).toBe(`TXT record ${broken.txt_record.name} not found`);
    expect((await acme.client.get(api(acme, `/${healthy.id}`))).body.status).toBe("verified");
    expect(await checkedAt(healthy.id)).not.toBe(yesterday);
    // A resolver that cannot answer breaks nothing.
    expect((await acme.client.get(api(acme, `/${flaky.id}`))).body.status).toBe("verified");
    expect(await t.services.domains.accountForHost(broken.hostname)).toBeUndefined();
    expect((await tlsAllowed(`?domain=${broken.hostname}`)).statusCode).toBe(404);

    const sent = t.mails.slice(mailsBefore).filter((m) => m.subject.includes(broken.hostname));
    expect(sent.map((m) => m.to).sort()).toEqual(["admin@acme.example", "root@acme.example"]);
    expect(sent[0]?.subject).toBe(`Custom domain ${broken.hostname} stopped working for Acme`);
    expect(sent[0]?.text).toContain(`TXT record ${broken.txt_record.name} not found`);
    expect(sent[0]?.text).toContain("http://gatehouse.test/settings/domains");
    // The monitor member is not told.
    expect(t.mails.slice(mailsBefore).some((m) => m.to === "monitor@acme.example")).toBe(false);
    const failedEvent = (await t.services.events.listRecent(acme.accountId, 200)).find(
      (e) => e.type === "domain.failed",
    );
    expect(failedEvent?.data).toMatchObject({ id: broken.id, status: "failed" });
    expect(failedEvent?.actor.type).toBe("system");
    void admin;

    // Checked a moment ago: the next run leaves them alone.
    const again = await t.services.jobs.runNow(["domain-recheck"]);
    expect(again["domain-recheck"]).toMatchObject({ status: "ok", result: { checked: 0 } });
  });

  it("fails verified domains of an account whose plan no longer includes them", async () => {
    const shop = await signUpAndLogin(t, { email: "root@shop.example", account: "Shop" });
    await onPaidPlan(t, shop.accountId, { plan: "team" });
    const domain = await verified(shop, "login.shop.example");
    await onPaidPlan(t, shop.accountId, { plan: "pro" });
    await t.services.db
      .updateTable("account_domains")
      .set({ last_checked_at: "2000-01-01T00:00:00.000Z" })
      .where("id", "=", domain.id)
      .execute();
    await t.services.jobs.runNow(["domain-recheck", MAIL_JOB]);
    const after = await shop.client.get(api(shop, `/${domain.id}`));
    expect(after.body).toMatchObject({
      status: "failed",
      failure_reason: "The Pro plan does not include custom domains",
    });
    expect((await shop.client.post(api(shop, `/${domain.id}/verify`))).statusCode).toBe(402);
  });

  it("drops a host from the lookup cache when its domain is deleted or fails, in every process", async () => {
    const domain = await verified(other, unique("cache"));
    const { domains } = t.services;
    expect(await domains.accountForHost(`${domain.hostname}:443`)).toBe(other.accountId);
    // A second process's worth of services on the same database (PostgreSQL: LISTEN/NOTIFY).
    const sibling = dialect === "postgres" ? await t.sibling() : undefined;
    expect(await sibling?.services.domains.accountForHost(domain.hostname)).toBe(
      sibling ? other.accountId : undefined,
    );
    expect((await other.client.delete(api(other, `/${domain.id}`))).statusCode).toBe(204);
    expect(await domains.accountForHost(domain.hostname)).toBeUndefined();
    if (sibling) {
      let seen: string | undefined = other.accountId;
      for (let i = 0; i < 100 && seen !== undefined; i++) {
        seen = await sibling.services.domains.accountForHost(domain.hostname);
        if (seen !== undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toBeUndefined();
    }
    // Unknown names are cached as unknown, and verifying one makes it known at once.
    const later = await addDomain(other, unique("cache-later"));
    expect(await domains.accountForHost(later.hostname)).toBeUndefined();
    expect(await sibling?.services.domains.accountForHost(later.hostname)).toBeUndefined();
    publish(later);
    expect((await other.client.post(api(other, `/${later.id}/verify`))).body.status).toBe("verified");
    expect(await domains.accountForHost(later.hostname)).toBe(other.accountId);
    if (sibling) {
      let seen: string | undefined;
      for (let i = 0; i < 100 && seen === undefined; i++) {
        seen = await sibling.services.domains.accountForHost(later.hostname);
        if (seen === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toBe(other.accountId);
      await sibling.close();
    }
  });
});
