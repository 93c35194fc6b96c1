import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ANONYMOUS_WRITE_LIMITS } from "../http/anonymous-writes.js";
import { MAIL_LIMITS } from "../mail/mail-limits.js";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

/** Mail and writes that anyone can cause without proving who they are. */
describe.each(testDialects())("anonymous mail and write limits on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  /** A login made the operator's way: no mail, so every mail a test sees is one it caused. */
  const existingUser = (email: string) =>
    t.services.auth.createAccountWithRoot({
      email,
      password: STRONG_PASSWORD,
      name: "Quiet Person",
      accountName: "Quiet Co",
    });
  const mailsTo = async (to: string, subject: RegExp) => {
    await t.services.jobs.idle();
    return t.mails.filter((m) => m.to === to && subject.test(m.subject));
  };
  const tokenIn = (text: string) =>
    tokenOf(/https?:\/\/\S+\?token=[\w-]+/.exec(text)?.[0] ?? "http://gatehouse.test/?token=none");
  const shape = (body: unknown): unknown =>
    body && typeof body === "object" && !Array.isArray(body)
      ? Object.fromEntries(
          Object.entries(body)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => [k, shape(v)]),
        )
      : Array.isArray(body)
        ? body.map(shape)
        : typeof body;

  it("sends at most 3 reset mails per address in 15 minutes, answering every request alike", async () => {
    expect(MAIL_LIMITS.perAddress).toEqual({ limit: 3, windowSeconds: 900 });
    await existingUser("flooded@example.com");
    const client = createClient(t.app, { ip: "198.51.100.10" });
    const answers = [];
    for (let i = 0; i < 30; i++) {
      answers.push(await client.post("/api/v1/auth/password/forgot", { email: "flooded@example.com" }));
    }
    expect(new Set(answers.map((a) => `${a.statusCode} ${a.payload}`))).toEqual(
      new Set(['202 {"accepted":true}']),
    );
    expect(await mailsTo("flooded@example.com", /Reset your password/)).toHaveLength(3);

    // A new window opens once the first has passed, from a fresh address too.
    t.services.clock.advance(15 * 60 + 1);
    await createClient(t.app, { ip: "198.51.100.11" }).post("/api/v1/auth/password/forgot", {
      email: "flooded@example.com",
    });
    expect(await mailsTo("flooded@example.com", /Reset your password/)).toHaveLength(4);
  });

  it("keeps the last mailed reset link working when later requests send nothing", async () => {
    await existingUser("keeper@example.com");
    const client = createClient(t.app, { ip: "198.51.100.12" });
    for (let i = 0; i < 4; i++) {
      await client.post("/api/v1/auth/password/forgot", { email: "keeper@example.com" });
    }
    const sent = await mailsTo("keeper@example.com", /Reset your password/);
    expect(sent).toHaveLength(3);
    // The newest link mailed is live (the request that sent nothing issued none); using it ends the others.
    let resets = 0;
    for (const mail of sent) {
      const token = tokenIn(mail.text);
      const reset = await createClient(t.app).post("/api/v1/auth/password/reset", {
        token,
        password: "Kept-Harbor-Light-12",
      });
      if (reset.statusCode === 200) resets++;
    }
    expect(resets).toBe(1);
  });

  it("sends at most 3 notices for sign-ups with a taken address, answering like a new sign-up", async () => {
    await existingUser("taken-flood@example.com");
    const client = createClient(t.app, { ip: "198.51.100.20" });
    const signup = (email: string) =>
      client.post("/api/v1/auth/signup", {
        email,
        password: STRONG_PASSWORD,
        name: "Mallory Flood",
        account_name: "Flood Co",
      });
    const fresh = await signup("brand-new@example.com");
    expect(fresh.statusCode).toBe(201);
    for (let i = 0; i < 30; i++) {
      const answer = await signup("taken-flood@example.com");
      expect(answer.statusCode).toBe(201);
      expect(shape(answer.body)).toEqual(shape(fresh.body));
      expect(answer.body.user.email).toBe("taken-flood@example.com");
    }
    expect(await mailsTo("taken-flood@example.com", /Someone tried to sign up/)).toHaveLength(3);
    // The stand-in sign-ups left nothing behind.
    const users = await t.services.db.selectFrom("users").select("email").execute();
    expect(users.filter((u) => u.email.endsWith(".invalid"))).toEqual([]);
    const accounts = await t.services.db
      .selectFrom("accounts")
      .select("id")
      .where("name", "=", "Flood Co")
      .execute();
    expect(accounts).toHaveLength(1);
  });

  it("sends at most 3 verification mails per address in 15 minutes, however often they are asked for", async () => {
    const client = createClient(t.app, { ip: "198.51.100.30" });
    await client.post("/api/v1/auth/signup", {
      email: "resender@example.com",
      password: STRONG_PASSWORD,
      name: "Re Sender",
      account_name: "Resend Co",
    });
    const login = await client.post("/api/v1/auth/login", {
      email: "resender@example.com",
      password: STRONG_PASSWORD,
    });
    expect(login.statusCode).toBe(200);
    for (let i = 0; i < 30; i++) {
      const answer = await client.post("/api/v1/auth/verify-email/resend");
      expect(answer.statusCode).toBe(202);
      expect(answer.body).toEqual({ accepted: true });
    }
    // The sign-up's mail and two resends; the newest link works (the resends that sent nothing made none).
    const sent = await mailsTo("resender@example.com", /Confirm your email/);
    expect(sent).toHaveLength(3);
    const verified = [];
    for (const mail of sent) {
      const token = tokenIn(mail.text);
      verified.push((await client.post("/api/v1/auth/verify-email", { token })).statusCode);
    }
    expect(verified.filter((status) => status === 200)).toHaveLength(1);
  });

  it("sends at most 20 such mails per client address in 15 minutes, across addresses", async () => {
    expect(MAIL_LIMITS.perIp).toEqual({ limit: 20, windowSeconds: 900 });
    const emails = Array.from({ length: 25 }, (_, i) => `sprayed${i}@example.com`);
    for (const email of emails) await existingUser(email);
    const client = createClient(t.app, { ip: "198.51.100.40" });
    for (const email of emails) {
      const answer = await client.post("/api/v1/auth/password/forgot", { email });
      expect(answer.statusCode).toBe(202);
    }
    await t.services.jobs.idle();
    const sent = t.mails.filter((m) => emails.includes(m.to) && /Reset your password/.test(m.subject));
    expect(sent).toHaveLength(20);
    // Another client address is not held back by this one.
    await createClient(t.app, { ip: "198.51.100.41" }).post("/api/v1/auth/password/forgot", {
      email: "sprayed24@example.com",
    });
    expect(await mailsTo("sprayed24@example.com", /Reset your password/)).toHaveLength(1);
  });

  it("counts an IPv6 client by its /64", async () => {
    const emails = Array.from({ length: 21 }, (_, i) => `v6-${i}@example.com`);
    for (const email of emails) await existingUser(email);
    for (const [i, email] of emails.entries()) {
      await createClient(t.app, { ip: `2001:db8:1:2::${(i + 1).toString(16)}` }).post(
        "/api/v1/auth/password/forgot",
        { email },
      );
    }
    await t.services.jobs.idle();
    expect(t.mails.filter((m) => emails.includes(m.to))).toHaveLength(20);
  });

  it("throttles passkey options per client address after a generous limit, across processes", async () => {
    const { limit, windowSeconds } = ANONYMOUS_WRITE_LIMITS.passkey_options;
    const sibling = await t.sibling();
    const here = createClient(t.app, { ip: "198.51.100.50" });
    const there = createClient(sibling.app, { ip: "198.51.100.50" });
    for (let i = 0; i < limit; i++) {
      const answer = await (i % 2 ? there : here).post("/api/v1/auth/passkey/options", {});
      expect(answer.statusCode).toBe(200);
    }
    const refused = await here.post("/api/v1/auth/passkey/options", {});
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["content-type"]).toContain("application/problem+json");
    expect(refused.body.code).toBe("rate_limited");
    const retryAfter = Number(refused.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
    expect((await there.post("/api/v1/auth/passkey/options", {})).statusCode).toBe(429);
    const rows = await t.services.db.selectFrom("webauthn_challenges").select("id").execute();
    expect(rows.length).toBeLessThanOrEqual(limit);

    const neighbour = createClient(t.app, { ip: "198.51.100.51" });
    expect((await neighbour.post("/api/v1/auth/passkey/options", {})).statusCode).toBe(200);
    t.services.clock.advance(windowSeconds);
    expect((await here.post("/api/v1/auth/passkey/options", {})).statusCode).toBe(200);
  });

  it("throttles sign-ups and reset requests per client address", async () => {
    const client = createClient(t.app, { ip: "198.51.100.60" });
    const { limit } = ANONYMOUS_WRITE_LIMITS.password_forgot;
    for (let i = 0; i < limit; i++) {
      expect(
        (await client.post("/api/v1/auth/password/forgot", { email: `nobody${i}@example.com` })).statusCode,
      ).toBe(202);
    }
    const refused = await client.post("/api/v1/auth/password/forgot", { email: "one-more@example.com" });
    expect(refused.statusCode).toBe(429);
    expect(refused.body.code).toBe("rate_limited");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);

    // Sign-ups count in their own lane: this address may still sign up, until its own limit.
    const signup = (i: number) =>
      client.post("/api/v1/auth/signup", {
        email: `signup${i}@example.com`,
        password: STRONG_PASSWORD,
        name: "Many Person",
        account_name: "Many Co",
      });
    for (let i = 0; i < ANONYMOUS_WRITE_LIMITS.signup.limit; i++)
      expect((await signup(i)).statusCode).toBe(201);
    const late = await signup(-1);
    expect(late.statusCode).toBe(429);
    expect(late.body.code).toBe("rate_limited");
  });
});
