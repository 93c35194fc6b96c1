import { useCallback, useEffect, useRef, useState } from "react";
import { explainError } from "./error-messages";
import { type FormErrors, NO_ERRORS, onFields, toFormErrors, withoutFieldError } from "./form-errors";

/**
 * The error state of one form (web/README.md, "Errors and forms"). `fields` are the names of its
 * inputs, which is where the server's field errors land. After a refused submit, focus moves to the
 * first invalid input, whose aria-describedby reads its message out.
 */
export function useFormErrors(fields: readonly string[]) {
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const formRef = useRef<HTMLFormElement>(null);
  const [focusRequest, setFocusRequest] = useState(0);

  useEffect(() => {
    if (focusRequest === 0) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusRequest]);

  const show = useCallback((next: FormErrors) => {
    setErrors(next);
    if (Object.keys(next.fields).length > 0) setFocusRequest((count) => count + 1);
  }, []);

  const fieldsKey = fields.join("\n");
  return {
    errors,
    /** For the `<form ref>`: where focus goes after a refusal. */
    formRef,
    /** The user changed `field`: its message goes, and a banner about the input with it. */
    edited: useCallback((field: string) => setErrors((current) => withoutFieldError(current, field)), []),
    /** Checks made in the browser failed: messages on their fields, nothing is sent. */
    refuse: useCallback((fieldErrors: Record<string, string>) => show(onFields(fieldErrors)), [show]),
    /**
     * The server refused: its field errors onto the fields, the rest into the banner (explained in
     * plain words when nothing belongs to a field). `adjust` lets a page reword before showing.
     */
    fail: useCallback(
      (error: unknown, adjust?: (errors: FormErrors) => FormErrors) => {
        const mapped = toFormErrors(error, fieldsKey.split("\n"), explainError);
        show(adjust ? adjust(mapped) : mapped);
      },
      [fieldsKey, show],
    ),
    /** Shows errors made some other way (a banner of the page's own words). */
    show,
    clear: useCallback(() => setErrors(NO_ERRORS), []),
  };
}
