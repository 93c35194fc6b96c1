import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

describe.each(testDialects())("changing the login email on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());
  afterEach(() => t.services.clock.reset());

  const mailsTo = (to: string, subject?: RegExp) =>
    t.mails.filter((m) => m.to.toLowerCase() === to.toLowerCase() && (!subject || subject.test(m.subject)));
  const auditActions = async (userId: string) =>
    (
      await t.services.db
        .selectFrom("audit_events")
        .select(["action", "changes"])
        .where("target_id", "=", userId)
        .execute()
    ).map((e) => e.action);

  it("needs a fresh authentication, mails the new and the old address, and changes only on confirmation", async () => {
    const user = await signUpAndLogin(t, { email: "old@example.com", name: "Olga Old" });
    const other = createClient(t.app);
    await other.post("/api/v1/auth/login", { email: "old@example.com", password: STRONG_PASSWORD });
    t.services.clock.advance(11 * 60);

    const stale = await user.client.post("/api/v1/me/email", { new_email: "new@example.com" });
    expect(stale.statusCode).toBe(403);
    expect(stale.body.code).toBe("reauth_required");
    expect(mailsTo("new@example.com")).toHaveLength(0);

    const reauth = await user.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
    expect(reauth.statusCode).toBe(200);
    const asked = await user.client.post("/api/v1/me/email", { new_email: "New@Example.com" });
    expect(asked.statusCode, asked.payload).toBe(202);
    expect(asked.body).toEqual({ accepted: true });

    const link = await t.linkFor("New@Example.com", /Confirm your new email/);
    expect(link).toMatch(/^http:\/\/gatehouse\.test\/confirm-email-change\?token=[\w-]+$/);
    const confirmMail = mailsTo("New@Example.com", /Confirm your new email/)[0];
    expect(confirmMail?.text.match(/https?:\/\//g)).toHaveLength(1);
    const notice = mailsTo("old@example.com", /Someone asked to change your email/)[0];
    expect(notice?.text).toContain("New@Example.com");
    expect(notice?.text).toContain("If it wasn't you");

    // Nothing changed yet.
    expect((await user.client.get("/api/v1/me")).body.email).toBe("old@example.com");
    // The token is stored only as a hash.
    const stored = await t.services.db.selectFrom("email_change_requests").select("token_hash").execute();
    expect(stored.map((r) => r.token_hash)).not.toContain(tokenOf(link));

    const confirmed = await user.client.post("/api/v1/auth/email-change/confirm", { token: tokenOf(link) });
    expect(confirmed.statusCode, confirmed.payload).toBe(200);
    expect(confirmed.body).toEqual({ changed: true, email: "New@Example.com" });

    const me = await user.client.get("/api/v1/me");
    expect(me.statusCode).toBe(200);
    expect(me.body.email).toBe("New@Example.com");
    expect(me.body.email_verified).toBe(true);
    // The other session ended; the confirming one stays.
    expect((await other.get("/api/v1/me")).statusCode).toBe(401);
    await expect.poll(() => mailsTo("old@example.com", /Your email address was changed/).length).toBe(1);
    expect(mailsTo("old@example.com", /Your email address was changed/)[0]?.text).toContain(
      "New@Example.com",
    );

    // Replayed link.
    const replay = await createClient(t.app).post("/api/v1/auth/email-change/confirm", {
      token: tokenOf(link),
    });
    expect(replay.statusCode).toBe(400);
    expect(replay.body.code).toBe("invalid_token");

    // The old address no longer logs in; the new one does, whatever its case.
    const oldLogin = await createClient(t.app).post("/api/v1/auth/login", {
      email: "old@example.com",
      password: STRONG_PASSWORD,
    });
    expect(oldLogin.statusCode).toBe(401);
    const newLogin = await createClient(t.app).post("/api/v1/auth/login", {
      email: "new@example.com",
      password: STRONG_PASSWORD,
    });
    expect(newLogin.statusCode).toBe(200);
    expect(await auditActions(user.userId)).toEqual(
      expect.arrayContaining(["user.email_change_requested", "user.email_changed"]),
    );
  });

  it("answers the same when the new address belongs to someone else, and tells its owner instead", async () => {
    await signUpAndLogin(t, { email: "taken@example.com", name: "Tina Taken" });
    const user = await signUpAndLogin(t, { email: "asker@example.com" });
    const before = t.mails.length;
    const asked = await user.client.post("/api/v1/me/email", { new_email: "TAKEN@example.com" });
    expect(asked.statusCode).toBe(202);
    expect(asked.body).toEqual({ accepted: true });
    await expect.poll(() => mailsTo("taken@example.com", /Someone tried to use your email/).length).toBe(1);
    await expect.poll(() => mailsTo("asker@example.com", /Someone asked to change/).length).toBe(1);
    const sent = t.mails.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent.some((m) => /\?token=/.test(m.text))).toBe(false);
    expect((await user.client.get("/api/v1/me")).body.email).toBe("asker@example.com");
  });

  it("refuses the change when the address was taken before the link is used, and expired links", async () => {
    const user = await signUpAndLogin(t, { email: "slow@example.com" });
    expect((await user.client.post("/api/v1/me/email", { new_email: "wanted@example.com" })).statusCode).toBe(
      202,
    );
    const link = await t.linkFor("wanted@example.com", /Confirm your new email/);
    await signUpAndLogin(t, { email: "wanted@example.com" });
    const conflict = await createClient(t.app).post("/api/v1/auth/email-change/confirm", {
      token: tokenOf(link),
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.body.code).toBe("conflict");
    expect((await user.client.get("/api/v1/me")).body.email).toBe("slow@example.com");

    t.services.clock.advance(31);
    await user.client.post("/api/v1/auth/reauth", { password: STRONG_PASSWORD });
    expect((await user.client.post("/api/v1/me/email", { new_email: "later@example.com" })).statusCode).toBe(
      202,
    );
    const late = await t.linkFor("later@example.com", /Confirm your new email/);
    t.services.clock.advance(24 * 3600 + 1);
    const expired = await createClient(t.app).post("/api/v1/auth/email-change/confirm", {
      token: tokenOf(late),
    });
    expect(expired.statusCode).toBe(400);
    expect(expired.body.code).toBe("invalid_token");
  });

  it("lets a newer request supersede an older one, and pauses repeated requests", async () => {
    const user = await signUpAndLogin(t, { email: "twice@example.com" });
    expect((await user.client.post("/api/v1/me/email", { new_email: "first@example.com" })).statusCode).toBe(
      202,
    );
    const first = await t.linkFor("first@example.com");
    const tooSoon = await user.client.post("/api/v1/me/email", { new_email: "second@example.com" });
    expect(tooSoon.statusCode).toBe(429);
    expect(tooSoon.headers["retry-after"]).toBeDefined();
    t.services.clock.advance(31);
    expect((await user.client.post("/api/v1/me/email", { new_email: "second@example.com" })).statusCode).toBe(
      202,
    );
    const second = await t.linkFor("second@example.com");
    const stale = await createClient(t.app).post("/api/v1/auth/email-change/confirm", {
      token: tokenOf(first),
    });
    expect(stale.body.code).toBe("invalid_token");
    const ok = await createClient(t.app).post("/api/v1/auth/email-change/confirm", {
      token: tokenOf(second),
    });
    expect(ok.body.email).toBe("second@example.com");
    // Confirmed from a browser without the user's session: every session of the user ended.
    expect((await user.client.get("/api/v1/me")).statusCode).toBe(401);
  });

  it("confirms one token once when two confirmations race, and one address for one user", async () => {
    const user = await signUpAndLogin(t, { email: "racer@example.com" });
    await user.client.post("/api/v1/me/email", { new_email: "finish@example.com" });
    const token = tokenOf(await t.linkFor("finish@example.com"));
    const same = await Promise.all(
      [1, 2].map(() => createClient(t.app).post("/api/v1/auth/email-change/confirm", { token })),
    );
    expect(same.map((r) => r.statusCode).sort()).toEqual([200, 400]);

    const a = await signUpAndLogin(t, { email: "a-racer@example.com" });
    const b = await signUpAndLogin(t, { email: "b-racer@example.com" });
    await a.client.post("/api/v1/me/email", { new_email: "prize@example.com" });
    const tokenA = tokenOf(await t.linkFor("prize@example.com"));
    await b.client.post("/api/v1/me/email", { new_email: "prize@example.com" });
    const tokenB = tokenOf(await t.linkFor("prize@example.com"));
    expect(tokenA).not.toBe(tokenB);
    const both = await Promise.all(
      [tokenA, tokenB].map((tk) =>
        createClient(t.app).post("/api/v1/auth/email-change/confirm", { token: tk }),
      ),
    );
    expect(both.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const holders = await t.services.db
      .selectFrom("users")
      .select("id")
      .where("email_normalized", "=", "prize@example.com")
      .execute();
    expect(holders).toHaveLength(1);
  });

  it("rejects bad input with 4xx and checks CSRF", async () => {
    const user = await signUpAndLogin(t, { email: "inputs@example.com" });
    for (const new_email of ["not-an-email", `${"a".repeat(300)}@example.com`, "", "inputs@EXAMPLE.com"]) {
      const response = await user.client.post("/api/v1/me/email", { new_email });
      expect(response.statusCode, new_email).toBe(400);
    }
    const unicode = await user.client.post("/api/v1/me/email", { new_email: "jürgen@exämple.com" });
    expect(unicode.statusCode).toBe(400);
    expect(unicode.body.code).toBe("validation_failed");
    for (const token of ["x".repeat(300), "nope", "ä😀".repeat(40)]) {
      const response = await createClient(t.app).post("/api/v1/auth/email-change/confirm", { token });
      expect(response.statusCode, token).toBe(400);
    }
    const noCsrf = await user.client.post(
      "/api/v1/me/email",
      { new_email: "csrf@example.com" },
      { "x-csrf-token": "forged" },
    );
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.body.code).toBe("csrf_failed");

    t.services.clock.advance(31);
    await user.client.post("/api/v1/me/email", { new_email: "csrf2@example.com" });
    const token = tokenOf(await t.linkFor("csrf2@example.com"));
    // With a session cookie, the confirmation must carry that session's CSRF token.
    const forged = await user.client.post(
      "/api/v1/auth/email-change/confirm",
      { token },
      { "x-csrf-token": "forged" },
    );
    expect(forged.statusCode).toBe(403);
    expect(forged.body.code).toBe("csrf_failed");
    expect((await user.client.post("/api/v1/auth/email-change/confirm", { token })).statusCode).toBe(200);
  });

  it("makes links mailed to the old address useless after the change", async () => {
    const user = await signUpAndLogin(t, { email: "mailbox@example.com" });
    await createClient(t.app).post("/api/v1/auth/password/forgot", { email: "mailbox@example.com" });
    const reset = tokenOf(await t.linkFor("mailbox@example.com", /Reset your password/));
    await user.client.post("/api/v1/me/email", { new_email: "mailbox2@example.com" });
    await user.client.post("/api/v1/auth/email-change/confirm", {
      token: tokenOf(await t.linkFor("mailbox2@example.com")),
    });
    const used = await createClient(t.app).post("/api/v1/auth/password/reset", {
      token: reset,
      password: "Another-Harbor-Light-9",
    });
    expect(used.statusCode).toBe(400);
    expect(used.body.code).toBe("invalid_token");
  });
});
