import type { ErrorObject } from "ajv";
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
import { fieldLabel, toFieldErrors } from "./validation.js";

type FieldError = { path: string; code: string; message: string };

/** A message that a form shows under its field: a sentence, never "path: …". */
function expectPlain(errors: FieldError[], detail: string) {
  for (const error of errors) {
    expect(error.message, error.path).not.toMatch(new RegExp(`^${error.path.replaceAll(".", "\\.")}\\b`));
    expect(error.message, error.path).not.toMatch(/^(Must|Not a valid)\b/);
    expect(detail).not.toContain(`${error.path}:`);
  }
}

/** The first message of each field: the one a form shows. */
const byPath = (errors: FieldError[]) =>
  Object.fromEntries([...errors].reverse().map((e) => [e.path, e.message]));

describe("field error messages", () => {
  const ajvError = (keyword: string, instancePath: string, params: Record<string, unknown>): ErrorObject => ({
    keyword,
    instancePath,
    schemaPath: `#/${keyword}`,
    params,
  });

  it("names fields as a person would", () => {
    expect(fieldLabel("account_name")).toBe("Account name");
    expect(fieldLabel("email")).toBe("Email address");
    expect(fieldLabel("ip_allowlist.2")).toBe("Item 3 of IP allowlist");
    expect(fieldLabel("default_list_filters.page_size")).toBe("Page size");
    expect(fieldLabel("avatar_url")).toBe("Avatar URL");
  });

  it("keeps a short value's form complaint: only an empty one drops it", () => {
    const errors = toFieldErrors(
      [
        ajvError("minLength", "/username", { limit: 3 }),
        ajvError("pattern", "/username", { pattern: "^[A-Za-z0-9_.-]+$" }),
      ],
      "body",
    );
    expect(errors.map((e) => e.code)).toEqual(["too_short", "invalid_format"]);
    expect(errors[0]?.message).toBe("Username must be at least 3 characters");
  });

  it("says what to do, per kind of problem, without the path", () => {
    const errors = toFieldErrors(
      [
        ajvError("minLength", "/email", { limit: 1 }),
        ajvError("format", "/email", { format: "email" }),
        ajvError("minLength", "/account_name", { limit: 1 }),
        ajvError("maxLength", "/first_name", { limit: 100 }),
        ajvError("required", "", { missingProperty: "password" }),
        ajvError("pattern", "/username", { pattern: "^[A-Za-z0-9_.-]+$" }),
        ajvError("type", "/first_name", { type: "string" }),
        ajvError("maximum", "/limit", { limit: 200, comparison: "<=" }),
        ajvError("format", "/timezone", { format: "timezone" }),
        ajvError("additionalProperties", "", { additionalProperty: "email" }),
      ],
      "body",
    );
    expect(errors).toEqual([
      // An empty value is missing: its malformed-address complaint would add nothing.
      { path: "email", code: "too_short", message: "Enter an email address" },
      { path: "account_name", code: "too_short", message: "Enter an account name" },
      { path: "first_name", code: "too_long", message: "First name must be at most 100 characters" },
      { path: "password", code: "required", message: "Password is required" },
      {
        path: "username",
        code: "invalid_format",
        message: "Username can contain only letters, digits, dots, dashes and underscores",
      },
      { path: "first_name", code: "invalid_type", message: "First name must be text" },
      { path: "limit", code: "too_large", message: "Limit must be 200 or less" },
      { path: "timezone", code: "invalid_timezone", message: "Use an IANA time zone such as Europe/Paris" },
      { path: "email", code: "unknown_field", message: 'This request has no field "email"' },
    ]);
  });
});

