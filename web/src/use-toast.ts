import { createContext, useContext } from "react";

/**
 * The opposite action a toast may offer ("Reactivate" after a suspension). Only for what the
 * opposite truly undoes: never after mail went out or tokens died.
 */
export type ToastAction = { label: string; run: () => void };

export type Toast = {
  /** What just happened, as a sentence: "Alice Nguyen is suspended." */
  text: string;
  action?: ToastAction;
};

export type ToastContextValue = {
  /** Shows a success message for a few seconds (longer when it offers an action). */
  show(toast: Toast): void;
};

export const ToastContext = createContext<ToastContextValue | null>(null);

export function useToast(): ToastContextValue {
  const value = useContext(ToastContext);
  if (!value) throw new Error("useToast must be used inside <ToastProvider>");
  return value;
}
