import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError } from "../api";
import { explainError, toExplainedFormErrors } from "../error-messages";
import { type FormErrors, NO_ERRORS, onFields, onForm } from "../form-errors";
import { passkeyErrorText, reauthenticateWithPasskey } from "../passkeys";
import type { MfaStatus } from "../types";
import { useApi } from "../use-api";
import { Dialog, DialogActions } from "./dialog";
import { TextField } from "./field";
import { FormAlert } from "./form-alert";

type Mode = "password" | "totp" | "email" | "sms" | "recovery_code";

/** Methods whose code the server sends on request (`POST /auth/reauth/send`). */
const SENT_CODES: ReadonlySet<Mode> = new Set(["email", "sms"]);

const FIELDS = ["password", "code"] as const;

const COPY: Record<
  Mode,
  { switchTo: string; testId: string; explain: string; missing: string; wrong: string }
> = {
  password: {
    switchTo: "Use your password instead",
    testId: "reauth-use-password",
    explain: "This is a sensitive change. Enter your password to continue.",
    missing: "Enter your password.",
    wrong: "The password is incorrect.",
  },
  totp: {
    switchTo: "Use a code from your authenticator app instead",
    testId: "reauth-use-code",
    explain: "This is a sensitive change. Enter the 6-digit code from your authenticator app to continue.",
    missing: "Enter the code from your app.",
    wrong: "That code didn't work. Enter the current code from your app.",
  },
  email: {
    switchTo: "Use a code sent to your email instead",
    testId: "reauth-use-email",
    explain: "This is a sensitive change. Send yourself a code by email, then enter it to continue.",
    missing: "Enter the code from the email.",
    wrong: "That code didn't work. Check the latest email, or send a new code.",
  },
  sms: {
    switchTo: "Use a code sent by text message instead",
    testId: "reauth-use-sms",
    explain: "This is a sensitive change. Send yourself a code by text message, then enter it to continue.",
    missing: "Enter the code from the text message.",
    wrong: "That code didn't work. Check the latest text message, or send a new code.",
  },
  recovery_code: {
    switchTo: "Use a recovery code instead",
    testId: "reauth-use-recovery",
    explain: "This is a sensitive change. Enter one of your unused recovery codes to continue.",
    missing: "Enter a recovery code.",
    wrong: "That recovery code didn't work. Each one works once.",
  },
};

/** The user's ways to re-authenticate: the password always, then the second factors they really have. */
function modesOf(status: MfaStatus | null): Mode[] {
  if (!status?.enabled) return ["password"];
  const types = new Set<string>(status.factors.map((factor) => factor.type));
  return [
    "password",
    ...(["totp", "email", "sms"] as const).filter((type) => types.has(type)),
    ...(status.recovery_codes_remaining > 0 ? (["recovery_code"] as const) : []),
  ];
}

/**
 * "Confirm it's you": `POST /auth/reauth` with the password or a code of one of the user's factors, or
 * (`POST /auth/reauth/passkey`) one of their passkeys.
 */
