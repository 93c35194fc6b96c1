import { type FormEvent, useState } from "react";
import { ApiError } from "../../api";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS, onFields } from "../../form-errors";
import type { TotpEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";

const TOTP_CODE = /^\d{6}$/;

type Props = {
  enrollment: TotpEnrollment;
  onVerified: (result: TotpVerification) => void;
  /** Leaving an enrollment unverified is harmless: it never counts as a factor. */
  onClose: () => void;
};

/** Step two of adding an authenticator app: scan (or type) the secret, then prove it with a code. */
export function TotpEnrollDialog({ enrollment, onVerified, onClose }: Props) {
  const api = useApi();
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [copyNote, setCopyNote] = useState<string | null>(null);
  // An <img> never runs what it shows, unlike markup put into the page.
  const qrSource = `data:image/svg+xml;utf8,${encodeURIComponent(enrollment.qr_svg)}`;

  async function copySecret() {
    try {
      await navigator.clipboard.writeText(enrollment.secret);
      setCopyNote("Key copied.");
    } catch {
      setCopyNote("Couldn't copy. Select the key and copy it yourself.");
    }
  }

  async function verify(event: FormEvent) {
    event.preventDefault();
    const value = code.replace(/\s/g, "");
    if (!TOTP_CODE.test(value)) {
      setErrors(onFields({ code: "Enter the 6-digit code shown in your app." }));
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      const result = await api.post<TotpVerification>(
        `/me/mfa/totp/${encodeURIComponent(enrollment.factor_id)}/verify`,
        { code: value },
      );
      onVerified(result);
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiError && error.code === "invalid_code") {
        setErrors(
          onFields({
            code: "That code didn't work. Check that your phone's clock is right and try the current code.",
          }),
        );
        return;
      }
      setErrors(toExplainedFormErrors(error, ["code"]));
    }
  }

  return (
    <Dialog title="Set up an authenticator app" onClose={onClose} busy={busy} testId="totp-dialog">
      <form onSubmit={verify} noValidate>
        {errors.form ? <FormAlert testId="totp-error">{errors.form}</FormAlert> : null}
        <ol className="setup-steps">
          <li>
            <p>
              Scan this QR code with an authenticator app, such as Google Authenticator, Microsoft
              Authenticator, 1Password or Bitwarden.
            </p>
            <img
              className="qr-code"
              src={qrSource}
              width={184}
              height={184}
              alt="QR code to add Gatehouse to your authenticator app"
              data-testid="totp-qr"
            />
          </li>
          <li>
            <p>Can't scan it? Enter this key in the app instead:</p>
            <div className="secret-row">
              <code className="secret" data-testid="totp-secret">
                {enrollment.secret}
              </code>
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={copySecret}
                aria-label="Copy the key"
              >
                Copy
              </button>
            </div>
            <p className="field-hint" role="status">
              {copyNote}
            </p>
          </li>
          <li>
            <TextField
              label="Enter the 6-digit code from the app"
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
          </li>
        </ol>
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="totp-verify">
            {busy ? "Verifying…" : "Verify"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
