import { useState } from "react";
import { toExplainedFormErrors } from "./error-messages";
import { NO_ERRORS, withoutFieldError } from "./form-errors";
import { useApi } from "./use-api";

type Errors = ReturnType<typeof toExplainedFormErrors>;
const NONE: Errors = { ...NO_ERRORS, code: null };

/**
 * The state of a create-or-edit dialog: field errors (a field's error clears when it changes), a busy
 * flag, and `save`, which PATCHes the existing object or POSTs a new one and maps a refusal onto the
 * dialog's fields.
 */
export function useSaveDialog(fields: readonly string[]) {
  const api = useApi();
  const [errors, setErrors] = useState<Errors>(NONE);
  const [busy, setBusy] = useState(false);

  return {
    errors,
    busy,
    clearError: (field: string) =>
      setErrors((current) => ({ ...withoutFieldError(current, field), code: current.code })),
    /** Client-side checks that failed: shown at their fields, nothing is sent. */
    refuse: (fieldErrors: Record<string, string>) =>
      setErrors({ fields: fieldErrors, form: null, code: null }),
    async save<T>(
      target: { update: string } | { create: string },
      body: unknown,
      onSaved: (saved: T) => void,
    ) {
      setBusy(true);
      setErrors(NONE);
      try {
        onSaved(
          "update" in target
            ? await api.patch<T>(target.update, body)
            : await api.post<T>(target.create, body),
        );
      } catch (caught) {
        setErrors(toExplainedFormErrors(caught, fields));
        setBusy(false);
      }
    },
  };
}
