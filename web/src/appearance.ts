// Theme and motion live as attributes on <html> so plain CSS can follow them, and a copy
// is kept in localStorage so the next visit paints in the right theme before any request.
import { THEMES, type Theme } from "./types";

export type Appearance = { theme: Theme; animations: boolean };

const STORAGE_KEY = "gatehouse.appearance";
const FALLBACK: Appearance = { theme: "system", animations: true };

export function applyAppearance(appearance: Appearance): void {
  const root = document.documentElement;
  root.dataset.theme = appearance.theme;
  root.dataset.animations = appearance.animations ? "on" : "off";
}

export function rememberAppearance(appearance: Appearance): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(appearance));
  } catch {
    // Storage can be disabled (private mode, policy); the theme then just applies per visit.
  }
}

export function restoreAppearance(): Appearance {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (!parsed || typeof parsed !== "object") return FALLBACK;
    const { theme, animations } = parsed as Record<string, unknown>;
    return {
      theme: THEMES.includes(theme as Theme) ? (theme as Theme) : FALLBACK.theme,
      animations: typeof animations === "boolean" ? animations : FALLBACK.animations,
    };
  } catch {
    return FALLBACK;
  }
}
