// One way to show what is wrong with a form (web/README.md, "Errors and forms"): every message that
// belongs to a field sits under that field; the banner holds only what belongs to no field of the
// form, never repeats a field's message, and goes when the user edits what it was about.
// ".js": test/web imports this module with Node's resolution; Vite finds the .ts all the same.
import { ApiError, describeError } from "./api.js";
import type { ServerPasswordFailure } from "./password-rules.js";

export type FormErrors = {
  /** Messages shown under their inputs, by field name. */
  fields: Record<string, string>;
  /** The banner: what belongs to no field of the form; null when every message sits on a field. */
  form: string | null;
  /** The API code behind the banner (`data-code` on the alert), when the server sent it. */
  code: string | null;
  /** The banner is about what was typed (a wrong password, an unknown role): editing a field clears it. */
  clearsOnEdit: boolean;
};

export const NO_ERRORS: FormErrors = { fields: {}, form: null, code: null, clearsOnEdit: false };

/** Checks made in the browser: messages on their fields, no banner. */
export function onFields(fields: Record<string, string>): FormErrors {
  return { ...NO_ERRORS, fields };
}

/** A banner that belongs to no field. `clearsOnEdit`: it is about the input, so editing clears it. */
export function onForm(
  text: string,
  options: { code?: string | null; clearsOnEdit?: boolean } = {},
): FormErrors {
  return {
    ...NO_ERRORS,
    form: text,
    code: options.code ?? null,
    clearsOnEdit: options.clearsOnEdit ?? false,
  };
}

// Statuses whose answer depends on what was typed. The others (403 forbidden, 429, 5xx, no network)
// stay until the next submit: editing a field does not change them.
const ABOUT_THE_INPUT = new Set([400, 401, 409, 422]);

/** A problem's `errors[].path` ("/emails/3", "body.name", "team_ids.0") in dotted form. */
export function normalizePath(path: string): string {
  return path
    .replace(/^\/+/, "")
    .replace(/^body[./]/, "")
    .replaceAll("/", ".");
}

/**
 * The form field a problem path belongs to: itself, its leaf ("default_list_filters.page_size" →
 * "page_size"), or the list it is an item of ("emails.3" → "emails"); undefined when the form has none.
 */
export function fieldFor(path: string, formFields: readonly string[]): string | undefined {
  const dotted = normalizePath(path);
  if (formFields.includes(dotted)) return dotted;
  const segments = dotted.split(".");
  const leaf = segments.at(-1);
  if (leaf && formFields.includes(leaf)) return leaf;
  for (let end = segments.length - 1; end > 0; end--) {
    const prefix = segments.slice(0, end).join(".");
    if (formFields.includes(prefix)) return prefix;
  }
  return undefined;
}

const sentence = (text: string) => (/[.!?…]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/**
 * Splits a refused request between the form's fields and its banner. Each field shows its first
 * message; messages about fields the form does not show go to the banner (unless a field already
 * says the same). Only when nothing at all belongs to a field does the banner say what the whole
 * answer means: `explain` (the server's `detail` by default, or a plain-language explanation).
 */
export function toFormErrors(
  error: unknown,
  formFields: readonly string[],
  explain: (error: unknown) => string = describeError,
): FormErrors {
  if (!(error instanceof ApiError) || error.status === 429)
    return onForm(explain(error), { code: error instanceof ApiError ? error.code : null });
  const fields: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const entry of error.errors) {
    const field = fieldFor(entry.path, formFields);
    if (field) fields[field] ??= entry.message;
    else unplaced.push(entry.message);
  }
  const placed = new Set(Object.values(fields).map(sentence));
  const rest = [...new Set(unplaced.map(sentence))].filter((message) => !placed.has(message));
  const banner =
    Object.keys(fields).length > 0
      ? rest.join(" ") || null
      : error.errors.length > 0 && error.code === "validation_failed"
        ? rest.join(" ")
        : explain(error);
  return {
    fields,
    form: banner,
    code: banner ? error.code : null,
    clearsOnEdit: ABOUT_THE_INPUT.has(error.status),
  };
}

/** The user changed `field`: its message goes, and so does a banner about the input. */
export function withoutFieldError(errors: FormErrors, field: string): FormErrors {
  const clearsBanner = errors.clearsOnEdit && errors.form !== null;
  if (!(field in errors.fields) && !clearsBanner) return errors;
  const { [field]: _dropped, ...fields } = errors.fields;
  return clearsBanner ? { ...NO_ERRORS, fields } : { ...errors, fields };
}

/** The `code`s of password policy rules (docs/api-identity.md), as opposed to "Enter a password". */
const POLICY_RULES = new Set([
  "min_length",
  "max_length",
  "require_upper",
  "require_lower",
  "require_digit",
  "require_special",
  "contains_email",
  "contains_name",
  "common_password",
  "min_strength",
  "reused",
]);

/**
 * Per-rule failures of a refused password, for its checklist: every entry of a 422
 * `password_policy`, or the entries on `field` of a 400 that reported the password with other fields.
 */
export function passwordFailureFrom(
  error: unknown,
  password: string,
  field = "password",
): ServerPasswordFailure | null {
  if (!(error instanceof ApiError)) return null;
  const entries =
    error.code === "password_policy"
      ? error.errors
      : error.code === "validation_failed"
        ? error.errors.filter((entry) => normalizePath(entry.path) === field && POLICY_RULES.has(entry.code))
        : [];
  if (entries.length === 0) return null;
  const messages: Record<string, string> = {};
  for (const entry of entries) messages[entry.code] ??= entry.message;
  return { password, codes: Object.keys(messages), messages };
}

/** What a new-password field says when the server refused the password: its checklist has the rules. */
export const PASSWORD_REFUSED = "This password does not meet every requirement below.";

/**
 * The message for a password field when a password confirmation was refused (a wrong password, or
 * a field error about it); undefined when the refusal is about something else.
 */
export function passwordRefusal(error: unknown): string | undefined {
  const message = toFormErrors(error, ["password"]).fields.password;
  if (error instanceof ApiError && (error.code === "incorrect_password" || message))
    return message ?? "The password is incorrect.";
  return undefined;
}
