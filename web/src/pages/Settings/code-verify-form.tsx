import { type FormEvent, type ReactNode, useState } from "react";
import { ApiError } from "../../api";
import { DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { explainError, toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS, onFields, onForm } from "../../form-errors";
import { isReauthRequired } from "../../reauth-provider";
import type { TotpVerification } from "../../types";
import { useApi } from "../../use-api";

const SENT_CODE = /^\d{6}$/;

type Props = {
  /** What was sent where. */
  intro: ReactNode;
  /** Where the code went, as the field label says it: "the email", "the text message". */
  source: string;
  /** `POST` target that confirms the factor with `{code}`. */
  verifyPath: string;
  /** Sends a new code (a new enrollment); the caller updates `verifyPath` with the new factor. */
  resend: () => Promise<void>;
  onVerified: (result: TotpVerification) => void;
  onClose: () => void;
  /** Prefix of the `data-testid`s: `<prefix>-verify`, `<prefix>-resend`, `<prefix>-error`. */
  testPrefix: string;
  /** Tells the dialog to refuse closing while a request runs. */
  onBusyChange?: (busy: boolean) => void;
};

/** The second step of turning on a factor whose code we send (email, text message): type it back. */
export function CodeVerifyForm({
  intro,
  source,
  verifyPath,
  resend,
  onVerified,
  onClose,
  testPrefix,
  onBusyChange,
}: Props) {
  const api = useApi();
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusyState] = useState<"verify" | "resend" | null>(null);
  const [resent, setResent] = useState(false);
  const setBusy = (value: "verify" | "resend" | null) => {
    setBusyState(value);
    onBusyChange?.(value !== null);
  };

  async function verify(event: FormEvent) {
    event.preventDefault();
    const value = code.replace(/\s/g, "");
    if (!SENT_CODE.test(value)) {
      setErrors(onFields({ code: `Enter the 6-digit code from ${source}.` }));
      return;
    }
    setBusy("verify");
    setErrors(NO_ERRORS);
    try {
      onVerified(await api.post<TotpVerification>(verifyPath, { code: value }));
    } catch (error) {
      setBusy(null);
      if (error instanceof ApiError && error.code === "invalid_code") {
        setErrors(
          onFields({
            code: `That code didn't work. Check the latest one from ${source}, or send a new code.`,
          }),
        );
        return;
      }
      setErrors(toExplainedFormErrors(error, ["code"]));
    }
  }

  async function sendAgain() {
    setBusy("resend");
    setErrors(NO_ERRORS);
    setResent(false);
    try {
      await resend();
      setCode("");
      setResent(true);
    } catch (error) {
      if (!isReauthRequired(error)) setErrors(onForm(explainError(error)));
    }
    setBusy(null);
  }

  return (
    <form onSubmit={verify} noValidate>
      {errors.form ? (
        <FormAlert testId={`${testPrefix}-error`} code={errors.code}>
          {errors.form}
        </FormAlert>
      ) : null}
      {intro}
      <TextField
        label={`Code from ${source}`}
        name="code"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={7}
        spellCheck={false}
        required
        value={code}
        onValueChange={(value) => {
          setCode(value);
          setErrors(NO_ERRORS);
        }}
        error={errors.fields.code}
      />
      <p className="field-hint" role="status">
        {resent ? "We sent a new code. Only the newest one works." : null}
      </p>
      <DialogActions>
        <button
          type="submit"
          className="button"
          disabled={busy !== null}
          data-testid={`${testPrefix}-verify`}
        >
          {busy === "verify" ? "Verifying…" : "Verify"}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={sendAgain}
          disabled={busy !== null}
          data-testid={`${testPrefix}-resend`}
        >
          {busy === "resend" ? "Sending…" : "Send a new code"}
        </button>
        <button type="button" className="button button-secondary" onClick={onClose} disabled={busy !== null}>
          Cancel
        </button>
      </DialogActions>
    </form>
  );
}
