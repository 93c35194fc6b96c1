import { useEffect } from "react";
import { brandColourVariables, normalizeHex, textColorOn } from "./branding";

/**
 * Paints primary buttons in `color` (with its text colour) while the caller is mounted and the colour
 * set; an unset colour, a change of account or leaving puts Gatehouse's own back.
 */
export function useBrandColour(color: string | null | undefined, text?: string | null): void {
  useEffect(() => {
    const primary = color ? normalizeHex(color) : null;
    if (!primary) return;
    const variables = brandColourVariables(
      primary,
      text ? (normalizeHex(text) ?? textColorOn(primary)) : textColorOn(primary),
    );
    const root = document.documentElement;
    for (const [name, value] of Object.entries(variables)) root.style.setProperty(name, value);
    root.dataset.brandColour = primary;
    return () => {
      for (const name of Object.keys(variables)) root.style.removeProperty(name);
      delete root.dataset.brandColour;
    };
  }, [color, text]);
}
