import { type FormEvent, type ReactNode, useState } from "react";
import { errorCode, explainError } from "../error-messages";
import { isReauthRequired } from "../reauth-provider";
import { Dialog, DialogActions } from "./dialog";
import { FormAlert } from "./form-alert";

type Props = {
  /** The question, naming its target: "Suspend Alice Nguyen?". */
  title: string;
  /** What happens, in plain words: who loses what, what is mailed, what cannot be undone. */
  children?: ReactNode;
  /** A specific verb for the action: "Suspend Alice", "Revoke invitation", "Regenerate codes". */
  confirmLabel: string;
  busyLabel?: string;
  /**
   * The button that leaves things as they are. Name it for what it keeps where "Cancel" would be
   * ambiguous, i.e. beside an action that itself cancels something: "Keep subscription".
   */
  dismissLabel?: string;
  /** Destructive or disruptive: a red action button, and focus starts on the dismiss button. */
  danger?: boolean;
  /**
   * Runs the action. Resolving closes the dialog; resolving `false` keeps it open (the caller showed a
   * message of its own); a rejection is shown inside the dialog.
   */
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  testId?: string;
  /** `data-testid` of the action button; "confirm" unless a page needs its own. */
  confirmTestId?: string;
};

/**
 * The one confirmation pattern (web/README.md, "Dialogs and confirmations"): a question naming its
 * target, the consequence, a specific verb button and a dismiss button, plus whatever fields
 * `children` add. The action button is `data-testid="confirm"` by default.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel = "Working…",
  dismissLabel = "Cancel",
  danger = false,
  onConfirm,
  onClose,
  testId = "confirm-dialog",
  confirmTestId = "confirm",
}: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const outcome = await onConfirm();
      if (outcome === false) {
        setBusy(false);
        return;
      }
      onClose();
    } catch (caught) {
      // Closing "Confirm it's you" is the user's choice, not a failure: the question stays open.
      if (!isReauthRequired(caught)) setError({ text: explainError(caught), code: errorCode(caught) });
      setBusy(false);
    }
  }

  return (
    <Dialog title={title} onClose={onClose} busy={busy} testId={testId}>
      <form onSubmit={submit} noValidate>
        {error ? (
          <FormAlert testId="dialog-error" code={error.code}>
            {error.text}
          </FormAlert>
        ) : null}
        {children}
        <DialogActions>
          <button
            type="submit"
            className={danger ? "button button-danger-solid" : "button"}
            disabled={busy}
            data-testid={confirmTestId}
          >
            {busy ? busyLabel : confirmLabel}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={onClose}
            disabled={busy}
            data-fallback-focus={danger ? "" : undefined}
            data-testid="dismiss"
          >
            {dismissLabel}
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
