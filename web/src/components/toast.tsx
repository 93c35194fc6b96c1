import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { type Toast, ToastContext } from "../use-toast";

/** How long a toast stays: long enough to read a sentence, longer when it offers an action. */
export const TOAST_MS = 6000;
export const TOAST_WITH_ACTION_MS = 10000;
/** Older toasts give way beyond this many. */
const MAX_TOASTS = 3;

type ShownToast = Toast & { id: number };

/**
 * Success messages that come and go (failures stay on the page, next to what failed). One polite
 * live region in `document.body`, present from the start so screen readers announce what enters it.
 */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<ShownToast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((current) => current.filter((toast) => toast.id !== id));
  }, []);

  const show = useCallback((toast: Toast) => {
    const id = nextId.current++;
    setToasts((current) => [...current, { ...toast, id }].slice(-MAX_TOASTS));
  }, []);

  const value = useMemo(() => ({ show }), [show]);

  return (
    <ToastContext.Provider value={value}>
      {children}
      {createPortal(
        <div className="toasts" role="status" aria-live="polite" aria-atomic="false" data-testid="toasts">
          {toasts.map((toast) => (
            <ToastItem key={toast.id} toast={toast} onDismiss={() => dismiss(toast.id)} />
          ))}
        </div>,
        document.body,
      )}
    </ToastContext.Provider>
  );
}

/** One toast. The timer pauses while the pointer or focus is on it, so its action stays in reach. */
function ToastItem({ toast, onDismiss }: { toast: ShownToast; onDismiss: () => void }) {
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const latest = useRef(onDismiss);
  useEffect(() => {
    latest.current = onDismiss;
  });

  const paused = hovered || focused;
  const duration = toast.action ? TOAST_WITH_ACTION_MS : TOAST_MS;
  useEffect(() => {
    if (paused) return;
    const timer = window.setTimeout(() => latest.current(), duration);
    return () => window.clearTimeout(timer);
  }, [paused, duration]);

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the pointer only pauses the timer; nothing to operate
    <div
      className="toast"
      data-testid="toast"
      onMouseEnter={() => setHovered(true)}
      onMouseLeave={() => setHovered(false)}
      onFocus={() => setFocused(true)}
      onBlur={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setFocused(false);
      }}
    >
      <p className="toast-text">{toast.text}</p>
      {toast.action ? (
        <button
          type="button"
          className="button button-secondary button-small toast-action"
          onClick={() => {
            onDismiss();
            toast.action?.run();
          }}
          data-testid="toast-action"
        >
          {toast.action.label}
        </button>
      ) : null}
      <button
        type="button"
        className="toast-close"
        onClick={onDismiss}
        aria-label="Dismiss notification"
        data-testid="toast-dismiss"
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}
