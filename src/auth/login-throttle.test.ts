import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

describe.each(testDialects())("login throttling on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const attempt = (email: string, password: string, ip: string) =>
    createClient(t.app, { ip }).post("/api/v1/auth/login", { email, password });

  it("locks the email+IP lane after 5 failures with 429 and retry-after, even for the right password", async () => {
    await signUpAndLogin(t, { email: "target@example.com" });
    for (let i = 0; i < 5; i++)
      expect((await attempt("target@example.com", `guess-${i}-guess-guess`, "198.51.100.1")).statusCode).toBe(
        401,
      );
    const locked = await attempt("target@example.com", STRONG_PASSWORD, "198.51.100.1");
    expect(locked.statusCode).toBe(429);
    expect(locked.body.code).toBe("rate_limited");
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(locked.headers["retry-after"])).toBeLessThanOrEqual(60);

    // The real user elsewhere is not locked out by the attacker.
    expect((await attempt("target@example.com", STRONG_PASSWORD, "192.0.2.50")).statusCode).toBe(200);

    // The lock is temporary.
    t.services.clock.advance(61);
    expect((await attempt("target@example.com", STRONG_PASSWORD, "198.51.100.1")).statusCode).toBe(200);
  });

  it("doubles the delay for repeated lock-outs, capped at 15 minutes", async () => {
    await signUpAndLogin(t, { email: "double@example.com" });
    const retryAfterLock = async () => {
      for (let i = 0; i < 5; i++) await attempt("double@example.com", "wrong-wrong-wrong", "198.51.100.2");
      const r = await attempt("double@example.com", "wrong-wrong-wrong", "198.51.100.2");
      expect(r.statusCode).toBe(429);
      return Number(r.headers["retry-after"]);
    };
    const first = await retryAfterLock();
    t.services.clock.advance(first + 1);
    const second = await retryAfterLock();
    expect(first).toBe(60);
    expect(second).toBe(120);
    let last = second;
    for (let i = 0; i < 6; i++) {
      t.services.clock.advance(last + 1);
      last = await retryAfterLock();
    }
    expect(last).toBe(900);
  });

  it("throttles the same way for emails that have no user (no enumeration through locks)", async () => {
    for (let i = 0; i < 5; i++)
      expect((await attempt("ghost-user@example.com", "wrong-wrong-wrong", "198.51.100.3")).statusCode).toBe(
        401,
      );
    expect((await attempt("ghost-user@example.com", "wrong-wrong-wrong", "198.51.100.3")).statusCode).toBe(
      429,
    );
  });

  it("locks an email attacked from many IPs for strangers, but not for the user's own known IP", async () => {
    const { client } = await signUpAndLogin(t, { email: "spread@example.com" });
    await client.post("/api/v1/auth/logout");
    await attempt("spread@example.com", STRONG_PASSWORD, "192.0.2.77"); // the user's usual IP
    for (let i = 0; i < 20; i++) await attempt("spread@example.com", "wrong-wrong-wrong", `10.9.${i}.1`);
    expect((await attempt("spread@example.com", STRONG_PASSWORD, "10.9.200.1")).statusCode).toBe(429);
    expect((await attempt("spread@example.com", STRONG_PASSWORD, "192.0.2.77")).statusCode).toBe(200);
  });

  it("locks an IP that sprays many emails", async () => {
    for (let i = 0; i < 50; i++) await attempt(`spray${i}@example.com`, "wrong-wrong-wrong", "198.51.100.99");
    const r = await attempt("spray-next@example.com", "wrong-wrong-wrong", "198.51.100.99");
    expect(r.statusCode).toBe(429);
  });

  it("counts concurrent failures exactly", async () => {
    await Promise.all(
      Array.from({ length: 4 }, () => attempt("burst@example.com", "wrong-wrong-wrong", "198.51.100.4")),
    );
    const row = await t.services.db
      .selectFrom("throttles")
      .select("failures")
      .where("key", "=", "login:email_ip:burst@example.com|198.51.100.4")
      .executeTakeFirstOrThrow();
    expect(row.failures).toBe(4);
  });
});
