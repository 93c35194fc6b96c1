import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ANONYMOUS_WRITE_LIMITS } from "../http/anonymous-writes.js";
import {
  createClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

/** `POST /auth/password/reset/check`: the reset page asks whether its link still works before anything is typed. */
describe.each(testDialects())("checking a reset link on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  async function resetToken(email: string): Promise<string> {
    await signUpAndLogin(t, { email });
    await createClient(t.app).post("/api/v1/auth/password/forgot", { email });
    return tokenOf(await t.linkFor(email, /Reset your password/));
  }
  const check = (token: unknown, ip = "198.51.100.70") =>
    createClient(t.app, { ip }).post("/api/v1/auth/password/reset/check", { token });

  it("says a fresh link works, and checking does not use it up", async () => {
    const token = await resetToken("check-fresh@example.com");
    for (let i = 0; i < 3; i++) {
      const answer = await check(token);
      expect(answer.statusCode, answer.payload).toBe(200);
      expect(answer.body).toEqual({ valid: true });
    }
    const reset = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token,
      password: "Amber-Meadow-Orbit-7291",
    });
    expect(reset.statusCode, reset.payload).toBe(200);
  });

  it("says a used link does not work any more", async () => {
    const token = await resetToken("check-used@example.com");
    const reset = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token,
      password: "Amber-Meadow-Orbit-7292",
    });
    expect(reset.statusCode, reset.payload).toBe(200);
    const answer = await check(token);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers["content-type"]).toContain("application/problem+json");
    expect(answer.body.code).toBe("invalid_token");
    expect(answer.body.detail).toMatch(/used or expired/);
  });

  it("says an expired link does not work, from the 30th minute on", async () => {
    const token = await resetToken("check-expired@example.com");
    t.services.clock.advance(29 * 60);
    expect((await check(token)).statusCode).toBe(200);
    t.services.clock.advance(60);
    const answer = await check(token);
    expect(answer.statusCode).toBe(400);
    expect(answer.body.code).toBe("invalid_token");
  });

  it("refuses garbage, another purpose's token and wrong types without a 5xx", async () => {
    expect((await check("not-a-token")).body.code).toBe("invalid_token");
    expect((await check("x".repeat(200))).body.code).toBe("invalid_token");
    // A verification link's token is not a reset token.
    await createClient(t.app).post("/api/v1/auth/signup", {
      email: "check-other@example.com",
      password: "violet-Harbor-sunrise-42",
      name: "Other Person",
      account_name: "Other Co",
    });
    const verification = tokenOf(await t.linkFor("check-other@example.com", /Confirm/));
    expect((await check(verification)).body.code).toBe("invalid_token");
    for (const token of ["", 42, null, "x".repeat(300)]) {
      const answer = await check(token);
      expect(answer.statusCode, JSON.stringify(token)).toBe(400);
      expect(answer.body.code).toBe("validation_failed");
      expect(answer.body.errors[0].path).toBe("token");
    }
  });

  it("throttles checks per client address", async () => {
    const { limit, windowSeconds } = ANONYMOUS_WRITE_LIMITS.password_reset_check;
    const token = await resetToken("check-throttle@example.com");
    for (let i = 0; i < limit; i++) expect((await check(token, "198.51.100.71")).statusCode).toBe(200);
    const refused = await check(token, "198.51.100.71");
    expect(refused.statusCode).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    // Another address is counted on its own, and the window passes.
    expect((await check(token, "198.51.100.72")).statusCode).toBe(200);
    t.services.clock.advance(windowSeconds);
    expect((await check(token, "198.51.100.71")).statusCode).toBe(200);
  });
});
