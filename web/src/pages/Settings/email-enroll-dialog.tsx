import { type FormEvent, useState } from "react";
import { ApiError } from "../../api";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { explainError, toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS } from "../../form-errors";
import { isReauthRequired } from "../../reauth-provider";
import type { EmailEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";
import { useSessionInfo } from "../../use-session";

const EMAIL_CODE = /^\d{6}$/;

type Props = {
  enrollment: EmailEnrollment;
  onVerified: (result: TotpVerification) => void;
  /** Like an unverified app, an unverified email factor never counts. */
  onClose: () => void;
};

/** Step two of turning on email codes: the server has mailed a code; typing it back confirms the factor. */
export function EmailEnrollDialog({ enrollment, onVerified, onClose }: Props) {
  const api = useApi();
  const { user } = useSessionInfo();
  const [factorId, setFactorId] = useState(enrollment.factor_id);
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState<"verify" | "resend" | null>(null);
  const [resent, setResent] = useState(false);

  async function verify(event: FormEvent) {
    event.preventDefault();
    const value = code.replace(/\s/g, "");
    if (!EMAIL_CODE.test(value)) {
      setErrors({ fields: { code: "Enter the 6-digit code from the email." }, form: null });
      return;
    }
    setBusy("verify");
    setErrors(NO_ERRORS);
    try {
      const result = await api.post<TotpVerification>(
        `/me/mfa/email/${encodeURIComponent(factorId)}/verify`,
        { code: value },
      );
      onVerified(result);
    } catch (error) {
      setBusy(null);
      if (error instanceof ApiError && error.code === "invalid_code") {
        setErrors({
          fields: { code: "That code didn't work. Check the latest email, or send a new code." },
          form: null,
        });
        return;
      }
      setErrors(toExplainedFormErrors(error, ["code"]));
    }
  }

  // A new send starts a new enrollment: the code in the new email belongs to the new factor id.
  async function resend() {
    setBusy("resend");
    setErrors(NO_ERRORS);
    setResent(false);
    try {
      const next = await api.post<EmailEnrollment>("/me/mfa/email");
      setFactorId(next.factor_id);
      setCode("");
      setResent(true);
    } catch (error) {
      if (!isReauthRequired(error)) setErrors({ fields: {}, form: explainError(error) });
    }
    setBusy(null);
  }

  return (
    <Dialog title="Turn on email codes" onClose={onClose} busy={busy !== null} testId="email-dialog">
      <form onSubmit={verify} noValidate>
        {errors.form ? <FormAlert testId="email-error">{errors.form}</FormAlert> : null}
        <p data-testid="email-dialog-sent">
          We sent a 6-digit code to <strong>{user.email}</strong>. Enter it below to confirm you get our
          emails.
        </p>
        <TextField
          label="Code from the email"
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
          <button type="submit" className="button" disabled={busy !== null} data-testid="email-verify">
            {busy === "verify" ? "Verifying…" : "Verify"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={resend}
            disabled={busy !== null}
            data-testid="email-resend"
          >
            {busy === "resend" ? "Sending…" : "Send a new code"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={onClose}
            disabled={busy !== null}
          >
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
