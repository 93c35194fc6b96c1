import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe.each(testDialects())("HTTP surface on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it("answers health and readiness", async () => {
    expect((await t.app.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await t.app.inject({ url: "/readyz" })).json()).toEqual({ status: "ready" });
  });

  it("echoes a sane x-request-id and makes one otherwise", async () => {
    const given = await t.app.inject({ url: "/healthz", headers: { "x-request-id": "trace-123" } });
    expect(given.headers["x-request-id"]).toBe("trace-123");
    const evil = await t.app.inject({ url: "/healthz", headers: { "x-request-id": "<script>".repeat(20) } });
    expect(evil.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("serves an OpenAPI document generated from the routes, and a docs page", async () => {
    const doc = (await t.app.inject({ url: "/openapi.json" })).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      "/api/v1/auth/signup",
      "/api/v1/auth/login",
      "/api/v1/auth/logout",
      "/api/v1/auth/verify-email",
      "/api/v1/auth/password/forgot",
      "/api/v1/auth/password/reset",
      "/api/v1/session",
      "/api/v1/me",
      "/api/v1/me/password",
      "/api/v1/me/preferences",
      "/api/v1/me/sessions",
      "/api/v1/me/sessions/{id}",
      "/api/v1/me/sessions/revoke-others",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(
      doc.paths["/api/v1/auth/signup"].post.requestBody.content["application/json"].schema.properties,
    ).toHaveProperty("account_name");
    const docs = await t.app.inject({ url: "/docs/" });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers["content-type"]).toContain("text/html");
  });

  it("turns malformed or mistyped input into 4xx problems, never a 500", async () => {
    const send = (payload: string, contentType = "application/json") =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload,
        headers: { "content-type": contentType },
      });
    const broken = await send("{not json");
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toMatchObject({
      code: "invalid_json",
      status: 400,
      title: expect.any(String),
      type: expect.any(String),
    });
    expect(broken.headers["content-type"]).toContain("application/problem+json");
    expect((await send("")).statusCode).toBe(400);
    expect((await send("[]")).json().code).toBe("validation_failed");
    expect((await send('{"email":1,"password":true}')).json().errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: "email", code: "invalid_type" })]),
    );
    expect((await send("email=a&password=b", "application/x-www-form-urlencoded")).statusCode).toBe(415);
    const huge = await send(JSON.stringify({ email: "a@b.c", password: "x".repeat(300_000) }));
    expect(huge.statusCode).toBe(413);
    const long = await send(JSON.stringify({ email: `${"a".repeat(300)}@example.com`, password: "x" }));
    expect(long.statusCode).toBe(400);
    expect(long.json().errors[0]).toMatchObject({ path: "email", code: "too_long" });
  });

  it("survives a barrage of odd bodies on every public write endpoint", async () => {
    const bodies: unknown[] = [
      null,
      42,
      "string",
      [],
      {},
      { email: null, password: null },
      { email: "😀@😀.😀", password: "\u0000\u0001", name: "\u202e", account_name: "\ud800" },
      { token: "'; drop table users; --" },
      { token: "x".repeat(10_000) },
      { email: "a@example.com", password: "p".repeat(1025), name: "n", account_name: "a" },
      { __proto__: { admin: true }, email: "proto@example.com" },
      { constructor: { prototype: { polluted: true } } },
    ];
    const paths = [
      "/api/v1/auth/signup",
      "/api/v1/auth/login",
      "/api/v1/auth/verify-email",
      "/api/v1/auth/password/forgot",
      "/api/v1/auth/password/reset",
    ];
    for (const url of paths) {
      for (const body of bodies) {
        const r = await t.app.inject({
          method: "POST",
          url,
          payload: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        });
        expect(r.statusCode, `${url} ${JSON.stringify(body)} → ${r.payload}`).toBeGreaterThanOrEqual(200);
        expect(r.statusCode, `${url} ${JSON.stringify(body)} → ${r.payload}`).toBeLessThan(500);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("answers writes that lose a race for one name with 409, never a 500", async () => {
    const owner = await signUpAndLogin(t, { email: "racer@example.com" });
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        owner.client.post(`/api/v1/accounts/${owner.accountId}/teams`, { name: "Racers" }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const r of responses.filter((r) => r.statusCode !== 201)) {
      expect(r.statusCode, r.payload).toBe(409);
      expect(r.headers["content-type"]).toContain("application/problem+json");
      expect(r.body.code).toBe("conflict");
    }
  });

  it("answers unknown API routes and missing sessions with problems", async () => {
    const missing = await t.app.inject({ url: "/api/v1/nope" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe("not_found");
    const anon = await t.app.inject({ url: "/api/v1/me" });
    expect(anon.statusCode).toBe(401);
    expect(anon.json().code).toBe("unauthenticated");
    const bogus = await t.app.inject({
      url: "/api/v1/me",
      headers: { cookie: `gatehouse_session=${"x".repeat(5000)}` },
    });
    expect(bogus.statusCode).toBe(401);
  });

  it("moves the server clock outside production", async () => {
    const client = createClient(t.app);
    const set = await client.post("/dev/clock", { now: "2030-01-01T00:00:00.000Z" });
    expect(new Date(set.body.now).getUTCFullYear()).toBe(2030);
    const advanced = await client.post("/dev/clock", { advance_seconds: 3600 });
    expect(advanced.body.now.startsWith("2030-01-01T01:00")).toBe(true);
    await client.post("/dev/clock", { reset: true });
    expect(Math.abs(Date.parse((await client.get("/dev/clock")).body.now) - Date.now())).toBeLessThan(5000);
  });

  it("sends the full browser set on HTML and only nosniff and no-store on JSON", async () => {
    const { client } = await signUpAndLogin(t, { email: "headers@example.com" });
    const json = await client.get("/api/v1/session");
    expect(json.statusCode).toBe(200);
    expect(securityHeaderNames(json.headers)).toEqual(["cache-control", "x-content-type-options"]);
    expect(json.headers["cache-control"]).toBe("no-store");
    expect(json.headers["x-content-type-options"]).toBe("nosniff");
    // Refused before the route ran (no session): the same set.
    const refused = await t.app.inject({ url: "/api/v1/session" });
    expect(refused.statusCode).toBe(401);
    expect(securityHeaderNames(refused.headers)).toEqual(["cache-control", "x-content-type-options"]);
    expect(securityHeaderNames((await t.app.inject({ url: "/healthz" })).headers)).toEqual([
      "cache-control",
      "x-content-type-options",
    ]);

    const page = await t.app.inject({ url: "/docs/" });
    expect(page.headers["content-type"]).toContain("text/html");
    expect(securityHeaderNames(page.headers)).toEqual(HTML_SET);
    expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(page.headers["x-frame-options"]).toBe("SAMEORIGIN");
    expect(page.headers["permissions-policy"]).toContain("camera=()");
    expect(page.headers["permissions-policy"]).toContain("publickey-credentials-get=(self)");
  });

  it("refuses control characters in bodies, path ids and query strings with a 400, on login too", async () => {
    const login = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: "nul\u0000@example.com", password: "pass\u0001word" },
    });
    expect(login.statusCode).toBe(400);
    expect(login.headers["content-type"]).toContain("application/problem+json");
    expect(login.json().errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "email", code: "invalid_characters" }),
        expect.objectContaining({ path: "password", code: "invalid_characters" }),
      ]),
    );
    const { client, accountId } = await signUpAndLogin(t, { email: "controls@example.com" });
    const cases = [
      await client.get("/api/v1/accounts/acct%00x"),
      await client.get(`/api/v1/accounts/${accountId}/members/usr%00x`),
      await client.get(`/api/v1/accounts/${accountId}/members?q=a%00b`),
      await client.get(`/api/v1/accounts/${accountId}/members?q=a%0Ab`),
      await client.get("/api/v1/permissions?account_id=%07"),
      await client.post(`/api/v1/accounts/${accountId}/teams`, { name: "Team\u0000" }),
      await client.post(`/api/v1/accounts/${accountId}/teams`, { name: "Team\u007f" }),
      await client.put("/api/v1/me/preferences", { "the\u0000key": 1 }),
    ];
    for (const r of cases) {
      expect(r.statusCode, r.payload).toBe(400);
      expect(r.body.code).toBe("validation_failed");
      expect(r.body.errors[0].code).toBe("invalid_characters");
    }
    // Multi-line text keeps its newlines and tabs.
    const team = await client.post(`/api/v1/accounts/${accountId}/teams`, {
      name: "Ops",
      description: "Line one\r\n\tLine two",
    });
    expect(team.statusCode, team.payload).toBe(201);
  });

  it("answers unknown and wrongly-asked paths with problems: 404 and 405 with Allow", async () => {
    for (const url of ["/dev/nope", "/files/nope", "/api/v1/nope", "/docs/nope.json", "/style.css"]) {
      const r = await t.app.inject({ url });
      expect(r.statusCode, url).toBe(404);
      expect(r.headers["content-type"], url).toContain("application/problem+json");
      expect(r.json().code).toBe("not_found");
    }
    const wrong = await t.app.inject({ method: "DELETE", url: "/api/v1/auth/login" });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe("POST");
    expect(wrong.json().code).toBe("method_not_allowed");
    const withParams = await t.app.inject({ method: "PUT", url: "/api/v1/accounts/acct_x/roles/role_y" });
    expect(withParams.statusCode).toBe(405);
    expect(withParams.headers.allow).toBe("PATCH, DELETE");
  });

  it("answers over-long ids and bad percent-escapes with problems that do not echo the URL", async () => {
    const long = await t.app.inject({ url: `/api/v1/accounts/${"a".repeat(150)}/roles` });
    expect(long.statusCode).toBe(414);
    expect(long.headers["content-type"]).toContain("application/problem+json");
    expect(long.json().code).toBe("uri_too_long");
    expect(long.payload).not.toContain("aaaaaaaaaa");
    expect(long.headers["x-request-id"]).toBeTruthy();
    expect(long.headers["x-content-type-options"]).toBe("nosniff");
    const badEscape = await t.app.inject({ url: "/api/v1/accounts/%E0%A4%A/roles" });
    expect(badEscape.statusCode).toBe(400);
    expect(badEscape.json().code).toBe("invalid_url");
    expect(badEscape.payload).not.toContain("%E0");
  });

  it("answers framework-level errors on a real socket with problems", async () => {
    await t.app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = t.app.server.address() as { port: number };
    const send = (head: string) => rawRequest(port, head);
    const get = (path: string) =>
      send(`GET ${path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`);

    const cases: Array<[Promise<RawResponse>, number, string]> = [
      [get(`/api/v1/accounts/${"a".repeat(150)}`), 414, "uri_too_long"],
      [get("/api/v1/accounts/%E0%A4%A/roles"), 400, "invalid_url"],
      [get(`/api/v1/accounts/acct_x/members?q=${"x".repeat(20_000)}`), 431, "headers_too_large"],
      [get("/files/nope"), 404, "not_found"],
      [send("BREW /coffee HTCPCP/1.0\r\n\r\n"), 400, "bad_request"],
      [send("GET / HTTP/1.1\r\nhost: localhost\r\nbad header: x\r\n\r\n"), 400, "bad_request"],
    ];
    for (const [pending, status, code] of cases) {
      const r = await pending;
      expect(r.status, r.body).toBe(status);
      expect(r.headers["content-type"]).toContain("application/problem+json");
      expect(JSON.parse(r.body)).toMatchObject({ status, code });
      expect(r.body).not.toContain("xxxxxxxxxx");
      expect(r.headers["x-request-id"]).toBeTruthy();
    }
  });
});

