import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe.each(testDialects())("the quiet session probe on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it("answers 200 {authenticated: false} without a session, where GET /session keeps its 401", async () => {
    const anonymous = createClient(t.app);
    const status = await anonymous.get("/api/v1/session/status");
    expect(status.statusCode).toBe(200);
    expect(status.body).toEqual({ authenticated: false });
    expect((await anonymous.get("/api/v1/session")).statusCode).toBe(401);

    // A cookie that names no session (expired, revoked, made up) is the same as none.
    anonymous.cookie = "not-a-session-token";
    expect((await anonymous.get("/api/v1/session/status")).body).toEqual({ authenticated: false });
  });

  it("answers the session state of GET /session, marked authenticated, when signed in", async () => {
    const { client } = await signUpAndLogin(t, { email: "probe@example.com" });
    const session = await client.get("/api/v1/session");
    const status = await client.get("/api/v1/session/status");
    expect(status.statusCode).toBe(200);
    expect(status.body).toEqual({ authenticated: true, ...session.body });
    expect(status.body.csrf_token).toEqual(expect.any(String));
    expect(status.body.user.email).toBe("probe@example.com");

    // After log-out the same client is told so, quietly.
    expect((await client.post("/api/v1/auth/logout")).statusCode).toBe(204);
    const after = await client.get("/api/v1/session/status");
    expect(after.statusCode).toBe(200);
    expect(after.body).toEqual({ authenticated: false });
  });

  it("is in the OpenAPI document", async () => {
    const spec = (await t.app.inject({ url: "/openapi.json" })).json();
    expect(spec.paths["/api/v1/session/status"]?.get).toBeDefined();
  });
});
