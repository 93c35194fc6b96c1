import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import { describeError } from "./api";
import { applyAppearance, rememberAppearance } from "./appearance";
import type { Preferences } from "./types";
import { useApi } from "./use-api";
import { PreferencesContext, type PreferencesContextValue } from "./use-preferences";
import { isSecurityOnly, useSession } from "./use-session";

export function PreferencesProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const { state } = useSession();
  // While a password change is pending the server refuses this read; fetch once it is done.
  const userId = state.status === "authenticated" && !isSecurityOnly(state.info) ? state.info.user.id : null;
  const [attempt, setAttempt] = useState(0);
  const [preferences, setPreferencesState] = useState<Preferences | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const setPreferences = useCallback((next: Preferences) => {
    setPreferencesState(next);
    setLoadError(null);
    const appearance = { theme: next.theme, animations: next.animations };
    applyAppearance(appearance);
    rememberAppearance(appearance);
  }, []);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);

  useEffect(() => {
    void attempt; // a bump from reload() re-runs this effect
    setPreferencesState(null);
    setLoadError(null);
    if (!userId) return;
    let cancelled = false;
    api.get<Preferences>("/me/preferences").then(
      (loaded) => {
        if (!cancelled) setPreferences(loaded);
      },
      (error: unknown) => {
        // e.g. 403 password_change_required: keep the remembered appearance meanwhile.
        if (!cancelled) setLoadError(describeError(error));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, userId, attempt, setPreferences]);

  const value = useMemo<PreferencesContextValue>(
    () => ({ preferences, loadError, setPreferences, reload }),
    [preferences, loadError, setPreferences, reload],
  );
  return <PreferencesContext.Provider value={value}>{children}</PreferencesContext.Provider>;
}
