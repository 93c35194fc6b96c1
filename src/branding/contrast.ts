/**
 * WCAG 2.x contrast for the account's primary colour (docs/branding.md). Pure: no I/O.
 *
 * The theme backgrounds are web/src/styles.css's `--bg` pair (`light-dark(#f5f6f8, #0e1014)`);
 * contrast.test.ts reads that file and fails when they drift apart.
 */
export const THEME_BACKGROUNDS = { light: "#f5f6f8", dark: "#0e1014" } as const;

/** Against each theme's background (WCAG 1.4.11, non-text contrast of a button). */
export const MIN_BACKGROUND_CONTRAST = 3;
/** Button text on the colour (WCAG 1.4.3, normal text). */
export const MIN_TEXT_CONTRAST = 4.5;

const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/** `#abc` or `#aabbcc` in any case → `#aabbcc`; undefined for anything else. */
export function normalizeHexColor(value: string): string | undefined {
  if (!HEX.test(value)) return undefined;
  const hex = value.slice(1).toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex}`;
}

/** WCAG relative luminance of a `#rrggbb` colour. */
export function relativeLuminance(color: string): number {
  const hex = normalizeHexColor(color);
  if (!hex) throw new Error(`not a #rrggbb colour: ${color}`);
  const channel = (offset: number) => {
    const c = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** (lighter + 0.05) / (darker + 0.05): 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [x, y] = [relativeLuminance(a), relativeLuminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** Two decimals, rounded down: a ratio shown as 3.00 really is at least 3. */
export const formatRatio = (ratio: number) => (Math.floor(ratio * 100) / 100).toFixed(2);

export type ColorVerdict =
  | { ok: true; color: string; textColor: "#000000" | "#ffffff"; light: number; dark: number }
  | { ok: false; reason: string; light?: number; dark?: number };

/**
 * Whether `value` can be the primary colour: a hex colour with at least 3:1 against both theme
 * backgrounds, and black or white text on it at 4.5:1 (the better of the two is chosen).
 */
export function checkPrimaryColor(value: string): ColorVerdict {
  const color = normalizeHexColor(value);
  if (!color) return { ok: false, reason: "Must be a hex colour: #rrggbb (or #rgb)" };
  const light = contrastRatio(color, THEME_BACKGROUNDS.light);
  const dark = contrastRatio(color, THEME_BACKGROUNDS.dark);
  if (light < MIN_BACKGROUND_CONTRAST || dark < MIN_BACKGROUND_CONTRAST) {
    return {
      ok: false,
      light,
      dark,
      reason: `${color} has a contrast of ${formatRatio(light)}:1 against the light theme's background (${THEME_BACKGROUNDS.light}) and ${formatRatio(dark)}:1 against the dark theme's (${THEME_BACKGROUNDS.dark}); both must be at least ${MIN_BACKGROUND_CONTRAST}:1`,
    };
  }
  const onBlack = contrastRatio(color, "#000000");
  const onWhite = contrastRatio(color, "#ffffff");
  const textColor = onWhite >= onBlack ? "#ffffff" : "#000000";
  if (Math.max(onBlack, onWhite) < MIN_TEXT_CONTRAST) {
    return {
      ok: false,
      light,
      dark,
      reason: `Neither black (${formatRatio(onBlack)}:1) nor white (${formatRatio(onWhite)}:1) text reaches ${MIN_TEXT_CONTRAST}:1 on ${color}`,
    };
  }
  return { ok: true, color, textColor, light, dark };
}
