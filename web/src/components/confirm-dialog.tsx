import { type FormEvent, type ReactNode, useState } from "react";
import { errorCode, explainError } from "../error-messages";
import { Dialog, DialogActions } from "./dialog";
import { FormAlert } from "./form-alert";

type Props = {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  busyLabel?: string;
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

/** A question with one action button (`data-testid="confirm"` by default), plus whatever fields `children` add. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel = "Working…",
  danger = false,
  onConfirm,
  onClose,
  testId,
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
      setError({ text: explainError(caught), code: errorCode(caught) });
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
          >
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
