import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";

/** Links mailed before a password change or reset must not work after it. */
describe.each(testDialects())("links outstanding across a password change on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const forgot = async (email: string) => {
    await createClient(t.app).post("/api/v1/auth/password/forgot", { email });
    return tokenOf(await t.linkFor(email, /Reset your password/));
  };
  const reset = (token: string, password: string) =>
    createClient(t.app).post("/api/v1/auth/password/reset", { token, password });
  const askEmailChange = async (client: ReturnType<typeof createClient>, newEmail: string) => {
    const asked = await client.post("/api/v1/me/email", { new_email: newEmail });
    expect(asked.statusCode, asked.payload).toBe(202);
    return tokenOf(await t.linkFor(newEmail, /Confirm your new email/));
  };
  const confirm = (token: string) => createClient(t.app).post("/api/v1/auth/email-change/confirm", { token });

  it("ends reset links when the password is changed", async () => {
    const { client } = await signUpAndLogin(t, { email: "changer@example.com" });
    const link = await forgot("changer@example.com");
    const changed = await client.post("/api/v1/me/password", {
      current_password: STRONG_PASSWORD,
      new_password: "Changed-Harbor-Light-5",
    });
    expect(changed.statusCode, changed.payload).toBe(200);

    const stale = await reset(link, "Attacker-Harbor-Light-6");
    expect(stale.statusCode).toBe(400);
    expect(stale.body.code).toBe("invalid_token");
    const login = await createClient(t.app).post("/api/v1/auth/login", {
      email: "changer@example.com",
      password: "Changed-Harbor-Light-5",
    });
    expect(login.statusCode).toBe(200);
  });

  it("ends an earlier reset link when the password is reset through a newer one", async () => {
    await signUpAndLogin(t, { email: "twice@example.com" });
    const first = await forgot("twice@example.com");
    const second = await forgot("twice@example.com");
    expect(second).not.toBe(first);
    expect((await reset(second, "Second-Harbor-Light-7")).statusCode).toBe(200);
    const stale = await reset(first, "First-Harbor-Light-8");
    expect(stale.statusCode).toBe(400);
    expect(stale.body.code).toBe("invalid_token");
  });

  it("ends a pending email-change confirmation when the password is changed", async () => {
    const { client } = await signUpAndLogin(t, { email: "moving@example.com" });
    const token = await askEmailChange(client, "hijack@example.net");
    const changed = await client.post("/api/v1/me/password", {
      current_password: STRONG_PASSWORD,
      new_password: "Quartz-Meadow-Lantern-9",
    });
    expect(changed.statusCode, changed.payload).toBe(200);

    const stale = await confirm(token);
    expect(stale.statusCode).toBe(400);
    expect(stale.body.code).toBe("invalid_token");
    expect((await client.get("/api/v1/me")).body.email).toBe("moving@example.com");
  });

  it("ends a pending email-change confirmation when the password is reset", async () => {
    const { client } = await signUpAndLogin(t, { email: "resetter@example.com" });
    const token = await askEmailChange(client, "hijack2@example.net");
    expect((await reset(await forgot("resetter@example.com"), "Reset-Harbor-Light-10")).statusCode).toBe(200);

    const stale = await confirm(token);
    expect(stale.statusCode).toBe(400);
    expect(stale.body.code).toBe("invalid_token");
    const me = await createClient(t.app).post("/api/v1/auth/login", {
      email: "resetter@example.com",
      password: "Reset-Harbor-Light-10",
    });
    expect(me.statusCode).toBe(200);
    expect(me.body.user.email).toBe("resetter@example.com");
  });
});
