import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { toExplainedFormErrors } from "../error-messages";
import { type FormErrors, NO_ERRORS } from "../form-errors";
import { useApi } from "../use-api";
import { useSession } from "../use-session";
import { Dialog, DialogActions } from "./dialog";
import { TextField } from "./field";
import { FormAlert } from "./form-alert";

type Mode = "password" | "totp";

const FIELDS = ["password", "code"] as const;

/** "Confirm it's you": `POST /auth/reauth` with the password or an authenticator code. */
export function ReauthDialog({ onDone }: { onDone: (confirmed: boolean) => void }) {
  const api = useApi();
  const { state } = useSession();
  const canUseCode = state.status === "authenticated" && state.info.user.mfa_enabled;
  const formRef = useRef<HTMLFormElement>(null);
  const [mode, setMode] = useState<Mode>("password");
  const [value, setValue] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const field = mode === "password" ? "password" : "code";

  // The Dialog focuses the first field when it opens; a switch of method moves focus to the new one.
  const switched = useRef(false);
  useEffect(() => {
    void mode;
    if (switched.current) formRef.current?.querySelector<HTMLInputElement>("input")?.focus();
    switched.current = true;
  }, [mode]);

  function switchTo(next: Mode) {
    setMode(next);
    setValue("");
    setErrors(NO_ERRORS);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const code = value.replace(/\s/g, "");
    if (mode === "password" ? !value : !code) {
      setErrors({
        fields: { [field]: mode === "password" ? "Enter your password." : "Enter the code from your app." },
        form: null,
      });
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      await api.post("/auth/reauth", mode === "password" ? { password: value } : { method: "totp", code });
      onDone(true);
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiError && error.code === "incorrect_password") {
        setErrors({ fields: { password: "The password is incorrect." }, form: null });
      } else if (error instanceof ApiError && error.code === "invalid_code") {
        setErrors({
          fields: { code: "That code didn't work. Enter the current code from your app." },
          form: null,
        });
      } else {
        setErrors(toExplainedFormErrors(error, FIELDS));
      }
    }
  }

  return (
    <Dialog title="Confirm it's you" onClose={() => onDone(false)} busy={busy} testId="reauth-dialog">
      <form ref={formRef} onSubmit={submit} noValidate>
        <p>
          {mode === "password"
            ? "This is a sensitive change. Enter your password to continue."
            : "This is a sensitive change. Enter the 6-digit code from your authenticator app to continue."}
        </p>
        {errors.form ? <FormAlert testId="reauth-error">{errors.form}</FormAlert> : null}
        {mode === "password" ? (
          <TextField
            key="password"
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={value}
            onValueChange={(next) => {
              setValue(next);
              setErrors(NO_ERRORS);
            }}
            error={errors.fields.password}
          />
        ) : (
          <TextField
            key="code"
            label="Authentication code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            spellCheck={false}
            required
            value={value}
            onValueChange={(next) => {
              setValue(next);
              setErrors(NO_ERRORS);
            }}
            error={errors.fields.code}
          />
        )}
        {canUseCode ? (
          <p className="form-aside">
            {mode === "password" ? (
              <button
                type="button"
                className="link-button link-button-flush"
                onClick={() => switchTo("totp")}
                data-testid="reauth-use-code"
              >
                Use a code from your authenticator app instead
              </button>
            ) : (
              <button
                type="button"
                className="link-button link-button-flush"
                onClick={() => switchTo("password")}
                data-testid="reauth-use-password"
              >
                Use your password instead
              </button>
            )}
          </p>
        ) : null}
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="reauth-submit">
            {busy ? "Checking…" : "Continue"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => onDone(false)}
            disabled={busy}
          >
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