export function ReauthDialog({ onDone }: { onDone: (confirmed: boolean) => void }) {
  const api = useApi();
  const formRef = useRef<HTMLFormElement>(null);
  const [mfa, setMfa] = useState<MfaStatus | null>(null);
  const [mode, setMode] = useState<Mode>("password");
  const [value, setValue] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState<"check" | "send" | "passkey" | null>(null);
  const [sent, setSent] = useState(false);
  const field = mode === "password" ? "password" : "code";
  const modes = modesOf(mfa);
  const hasPasskey = mfa?.factors.some((factor) => factor.type === "passkey") ?? false;

  // Without the list (e.g. while a password change is forced) the password alone is offered.
  useEffect(() => {
    let live = true;
    api.get<MfaStatus>("/me/mfa").then(
      (status) => live && setMfa(status),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [api]);

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
    setSent(false);
    setErrors(NO_ERRORS);
  }

  async function sendCode() {
    setBusy("send");
    setErrors(NO_ERRORS);
    try {
      await api.post("/auth/reauth/send", { method: mode });
      setSent(true);
    } catch (error) {
      setErrors(onForm(explainError(error)));
    }
    setBusy(null);
  }

  /** The browser asks for the passkey; a cancelled prompt or a refusal is shown here, the dialog stays. */
  async function confirmWithPasskey() {
    setBusy("passkey");
    setErrors(NO_ERRORS);
    try {
      await reauthenticateWithPasskey(api);
      onDone(true);
    } catch (error) {
      setBusy(null);
      setErrors(onForm(passkeyErrorText(error)));
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const code = value.replace(/\s/g, "");
    if (mode === "password" ? !value : !code) {
      setErrors(onFields({ [field]: COPY[mode].missing }));
      return;
    }
    setBusy("check");
    setErrors(NO_ERRORS);
    try {
      await api.post("/auth/reauth", mode === "password" ? { password: value } : { method: mode, code });
      onDone(true);
    } catch (error) {
      setBusy(null);
      if (
        error instanceof ApiError &&
        (error.code === "incorrect_password" || error.code === "invalid_code")
      ) {
        setErrors(onFields({ [field]: COPY[mode].wrong }));
      } else {
        setErrors(toExplainedFormErrors(error, FIELDS));
      }
    }
  }

  return (
    <Dialog
      title="Confirm it's you"
      onClose={() => onDone(false)}
      busy={busy !== null}
      testId="reauth-dialog"
    >
      <form ref={formRef} onSubmit={submit} noValidate data-mode={mode}>
        <p>{COPY[mode].explain}</p>
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
            key={mode}
            label={mode === "recovery_code" ? "Recovery code" : "Authentication code"}
            name="code"
            inputMode={mode === "recovery_code" ? "text" : "numeric"}
            autoComplete="one-time-code"
            spellCheck={false}
            autoCapitalize="none"
            required
            value={value}
            onValueChange={(next) => {
              setValue(next);
              setErrors(NO_ERRORS);
            }}
            error={errors.fields.code}
          />
        )}
        {SENT_CODES.has(mode) ? (
          <p className="form-aside">
            <button
              type="button"
              className="button button-secondary"
              onClick={sendCode}
              disabled={busy !== null}
              data-testid="reauth-send-code"
            >
              {busy === "send" ? "Sending…" : sent ? "Send a new code" : "Send code"}
            </button>
            {sent ? (
              <span className="field-hint" role="status" data-testid="reauth-code-sent">
                {mode === "sms"
                  ? "We texted a code to your phone. It is valid for 10 minutes."
                  : "We sent a code to your email address. It is valid for 10 minutes."}
              </span>
            ) : null}
          </p>
        ) : null}
        {hasPasskey ? (
          <p className="form-aside">
            <button
              type="button"
              className="button button-secondary"
              onClick={confirmWithPasskey}
              disabled={busy !== null}
              data-testid="reauth-use-passkey"
            >
              {busy === "passkey" ? "Waiting for your passkey…" : "Use a passkey"}
            </button>
          </p>
        ) : null}
        {modes.length > 1 ? (
          <ul className="form-aside reauth-methods" data-testid="reauth-methods">
            {modes
              .filter((other) => other !== mode)
              .map((other) => (
                <li key={other}>
                  <button
                    type="button"
                    className="link-button link-button-flush"
                    onClick={() => switchTo(other)}
                    data-testid={COPY[other].testId}
                  >
                    {COPY[other].switchTo}
                  </button>
                </li>
              ))}
          </ul>
        ) : null}
        <DialogActions>
          <button type="submit" className="button" disabled={busy !== null} data-testid="reauth-submit">
            {busy === "check" ? "Checking…" : "Continue"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => onDone(false)}
            disabled={busy !== null}
          >
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
