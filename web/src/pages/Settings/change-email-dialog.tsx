import { type FormEvent, useState } from "react";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { toExplainedFormErrors } from "../../error-messages";
import { type FormErrors, NO_ERRORS, onFields, onForm } from "../../form-errors";
import { isReauthRequired } from "../../reauth-provider";
import { useApi } from "../../use-api";

const LOOKS_LIKE_EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * `POST /me/email`: the server mails a link to the new address (and a notice to the current one).
 * A stale log-in gets the re-auth dialog from the client first; the address changes only via the link.
 */
export function ChangeEmailDialog({ currentEmail, onClose }: { currentEmail: string; onClose: () => void }) {
  const api = useApi();
  const [email, setEmail] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const next = email.trim();
    if (!LOOKS_LIKE_EMAIL.test(next)) {
      setErrors(onFields({ new_email: "Enter an email address like name@example.com." }));
      return;
    }
    if (next.toLowerCase() === currentEmail.toLowerCase()) {
      setErrors(onFields({ new_email: "That is already your email address." }));
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      await api.post("/me/email", { new_email: next });
      setSentTo(next);
    } catch (error) {
      if (isReauthRequired(error)) {
        setErrors(onForm("Confirm it's you to change your email address."));
      } else {
        setErrors(toExplainedFormErrors(error, ["new_email"]));
      }
    }
    setBusy(false);
  }

  if (sentTo) {
    return (
      <Dialog title="Check your inbox" onClose={onClose} testId="change-email-dialog">
        <div role="status" data-testid="change-email-sent">
          <p>
            We sent a confirmation link to <strong className="break">{sentTo}</strong>. Your login email
            changes when you open it (within 24 hours).
          </p>
          <p className="muted">
            We also told {currentEmail} about the request. Until you confirm, you keep logging in with your
            current address.
          </p>
        </div>
        <DialogActions>
          <button type="button" className="button" onClick={onClose}>
            Done
          </button>
        </DialogActions>
      </Dialog>
    );
  }

  return (
    <Dialog title="Change email" onClose={onClose} busy={busy} testId="change-email-dialog">
      <form onSubmit={submit} noValidate>
        <p className="muted">
          Your current address is <span className="break">{currentEmail}</span>. We'll send a link to the new
          address; the change happens when you open it.
        </p>
        {errors.form ? <FormAlert testId="change-email-error">{errors.form}</FormAlert> : null}
        <TextField
          label="New email address"
          name="new_email"
          type="email"
          autoComplete="email"
          spellCheck={false}
          autoCapitalize="none"
          required
          value={email}
          onValueChange={(next) => {
            setEmail(next);
            setErrors(NO_ERRORS);
          }}
          error={errors.fields.new_email}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="change-email-submit">
            {busy ? "Sending…" : "Send confirmation link"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
