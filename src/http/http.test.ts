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

  it("sets security headers", async () => {
    const r = await t.app.inject({ url: "/healthz" });
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
  });
});

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

  it("marks cookies Secure when PUBLIC_URL is https", async () => {
    const t = await createTestApp("sqlite", { PUBLIC_URL: "https://id.example.com" });
    try {
      const { client } = await signUpAndLogin(t, { email: "secure@example.com" });
      const login = await client.post("/api/v1/auth/login", {
        email: "secure@example.com",
        password: "violet-Harbor-sunrise-42",
      });
      expect(login.cookies.find((c) => c.name === "gatehouse_session")?.secure).toBe(true);
    } finally {
      await t.close();
    }
  });
});
