import { createContext, useContext } from "react";
import type { Preferences } from "./types";

export type PreferencesContextValue = {
  /** The saved document, or null while loading / when it could not be read. */
  preferences: Preferences | null;
  loadError: string | null;
  /** Adopts a document the server just stored and applies its appearance. */
  setPreferences(preferences: Preferences): void;
  /** Fetches the document again (after a failed load). */
  reload(): void;
};

export const PreferencesContext = createContext<PreferencesContextValue | null>(null);

export function usePreferences(): PreferencesContextValue {
  const value = useContext(PreferencesContext);
  if (!value) throw new Error("usePreferences must be used inside <PreferencesProvider>");
  return value;
}
