import { describe, expect, it } from "vitest";
import { ApiError } from "../../web/src/api.js";
import {
  fieldFor,
  NO_ERRORS,
  onFields,
  passwordFailureFrom,
  passwordRefusal,
  toFormErrors,
  withoutFieldError,
} from "../../web/src/form-errors.js";

const SIGNUP = ["email", "name", "account_name", "password"];

function problem(init: {
  status?: number;
  code?: string;
  detail?: string;
  errors?: Array<{ path: string; code?: string; message: string }>;
}) {
  return new ApiError({
    status: init.status ?? 400,
    code: init.code ?? "validation_failed",
    detail: init.detail ?? "",
    errors: (init.errors ?? []).map((e) => ({ code: "invalid", ...e })),
  });
}

describe("form errors: messages on their fields, the banner for the rest", () => {
  it("puts every field message on its field and shows no banner when all are placed", () => {
    const errors = toFormErrors(
      problem({
        detail: "Enter an email address. Enter a name. Use at least 12 characters",
        errors: [
          { path: "email", message: "Enter an email address" },
          { path: "name", message: "Enter a name" },
          { path: "password", code: "min_length", message: "Use at least 12 characters" },
          { path: "password", code: "common_password", message: "Too common" },
        ],
      }),
      SIGNUP,
    );
    expect(errors.fields).toEqual({
      email: "Enter an email address",
      name: "Enter a name",
      password: "Use at least 12 characters",
    });
    // Nothing left over: the detail would only repeat the fields' messages.
    expect(errors.form).toBeNull();
  });

  it("sends only what belongs to no field to the banner, never a field's message again", () => {
    const errors = toFormErrors(
      problem({
        errors: [
          { path: "email", message: "Enter an email address" },
          { path: "captcha", message: "Enter an email address" },
          { path: "locale", message: "Locale must be a language tag like en or fr-FR" },
        ],
      }),
      SIGNUP,
    );
    expect(errors.fields).toEqual({ email: "Enter an email address" });
    expect(errors.form).toBe("Locale must be a language tag like en or fr-FR.");
    expect(errors.code).toBe("validation_failed");
  });

  it("uses the detail, or its explanation, only when nothing belongs to a field", () => {
    const wrong = problem({ status: 401, code: "invalid_credentials", detail: "Invalid email or password" });
    expect(toFormErrors(wrong, ["email", "password"])).toEqual({
      fields: {},
      form: "Invalid email or password",
      code: "invalid_credentials",
      clearsOnEdit: true,
    });
    const explained = toFormErrors(
      problem({ status: 403, code: "forbidden", detail: "Forbidden" }),
      SIGNUP,
      () => "Your role in this account doesn't allow this.",
    );
    expect(explained.form).toBe("Your role in this account doesn't allow this.");
    expect(explained.clearsOnEdit).toBe(false);
  });

  it("places list items and nested paths on the field that shows them", () => {
    const fields = ["emails", "team_ids", "page_size", "mfa.allowed_methods"];
    expect(fieldFor("emails.3", fields)).toBe("emails");
    expect(fieldFor("/emails/3", fields)).toBe("emails");
    expect(fieldFor("body.team_ids.0", fields)).toBe("team_ids");
    expect(fieldFor("default_list_filters.page_size", fields)).toBe("page_size");
    expect(fieldFor("mfa.allowed_methods", fields)).toBe("mfa.allowed_methods");
    expect(fieldFor("role_id", fields)).toBeUndefined();
  });

  it("clears a field's message when it is edited, and a banner about the input with it", () => {
    const refused = toFormErrors(
      problem({
        errors: [
          { path: "email", message: "Enter an email address" },
          { path: "name", message: "Enter a name" },
          { path: "locale", message: "Locale must be a language tag" },
        ],
      }),
      SIGNUP,
    );
    const edited = withoutFieldError(refused, "email");
    expect(edited.fields).toEqual({ name: "Enter a name" });
    expect(edited.form).toBeNull();

    // A wrong password is about what was typed: editing either field clears the banner.
    const wrong = toFormErrors(problem({ status: 401, code: "invalid_credentials", detail: "Wrong" }), [
      "email",
      "password",
    ]);
    expect(withoutFieldError(wrong, "password")).toEqual(NO_ERRORS);

    // A throttle or a missing permission does not depend on the fields: it stays until the next submit.
    const throttled = toFormErrors(
      problem({ status: 429, code: "rate_limited", detail: "Slow down" }),
      SIGNUP,
    );
    expect(withoutFieldError(throttled, "email")).toBe(throttled);
  });

  it("keeps browser-side findings on their fields", () => {
    const local = onFields({ confirm_password: "The passwords do not match." });
    expect(local.form).toBeNull();
    expect(withoutFieldError(local, "confirm_password")).toEqual(NO_ERRORS);
  });

  it("hands the checklist a refused password's rules, alone or reported with other fields", () => {
    const policy = problem({
      status: 422,
      code: "password_policy",
      errors: [{ path: "password", code: "min_length", message: "Use at least 12 characters" }],
    });
    expect(passwordFailureFrom(policy, "short")).toEqual({
      password: "short",
      codes: ["min_length"],
      messages: { min_length: "Use at least 12 characters" },
    });
    const mixed = problem({
      errors: [
        { path: "email", code: "too_short", message: "Enter an email address" },
        { path: "password", code: "common_password", message: "Too common" },
      ],
    });
    expect(passwordFailureFrom(mixed, "password")?.codes).toEqual(["common_password"]);
    // An empty password is missing, not refused by a rule.
    const empty = problem({ errors: [{ path: "password", code: "too_short", message: "Enter a password" }] });
    expect(passwordFailureFrom(empty, "")).toBeNull();
  });
});

describe("a refused password confirmation", () => {
  it("says so on the password field, and leaves other refusals to the caller", () => {
    expect(passwordRefusal(problem({ status: 400, code: "incorrect_password" }))).toBe(
      "The password is incorrect.",
    );
    expect(passwordRefusal(problem({ errors: [{ path: "password", message: "Enter your password" }] }))).toBe(
      "Enter your password",
    );
    expect(passwordRefusal(problem({ status: 409, code: "sole_root" }))).toBeUndefined();
    expect(passwordRefusal(new Error("network down"))).toBeUndefined();
  });
});
