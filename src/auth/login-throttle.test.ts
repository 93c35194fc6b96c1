import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newTotp, TOTP_PERIOD } from "../mfa/totp.js";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { createLoginThrottle } from "./login-throttle.js";

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

describe.each(testDialects())("second-factor throttling at log-in on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    // Behind one proxy: the client address comes from x-forwarded-for, as in production setups.
    t = await createTestApp(dialect, { TRUST_PROXY: "1" });
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const PROXY = "10.0.0.1";
  const post = (ip: string, url: string, body: unknown) =>
    createClient(t.app, { ip: PROXY }).post(url, body, { "x-forwarded-for": ip });

  const totpAt = (secret: string, steps: number) =>
    newTotp(secret).generate({ timestamp: t.services.clock.now().getTime() + steps * TOTP_PERIOD * 1000 });
  /** A six-digit code that no accepted time step (±1) of `secret` has right now. */
  const wrongTotp = (secret: string) => {
    const valid = new Set([-1, 0, 1].map((s) => totpAt(secret, s)));
    return ["000000", "111111", "222222", "333333"].find((c) => !valid.has(c)) as string;
  };

  async function userWithTotp(email: string) {
    const user = await signUpAndLogin(t, { email });
    const start = await user.client.post("/api/v1/me/mfa/totp", {});
    const secret = start.body.secret as string;
    const verify = await user.client.post(`/api/v1/me/mfa/totp/${start.body.factor_id}/verify`, {
      code: totpAt(secret, 0),
    });
    expect(verify.statusCode, verify.payload).toBe(200);
    return { ...user, email, secret, recoveryCodes: verify.body.recovery_codes as string[] };
  }

  /** The right password from `ip`: a new mfa_token each time. */
  async function passwordStep(email: string, ip: string): Promise<string> {
    const login = await post(ip, "/api/v1/auth/login", { email, password: STRONG_PASSWORD });
    expect(login.statusCode, login.payload).toBe(200);
    return login.body.mfa_token as string;
  }

  const secondStep = (ip: string, mfaToken: string, method: string, code: string) =>
    post(ip, "/api/v1/auth/login/mfa", { mfa_token: mfaToken, method, code });

  /** Wrong answers by every typed method, rotating (at most 4 per mfa_token, under its own bound of 5). */
  async function wrongAnswers(user: { email: string; secret: string }, count: number, ips: string[]) {
    const answers = [];
    const methods = ["totp", "recovery_code", "email", "sms"] as const;
    for (let i = 0; i < count; i += 4) {
      const ip = ips[(i / 4) % ips.length] as string;
      const token = await passwordStep(user.email, ip);
      for (let j = i; j < Math.min(count, i + 4); j++) {
        const method = methods[j % 4] as (typeof methods)[number];
        const code =
          method === "totp"
            ? wrongTotp(user.secret)
            : method === "recovery_code"
              ? "aaaa-bbbb-cccc"
              : "123456";
        answers.push(await secondStep(ip, token, method, code));
      }
    }
    return answers;
  }

  const lockMails = (email: string) =>
    t.mails.filter((m) => m.to === email && /^Too many wrong codes/.test(m.subject));

  it("locks a user's second factor after 10 wrong answers across mfa_tokens from one IP, escalating", async () => {
    const user = await userWithTotp("mfa-brute@example.com");
    const ip = "198.51.100.20";

    const first = await wrongAnswers(user, 10, [ip]);
    expect(first.slice(0, 9).map((r) => r.body.code)).toEqual(Array(9).fill("invalid_code"));
    const locking = first[9] as (typeof first)[number];
    expect(locking.statusCode).toBe(429);
    expect(locking.body.code).toBe("rate_limited");
    expect(locking.headers["retry-after"]).toBe("60");

    // Locked: the right code with the right password (a new mfa_token) is refused too.
    const blocked = await secondStep(ip, await passwordStep(user.email, ip), "totp", totpAt(user.secret, 0));
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(blocked.headers["retry-after"])).toBeLessThanOrEqual(60);
    const byRecovery = await secondStep(
      ip,
      await passwordStep(user.email, ip),
      "recovery_code",
      user.recoveryCodes[0] as string,
    );
    expect(byRecovery.statusCode).toBe(429);

    // One mail for the lock, however many refused attempts follow.
    await expect.poll(() => lockMails(user.email).length).toBe(1);
    expect(lockMails(user.email)[0]?.subject).toMatch(/locked for 1 minute$/);
    expect(lockMails(user.email)[0]?.text).toMatch(/change your password/);
    const audit = await t.services.db
      .selectFrom("audit_events")
      .select("changes")
      .where("action", "=", "auth.guessing_locked")
      .where("target_id", "=", user.userId)
      .execute();
    expect(audit.map((a) => JSON.parse(a.changes as string))).toEqual([{ lock_seconds: 60 }]);

    // The next lock lasts twice as long, and mails again, once.
    t.services.clock.advance(61);
    const second = await wrongAnswers(user, 10, [ip]);
    expect(second.slice(0, 9).map((r) => r.statusCode)).toEqual(Array(9).fill(400));
    expect(second[9]?.statusCode).toBe(429);
    expect(second[9]?.headers["retry-after"]).toBe("120");
    await expect.poll(() => lockMails(user.email).length).toBe(2);
    expect(lockMails(user.email)[1]?.subject).toMatch(/locked for 2 minutes$/);

    // After the lock the right code works; a success clears the user's count and its escalation.
    t.services.clock.advance(121);
    const some = await wrongAnswers(user, 5, [ip]);
    expect(some.map((r) => r.statusCode)).toEqual(Array(5).fill(400));
    const client = createClient(t.app, { ip: PROXY });
    const token = await passwordStep(user.email, ip);
    const ok = await client.post(
      "/api/v1/auth/login/mfa",
      { mfa_token: token, method: "totp", code: totpAt(user.secret, 0) },
      { "x-forwarded-for": ip },
    );
    expect(ok.statusCode, ok.payload).toBe(200);
    const after = await wrongAnswers(user, 10, [ip]);
    expect(after.slice(0, 9).map((r) => r.statusCode)).toEqual(Array(9).fill(400));
    expect(after[9]?.headers["retry-after"]).toBe("60");
  });

  it("locks the user for every IP when the wrong answers come from many IPs", async () => {
    const user = await userWithTotp("mfa-spread@example.com");
    const ips = Array.from({ length: 10 }, (_, i) => `203.0.113.${i + 1}`);
    const answers = [];
    for (const ip of ips) answers.push(...(await wrongAnswers(user, 1, [ip])));
    expect(answers.slice(0, 9).map((r) => r.statusCode)).toEqual(Array(9).fill(400));
    expect(answers[9]?.statusCode).toBe(429);
    expect(answers[9]?.headers["retry-after"]).toBe("60");

    const elsewhere = "192.0.2.200";
    const blocked = await secondStep(
      elsewhere,
      await passwordStep(user.email, elsewhere),
      "totp",
      totpAt(user.secret, 0),
    );
    expect(blocked.statusCode).toBe(429);
    await expect.poll(() => lockMails(user.email).length).toBe(1);

    t.services.clock.advance(61);
    const ok = await secondStep(
      elsewhere,
      await passwordStep(user.email, elsewhere),
      "totp",
      totpAt(user.secret, 0),
    );
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(lockMails(user.email)).toHaveLength(1);
  });

  it("locks an IP that guesses second factors for many users, without locking those users elsewhere", async () => {
    const ip = "198.51.100.77";
    const users = [];
    for (let i = 0; i < 6; i++) users.push(await userWithTotp(`mfa-ip-${i}@example.com`));
    const statuses: number[] = [];
    for (const user of users) {
      // 9 each: below every user's own threshold.
      if (statuses.length < 50)
        statuses.push(
          ...(await wrongAnswers(user, Math.min(9, 50 - statuses.length), [ip])).map((r) => r.statusCode),
        );
    }
    expect(statuses).toHaveLength(50);
    expect(statuses.slice(0, 49)).toEqual(Array(49).fill(400));
    expect(statuses[49]).toBe(429);

    const last = users[5] as (typeof users)[number];
    const blocked = await secondStep(ip, await passwordStep(last.email, ip), "totp", totpAt(last.secret, 0));
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(60);
    const other = "192.0.2.201";
    // Step +1: enrolling spent the current step moments ago.
    const ok = await secondStep(other, await passwordStep(last.email, other), "totp", totpAt(last.secret, 1));
    expect(ok.statusCode, ok.payload).toBe(200);
    // No user's own lane locked: nobody was mailed.
    for (const user of users) expect(lockMails(user.email)).toHaveLength(0);
  });

  it("starts exactly one lock when wrong answers cross the threshold at the same time", async () => {
    const throttle = createLoginThrottle({ db: t.services.db, clock: t.services.clock });
    const who = { userId: "user_race", ip: "198.51.100.78" };
    for (let i = 0; i < 8; i++) expect(await throttle.failFactor(who)).toEqual([]);
    const burst = await Promise.all(Array.from({ length: 4 }, () => throttle.failFactor(who)));
    // One of them started the user's lock (and only that one mails); the others counted.
    expect(burst.flat()).toEqual([{ scope: "factorUser", retryAfter: 60 }]);
    expect((await throttle.factorLock(who))?.retryAfter).toBe(60);
  });
});