type RawResponse = { status: number; headers: Record<string, string>; body: string };

/** One request written byte for byte (no client library would send these), read until the server closes. */
function rawRequest(port: number, head: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [top = "", body = ""] = text.split("\r\n\r\n", 2);
      const [statusLine = "", ...lines] = top.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
    });
    socket.write(head);
  });
}

describe("development outbox and production mode", () => {
  it("keeps mails in the outbox at /dev/mail when SMTP_URL is unset", async () => {
    const t = await createTestApp("sqlite", { SMTP_URL: "" });
    try {
      await createClient(t.app).post("/api/v1/auth/signup", {
        email: "outbox@example.com",
        password: "tangerine submarine orchestra",
        name: "Out Box",
        account_name: "O",
      });
      const mail = await t.app.inject({ url: "/dev/mail?to=outbox@example.com" });
      const [first] = mail.json().data;
      expect(first.subject).toBe("Confirm your email address");
      expect(first.text).toMatch(/http:\/\/gatehouse\.test\/verify-email\?token=[\w-]+/);
      expect(first.html).toContain("<a href=");
      expect(t.mails).toHaveLength(0);
    } finally {
      await t.close();
    }
  });

  it("has no dev routes in production", async () => {
    const t = await createTestApp("sqlite", { NODE_ENV: "production" });
    try {
      expect((await t.app.inject({ url: "/dev/mail" })).statusCode).toBe(404);
      expect(
        (await t.app.inject({ method: "POST", url: "/dev/clock", payload: { advance_seconds: 1 } }))
          .statusCode,
      ).toBe(404);
    } finally {
      await t.close();
    }
  });

  it("marks cookies Secure and adds HSTS to JSON answers when PUBLIC_URL is https", async () => {
    const t = await createTestApp("sqlite", { PUBLIC_URL: "https://id.example.com" });
    try {
      const { client } = await signUpAndLogin(t, { email: "secure@example.com" });
      const login = await client.post("/api/v1/auth/login", {
        email: "secure@example.com",
        password: "violet-Harbor-sunrise-42",
      });
      expect(login.cookies.find((c) => c.name === "gatehouse_session")?.secure).toBe(true);
      expect(securityHeaderNames(login.headers)).toEqual([
        "cache-control",
        "strict-transport-security",
        "x-content-type-options",
      ]);
      expect(login.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    } finally {
      await t.close();
    }
  });
});

/** Every browser-security header helmet knows, plus the ones Gatehouse adds. */
const HTML_SET = [
  "content-security-policy",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "origin-agent-cluster",
  "permissions-policy",
  "referrer-policy",
  "strict-transport-security",
  "x-content-type-options",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-frame-options",
  "x-permitted-cross-domain-policies",
  "x-xss-protection",
];
const SECURITY_HEADERS = new Set([...HTML_SET, "cache-control", "cross-origin-embedder-policy"]);

const securityHeaderNames = (headers: Record<string, unknown>) =>
  Object.keys(headers)
    .filter((name) => SECURITY_HEADERS.has(name))
    .sort();
