import { ApiError, describeError } from "./api";

export type FormErrors = { fields: Record<string, string>; form: string | null };

export const NO_ERRORS: FormErrors = { fields: {}, form: null };

/**
 * Splits an API failure into messages for the form's own inputs and one form-level
 * message; errors about fields the form does not show are surfaced at form level.
 */
export function toFormErrors(error: unknown, formFields: readonly string[]): FormErrors {
  if (!(error instanceof ApiError) || error.status === 429) return { fields: {}, form: describeError(error) };
  const fields: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const [path, message] of Object.entries(error.fieldErrors())) {
    // Nested fields come as dotted paths ("default_list_filters.page_size"); inputs use the leaf name.
    const field = formFields.includes(path) ? path : path.split(".").pop();
    if (field && formFields.includes(field)) fields[field] ??= message;
    else unplaced.push(message);
  }
  if (Object.keys(fields).length === 0) return { fields, form: unplaced.join(" ") || error.detail };
  return { fields, form: ["Please check the highlighted fields.", ...unplaced].join(" ") };
}

/** Drops a field's message once the user edits that field; the form-level one stays until the next submit. */
export function withoutFieldError(errors: FormErrors, field: string): FormErrors {
  if (!(field in errors.fields)) return errors;
  const { [field]: _dropped, ...fields } = errors.fields;
  return { ...errors, fields };
}
