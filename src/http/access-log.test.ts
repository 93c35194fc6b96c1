import type { FastifyInstance } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, loggerOptions } from "../app.js";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";

/** The app as main.ts builds it (its logger options), over the test app's services, logging into `lines`. */
async function appLoggingTo(t: TestApp, level: string, lines: Array<Record<string, unknown>>) {
  const stream = { write: (line: string) => lines.push(JSON.parse(line)) };
  const log = pino({ ...(loggerOptions(t.config) as pino.LoggerOptions), level }, stream);
  const app = await buildApp(t.config, t.services, { logger: log });
  // A route whose failure Gatehouse logs through request.log (the error handler's "unhandled error").
  app.get("/api/v1/test-failure", { config: { auth: "none" } }, async () => {
    throw new Error("a bug");
  });
  await app.ready();
  return app;
}

describe.each(testDialects())("the access log on %s", (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let quiet: FastifyInstance;
  const lines: Array<Record<string, unknown>> = [];
  const quietLines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    t = await createTestApp(dialect);
    app = await appLoggingTo(t, "info", lines);
    quiet = await appLoggingTo(t, "warn", quietLines);
  });
  afterAll(async () => {
    await quiet?.close();
    await app?.close();
    await t?.close();
  });

  it("writes one line per request with its id, method, path, status, time and address", async () => {
    const before = lines.length;
    for (const url of ["/healthz", "/api/v1/session", "/api/v1/no-such-thing?x=1", "/oidc/jwks"])
      await app.inject({ url });
    const written = lines.slice(before);
    expect(written.map((l) => [l.msg, l.method, l.url, l.status])).toEqual([
      ["request completed", "GET", "/healthz", 200],
      ["request completed", "GET", "/api/v1/session", 401],
      ["request completed", "GET", "/api/v1/no-such-thing", 404],
      // As it arrived, though the OIDC mount hands the provider "/jwks".
      ["request completed", "GET", "/oidc/jwks", 200],
    ]);
    for (const line of written) {
      expect(line.reqId).toEqual(expect.any(String));
      expect(line.responseTime).toEqual(expect.any(Number));
      expect(line.ip).toBe("127.0.0.1");
      expect(line.level).toBe(30);
    }
  });

  it("never logs a cookie, an authorization header, a CSRF token, a password or a query string", async () => {
    const { client, password } = await signUpAndLogin({ ...t, app }, { email: "logs@example.com" });
    const session = await client.get("/api/v1/session");
    const csrf = session.body.csrf_token as string;
    const cookie = String(session.headers["set-cookie"] ?? "");
    await client.post("/api/v1/auth/logout", {});
    await app.inject({ url: "/reset-password?token=secret-from-a-mail-link" });
    await app.inject({ url: "/api/v1/me", headers: { authorization: "Bearer gh_secretkeysecretkeysecret" } });
    const all = JSON.stringify(lines);
    for (const secret of [password, csrf, "secret-from-a-mail-link", "gh_secretkeysecretkeysecret"])
      expect(all).not.toContain(secret);
    for (const cookieValue of cookie
      .split(/[;,]\s*/)
      .map((c) => c.split("=")[1])
      .filter((v) => (v?.length ?? 0) > 16))
      expect(all).not.toContain(cookieValue);
    expect(lines.some((l) => l.url === "/reset-password")).toBe(true);
  });

  it("writes no line at warn", async () => {
    await quiet.inject({ url: "/healthz" });
    await quiet.inject({ url: "/api/v1/session" });
    expect(quietLines).toEqual([]);
  });

  it("writes an error at warn, with the request's id (request.log is made when a line is written)", async () => {
    const before = quietLines.length;
    const response = await quiet.inject({ url: "/api/v1/test-failure" });
    expect(response.statusCode).toBe(500);
    const written = quietLines.slice(before);
    expect(written.map((l) => [l.level, l.msg])).toEqual([[50, "unhandled error"]]);
    expect(written[0]?.reqId).toBe(response.headers["x-request-id"]);
    expect((written[0]?.err as { message?: string } | undefined)?.message).toBe("a bug");
  });

  it("gives a request's own lines and its access line the same id", async () => {
    const before = lines.length;
    const response = await app.inject({ url: "/api/v1/test-failure" });
    const written = lines.slice(before);
    expect(written.map((l) => l.msg)).toEqual(["unhandled error", "request completed"]);
    for (const line of written) expect(line.reqId).toBe(response.headers["x-request-id"]);
  });
});