describe.each(testDialects())("every field problem in one answer on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const signup = (body: Record<string, unknown>) => createClient(t.app).post("/api/v1/auth/signup", body);

  it("reports every bad sign-up field at once, the password policy included", async () => {
    const response = await signup({ email: "", name: "   ", account_name: "", password: "password" });
    expect(response.statusCode).toBe(400);
    expect(response.body.code).toBe("validation_failed");
    const messages = byPath(response.body.errors);
    expect(messages).toMatchObject({
      email: "Enter an email address",
      name: "Enter a name",
      account_name: "Enter an account name",
    });
    const password = (response.body.errors as FieldError[]).filter((e) => e.path === "password");
    expect(password.map((e) => e.code).sort()).toEqual(["common_password", "min_length", "min_strength"]);
    expect(response.body.detail).toMatch(/^Enter an email address\. Enter a name\. Enter an account name\. /);
    expectPlain(response.body.errors, response.body.detail);
  });

  it("reports a malformed address with a weak password together", async () => {
    const response = await signup({
      email: "not-an-address",
      name: "Ada Lovelace",
      account_name: "Engines",
      password: "short",
    });
    expect(response.statusCode).toBe(400);
    expect(byPath(response.body.errors)).toMatchObject({
      email: "Enter an email address like name@example.com",
      password: "Use at least 12 characters",
    });
    expectPlain(response.body.errors, response.body.detail);
  });

  it("keeps a refused password alone a 422 password_policy", async () => {
    const response = await signup({
      email: "alone@example.com",
      name: "Alone Person",
      account_name: "Alone Co",
      password: "password",
    });
    expect(response.statusCode).toBe(422);
    expect(response.body.code).toBe("password_policy");
  });

  it("answers a body that is not an object with a plain 400", async () => {
    for (const body of [[], '"text"', 42]) {
      const response = await createClient(t.app).post("/api/v1/auth/signup", body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.body.code).toBe("validation_failed");
      expectPlain(response.body.errors, response.body.detail);
    }
    const none = await createClient(t.app).post("/api/v1/auth/signup", {});
    expect((none.body.errors as FieldError[]).map((e) => e.path).sort()).toEqual([
      "account_name",
      "email",
      "name",
      "password",
    ]);
  });

  it("reports every bad profile field at once, and stores the mobile in E.164", async () => {
    const { client } = await signUpAndLogin(t, { email: "profile-all@example.com" });
    const bad = await client.patch("/api/v1/me", {
      username: "a b",
      timezone: "Mars/Olympus_Mons",
      mobile: "07700 900123",
      first_name: "x".repeat(101),
    });
    expect(bad.statusCode).toBe(400);
    expect(byPath(bad.body.errors)).toEqual({
      username: "Username can contain only letters, digits, dots, dashes and underscores",
      timezone: "Use an IANA time zone such as Europe/Paris",
      mobile: "Enter a mobile number with its country code, like +44 7700 900123",
      first_name: "First name must be at most 100 characters",
    });
    expect(bad.body.errors).toContainEqual(
      expect.objectContaining({ path: "timezone", code: "invalid_timezone" }),
    );
    expectPlain(bad.body.errors, bad.body.detail);

    const ok = await client.patch("/api/v1/me", { mobile: "+44 (0)7700 900-123" });
    expect(ok.statusCode, ok.payload).toBe(200);
    expect(ok.body.mobile).toBe("+447700900123");
    expect((await client.patch("/api/v1/me", { mobile: "0033 6 12 34 56 78" })).body.mobile).toBe(
      "+33612345678",
    );
    // Not a length any number of that country has.
    expect((await client.patch("/api/v1/me", { mobile: "+44 1234 5678" })).statusCode).toBe(400);
  });

  it("reports an unknown role and unknown teams of an invitation together", async () => {
    const { client, accountId } = await signUpAndLogin(t, { email: "invite-all@example.com" });
    const response = await client.post(`/api/v1/accounts/${accountId}/invitations`, {
      emails: ["someone@example.com"],
      role_id: "role_missing",
      team_ids: ["team_missing_a", "team_missing_b"],
    });
    expect(response.statusCode).toBe(400);
    expect((response.body.errors as FieldError[]).map((e) => e.path)).toEqual([
      "role_id",
      "team_ids.0",
      "team_ids.1",
    ]);
    expectPlain(response.body.errors, response.body.detail);

    const schema = await client.post(`/api/v1/accounts/${accountId}/invitations`, {
      emails: [],
      first_name: 7,
      team_ids: "all",
    });
    expect(schema.statusCode).toBe(400);
    expect(byPath(schema.body.errors)).toEqual({
      emails: "Emails must list at least one item",
      first_name: "First name must be text",
      team_ids: "Team IDs must be a list",
    });
  });

  it("reports a missing first name with a refused password when accepting an invitation", async () => {
    const { client, accountId } = await signUpAndLogin(t, { email: "accept-all@example.com" });
    await client.post(`/api/v1/accounts/${accountId}/invitations`, { emails: ["newcomer@example.com"] });
    const token = tokenOf(await t.linkFor("newcomer@example.com", /invited/));
    const response = await createClient(t.app).post("/api/v1/invitations/accept", {
      token,
      first_name: " ",
      password: "password",
    });
    expect(response.statusCode).toBe(400);
    expect(byPath(response.body.errors)).toMatchObject({ first_name: "Enter a first name" });
    expect((response.body.errors as FieldError[]).some((e) => e.path === "password")).toBe(true);
    const accepted = await createClient(t.app).post("/api/v1/invitations/accept", {
      token,
      first_name: "New",
      password: STRONG_PASSWORD,
    });
    expect(accepted.statusCode, accepted.payload).toBe(200);
  });
});
