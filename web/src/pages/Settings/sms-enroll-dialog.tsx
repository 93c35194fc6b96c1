import { type FormEvent, useState } from "react";
import { Dialog, DialogActions } from "../../components/dialog";
import { FormAlert } from "../../components/form-alert";
import { PhoneField } from "../../components/phone-field";
import type { PhoneValue } from "../../phone";
import { isReauthRequired } from "../../reauth-provider";
import type { SmsEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";
import { useDefaultCountry } from "../../use-default-country";
import { useFormErrors } from "../../use-form-errors";
import { usePhoneKit } from "../../use-phone-kit";
import { CodeVerifyForm } from "./code-verify-form";

const FIELDS = ["phone"] as const;

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
  const kit = usePhoneKit();
  const country = useDefaultCountry(kit);
  // The country follows the default (known once the phone kit is in) until the user picks one.
  const [picked, setPicked] = useState<PhoneValue | null>(null);
  const phone = picked ?? { country, text: "" };
  // What was sent (E.164), for "send again".
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [enrollment, setEnrollment] = useState<SmsEnrollment | null>(null);
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [busy, setBusy] = useState<"send" | "verify" | null>(null);

  async function send(event?: FormEvent) {
    event?.preventDefault();
    if (!kit) return;
    const reading = kit.readPhone(phone, kit.countryNamer(navigator.language));
    if (reading.status !== "ok") {
      refuse({ phone: reading.status === "empty" ? "Enter your mobile number." : reading.message });
      return;
    }
    setBusy("send");
    clear();
    try {
      setEnrollment(await api.post<SmsEnrollment>("/me/mfa/sms", { phone: reading.e164 }));
      setSentTo(reading.e164);
    } catch (error) {
      if (!isReauthRequired(error)) fail(error);
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
          resend={async () => setEnrollment(await api.post<SmsEnrollment>("/me/mfa/sms", { phone: sentTo }))}
          onVerified={onVerified}
          onClose={onClose}
          testPrefix="sms"
          onBusyChange={(value) => setBusy(value ? "verify" : null)}
        />
      ) : (
        <form ref={formRef} onSubmit={send} noValidate>
          {errors.form ? (
            <FormAlert testId="sms-error" code={errors.code}>
              {errors.form}
            </FormAlert>
          ) : null}
          <PhoneField
            label="Mobile number"
            name="phone"
            required
            hint="Pick the country, then type the number; one starting with + or 00 picks its own country. Standard message rates may apply."
            value={phone}
            onValueChange={(value) => {
              setPicked(value);
              edited("phone");
            }}
            error={errors.fields.phone}
          />
          <DialogActions>
            <button type="submit" className="button" disabled={busy !== null || !kit} data-testid="sms-send">
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
