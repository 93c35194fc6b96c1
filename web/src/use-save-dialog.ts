import { useState } from "react";
import { useApi } from "./use-api";
import { useFormErrors } from "./use-form-errors";

/**
 * The state of a create-or-edit dialog: field errors (see use-form-errors.ts: a field's error, and a
 * banner about the input, clear when it changes), a busy flag, and `save`, which PATCHes the existing
 * object or POSTs a new one and maps a refusal onto the dialog's fields.
 */
export function useSaveDialog(fields: readonly string[]) {
  const api = useApi();
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(fields);
  const [busy, setBusy] = useState(false);

  return {
    errors,
    /** For the dialog's `<form ref>`: focus moves to the first invalid field after a refusal. */
    formRef,
    busy,
    clearError: edited,
    /** Client-side checks that failed: shown at their fields, nothing is sent. */
    refuse,
    async save<T>(
      target: { update: string } | { create: string },
      body: unknown,
      onSaved: (saved: T) => void,
    ) {
      setBusy(true);
      clear();
      try {
        onSaved(
          "update" in target
            ? await api.patch<T>(target.update, body)
            : await api.post<T>(target.create, body),
        );
      } catch (caught) {
        fail(caught);
        setBusy(false);
      }
    },
  };
}
