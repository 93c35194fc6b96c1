import { type FormEvent, useState } from "react";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS } from "../../form-errors";
import { isReauthRequired } from "../../reauth-provider";
import type { SmsEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";
import { CodeVerifyForm } from "./code-verify-form";

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
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState<"send" | "verify" | null>(null);

  async function send(event?: FormEvent) {
    event?.preventDefault();
    if (!phone.trim()) {
      setErrors({ fields: { phone: "Enter your mobile number with its country code." }, form: null });
      return;
    }
    setBusy("send");
    setErrors(NO_ERRORS);
    try {
      setEnrollment(await api.post<SmsEnrollment>("/me/mfa/sms", { phone }));
    } catch (error) {
      if (!isReauthRequired(error)) setErrors(toExplainedFormErrors(error, ["phone"]));
    }
    setBusy(null);
  }

  return (
    <Dialog title="Turn on text-message codes" onClose={onClose} busy={busy !== null} testId="sms-dialog">
      {enrollment ? (
        <CodeVerifyForm
          intro={
            <p data-testid="sms-dialog-sent">
              We texted a 6-digit code to <strong>{enrollment.phone}</strong>. Enter it below to confirm the
              number is yours.
            </p>
          }
          source="the text message"
          verifyPath={`/me/mfa/sms/${encodeURIComponent(enrollment.factor_id)}/verify`}
          resend={async () => setEnrollment(await api.post<SmsEnrollment>("/me/mfa/sms", { phone }))}
          onVerified={onVerified}
          onClose={onClose}
          testPrefix="sms"
          onBusyChange={(value) => setBusy(value ? "verify" : null)}
        />
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
