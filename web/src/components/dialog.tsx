import { type ReactNode, type SyntheticEvent, useEffect, useId, useRef } from "react";
import { createPortal } from "react-dom";

type Props = {
  title: string;
  /** Called for Escape and the close button; the parent unmounts the dialog. */
  onClose: () => void;
  children: ReactNode;
  /** While an action runs, Escape and the close button do nothing. */
  busy?: boolean;
  wide?: boolean;
  testId?: string;
};

const FIRST_FIELD =
  "input:not([type='hidden']):not(:disabled), select:not(:disabled), textarea:not(:disabled)";

/**
 * A modal dialog, open while mounted. It is rendered into `document.body` (a portal), so nothing of
 * the place that opens it reaches it: a table cell's right-align and no-wrap, a card's
 * `:last-child` margin. The native <dialog> in modal mode makes the page behind it inert (so focus
 * stays inside). On mount focus goes to `[data-autofocus]`, else the first field, else
 * `[data-fallback-focus]` (Cancel, for a destructive question), else the first button; on unmount it
 * returns to whatever had it before (the button that opened the dialog).
 */
export function Dialog({ title, onClose, children, busy = false, wide = false, testId }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const latest = useRef({ onClose, busy });
  useEffect(() => {
    latest.current = { onClose, busy };
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    let mounted = true;
    if (!dialog.open) dialog.showModal();
    const target =
      dialog.querySelector<HTMLElement>("[data-autofocus]") ??
      dialog.querySelector<HTMLElement>(`.dialog-body :is(${FIRST_FIELD})`) ??
      dialog.querySelector<HTMLElement>("[data-fallback-focus]") ??
      dialog.querySelector<HTMLElement>(".dialog-body button");
    target?.focus();
    // The browser may still close it on its own (a repeated Escape); keep React's state in step.
    const onNativeClose = () => {
      if (mounted) latest.current.onClose();
    };
    dialog.addEventListener("close", onNativeClose);
    return () => {
      mounted = false;
      dialog.removeEventListener("close", onNativeClose);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  function cancel(event: SyntheticEvent) {
    event.preventDefault();
    if (!latest.current.busy) latest.current.onClose();
  }

  return createPortal(
    <dialog
      ref={ref}
      // biome-ignore lint/a11y/noRedundantRoles: stated explicitly, with aria-modal, for older assistive tech
      role="dialog"
      aria-modal="true"
      aria-labelledby={titleId}
      className={`dialog${wide ? " dialog-wide" : ""}`}
      onCancel={cancel}
      // React bubbles events along the component tree, portals included: a form around the opener
      // must not see this dialog's submit.
      onSubmit={(event) => event.stopPropagation()}
      data-testid={testId}
    >
      <div className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="dialog-close" onClick={cancel} disabled={busy} aria-label="Close">
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div className="dialog-body">{children}</div>
    </dialog>,
    document.body,
  );
}

/** The row of buttons at the bottom of a dialog's form. */
export function DialogActions({ children }: { children: ReactNode }) {
  return <div className="actions dialog-actions">{children}</div>;
}
