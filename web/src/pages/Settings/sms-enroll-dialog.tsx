import { type FormEvent, useState } from "react";
import { ApiError } from "../../api";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS } from "../../form-errors";
import { isReauthRequired } from "../../reauth-provider";
import type { SmsEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";

const SMS_CODE = /^\d{6}$/;

type Props = {
  onVerified: (result: TotpVerification) => void;
  onClose: () => void;
};

/**
 * Turning on text-message codes: the number first (a code is texted to it), then that code back. Only a
 * number proven this way becomes a second factor.
 */
export function SmsEnrollDialog({ onVerified, onClose }: Props) {
  const api = useApi();
  const [phone, setPhone] = useState("");
  const [enrollment, setEnrollment] = useState<SmsEnrollment | null>(null);
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState<"send" | "verify" | null>(null);
  const [resent, setResent] = useState(false);

  async function send(event?: FormEvent) {
    event?.preventDefault();
    if (!phone.trim()) {
      setErrors({ fields: { phone: "Enter your mobile number with its country code." }, form: null });
      return;
    }
    setBusy("send");
    setErrors(NO_ERRORS);
    try {
      const next = await api.post<SmsEnrollment>("/me/mfa/sms", { phone });
      setResent(enrollment !== null);
      setEnrollment(next);
      setCode("");
    } catch (error) {
      if (!isReauthRequired(error)) setErrors(toExplainedFormErrors(error, ["phone"]));
    }
    setBusy(null);
  }

  async function verify(event: FormEvent) {
    event.preventDefault();
    if (!enrollment) return;
    const value = code.replace(/\s/g, "");
    if (!SMS_CODE.test(value)) {
      setErrors({ fields: { code: "Enter the 6-digit code from the text message." }, form: null });
      return;
    }
    setBusy("verify");
    setErrors(NO_ERRORS);
    try {
      onVerified(
        await api.post<TotpVerification>(`/me/mfa/sms/${encodeURIComponent(enrollment.factor_id)}/verify`, {
          code: value,
        }),
      );
    } catch (error) {
      setBusy(null);
      if (error instanceof ApiError && error.code === "invalid_code") {
        setErrors({
          fields: { code: "That code didn't work. Check the latest message, or send a new code." },
          form: null,
        });
        return;
      }
      setErrors(toExplainedFormErrors(error, ["code"]));
    }
  }

  return (
    <Dialog title="Turn on text-message codes" onClose={onClose} busy={busy !== null} testId="sms-dialog">
      {enrollment ? (
        <form onSubmit={verify} noValidate>
          {errors.form ? <FormAlert testId="sms-error">{errors.form}</FormAlert> : null}
          <p data-testid="sms-dialog-sent">
            We texted a 6-digit code to <strong>{enrollment.phone}</strong>. Enter it below to confirm the
            number is yours.
          </p>
          <TextField
            label="Code from the text message"
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
            <button type="submit" className="button" disabled={busy !== null} data-testid="sms-verify">
              {busy === "verify" ? "Verifying…" : "Verify"}
            </button>
            <button
              type="button"
              className="button button-secondary"
              onClick={() => void send()}
              disabled={busy !== null}
              data-testid="sms-resend"
            >
              {busy === "send" ? "Sending…" : "Send a new code"}
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
      ) : (
        <form onSubmit={send} noValidate>
          {errors.form ? <FormAlert testId="sms-error">{errors.form}</FormAlert> : null}
          <TextField
            label="Mobile number"
            name="phone"
            type="tel"
            autoComplete="tel"
            inputMode="tel"
            maxLength={32}
            required
            hint="With the country code, for example +44 7700 900123. Standard message rates may apply."
            value={phone}
            onValueChange={(value) => {
              setPhone(value);
              setErrors(NO_ERRORS);
            }}
            error={errors.fields.phone}
          />
          <DialogActions>
            <button type="submit" className="button" disabled={busy !== null} data-testid="sms-send">
              {busy === "send" ? "Sending…" : "Text me a code"}
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
      )}
    </Dialog>
  );
}
