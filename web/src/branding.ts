// Brand colours and the text on them: WCAG 2.x contrast maths, checked in the browser as the colour is
// picked so the admin sees at once what the server will refuse (PATCH …/branding re-checks: a colour
// under 3:1 against either theme's background is refused). Kept free of React and `window` so that
// test/web checks it.

/** The page backgrounds of the two themes (`--bg` in styles.css, light and dark). */
export const THEME_BACKGROUNDS = { light: "#f5f6f8", dark: "#0e1014" } as const;

/** A brand colour must stand out from both backgrounds at least this much (WCAG 1.4.11, non-text). */
export const MIN_BACKGROUND_CONTRAST = 3;

/** Text on a button of the brand colour (WCAG 1.4.3, normal text). */
export const MIN_TEXT_CONTRAST = 4.5;

/** The longest login welcome message the server keeps. */
export const LOGIN_MESSAGE_MAX = 280;

const HEX = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i;

/** "#AbC", "abc", "#aabbcc" → "#aabbcc"; anything else → null. */
export function normalizeHex(value: string): string | null {
  const match = HEX.exec(value.trim());
  if (!match?.[1]) return null;
  const digits = match[1].toLowerCase();
  const full = digits.length === 3 ? [...digits].map((digit) => digit + digit).join("") : digits;
  return `#${full}`;
}

function channels(hex: string): [number, number, number] {
  const value = normalizeHex(hex);
  if (!value) throw new Error(`not a colour: ${hex}`);
  return [1, 3, 5].map((start) => Number.parseInt(value.slice(start, start + 2), 16)) as [
    number,
    number,
    number,
  ];
}

/** WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white). */
export function relativeLuminance(hex: string): number {
  const [r, g, b] = channels(hex).map((channel) => {
    const c = channel / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [lighter, darker] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [
    number,
    number,
  ];
  return (lighter + 0.05) / (darker + 0.05);
}

/** Ratios are shown rounded down, so "3.0:1" never stands for 2.996 (which the server refuses). */
export function formatRatio(ratio: number): string {
  return `${(Math.floor(ratio * 10) / 10).toFixed(1)}:1`;
}

export type ColourCheck = {
  color: string;
  /** Contrast against each theme's page background. */
  light: number;
  dark: number;
  /** ≥ 3:1 against both backgrounds: the server accepts it. */
  acceptable: boolean;
  /** Black or white, whichever reads better on it (the server picks the same way). */
  text: "#000000" | "#ffffff";
  textContrast: number;
  /** Why it is refused, in words, or null. */
  problem: string | null;
};

/** Black or white text on `background`, whichever contrasts more (the server chooses the same way). */
export function textColorOn(background: string): "#000000" | "#ffffff" {
  return contrastRatio(background, "#000000") >= contrastRatio(background, "#ffffff") ? "#000000" : "#ffffff";
}

/** What the picker says about a colour: its contrasts and whether the server will take it. */
export function checkBrandColour(value: string): ColourCheck | null {
  const color = normalizeHex(value);
  if (!color) return null;
  const light = contrastRatio(color, THEME_BACKGROUNDS.light);
  const dark = contrastRatio(color, THEME_BACKGROUNDS.dark);
  const text = textColorOn(color);
  const textContrast = contrastRatio(color, text);
  const weak = [
    light < MIN_BACKGROUND_CONTRAST ? `${formatRatio(light)} against the light theme` : null,
    dark < MIN_BACKGROUND_CONTRAST ? `${formatRatio(dark)} against the dark theme` : null,
  ].filter((part): part is string => part !== null);
  const problems = [
    weak.length > 0
      ? `Too little contrast: ${weak.join(" and ")} (at least ${MIN_BACKGROUND_CONTRAST}:1 is needed against both).`
      : null,
    textContrast < MIN_TEXT_CONTRAST
      ? `Neither black nor white text reads well on it (${formatRatio(textContrast)}, at least ${MIN_TEXT_CONTRAST}:1 is needed).`
      : null,
  ].filter((part): part is string => part !== null);
  return {
    color,
    light,
    dark,
    acceptable: problems.length === 0,
    text,
    textContrast,
    problem: problems.length > 0 ? problems.join(" ") : null,
  };
}

/**
 * The CSS custom properties that paint primary buttons in the brand colour (styles.css: `--primary`,
 * `--primary-hover`, `--primary-contrast`). Hover moves towards the text colour's opposite side, so
 * the text keeps (and gains) contrast.
 */
export function brandColourVariables(color: string, text: string): Record<string, string> {
  const towards = text === "#000000" ? "#ffffff" : "#000000";
  return {
    "--primary": color,
    "--primary-hover": `color-mix(in srgb, ${color} 85%, ${towards})`,
    "--primary-contrast": text,
  };
}

/** The mails whose subject and intro an account can override. */
export const EMAIL_TEMPLATES = ["invitation", "welcome"] as const;
export type EmailTemplate = (typeof EMAIL_TEMPLATES)[number];

/**
 * The variables each mail's subject and intro may use (substituted and escaped by the server; any
 * other `{{…}}` is left as typed).
 */
export const TEMPLATE_VARIABLES: Record<EmailTemplate, readonly string[]> = {
  invitation: ["inviter_name", "account_name", "role_name", "recipient_email", "expires_at"],
  welcome: ["first_name", "account_name", "recipient_email"],
};

/** `{{name}}`s in `text` that are not among `variables` (a typo the admin should see). */
export function unknownVariables(text: string, variables: readonly string[]): string[] {
  const allowed = new Set(variables);
  const found = [...text.matchAll(/\{\{\s*([^{}\s]+)\s*\}\}/g)].map((match) => match[1] ?? "");
  return [...new Set(found.filter((name) => !allowed.has(name)))];
}
