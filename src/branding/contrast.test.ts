import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  checkPrimaryColor,
  contrastRatio,
  formatRatio,
  normalizeHexColor,
  relativeLuminance,
  THEME_BACKGROUNDS,
} from "./contrast.js";

describe("contrast maths", () => {
  it("uses the web app's real theme backgrounds", () => {
    const css = readFileSync(new URL("../../web/src/styles.css", import.meta.url), "utf8");
    const match = /--bg:\s*light-dark\((#[0-9a-f]{3,6}),\s*(#[0-9a-f]{3,6})\)/i.exec(css);
    expect(match, "--bg in web/src/styles.css").not.toBeNull();
    expect(normalizeHexColor(match?.[1] ?? "")).toBe(THEME_BACKGROUNDS.light);
    expect(normalizeHexColor(match?.[2] ?? "")).toBe(THEME_BACKGROUNDS.dark);
  });

  it("normalises hex colours and refuses everything else", () => {
    expect(normalizeHexColor("#ABCDEF")).toBe("#abcdef");
    expect(normalizeHexColor("#F0a")).toBe("#ff00aa");
    for (const bad of ["abcdef", "#abcd", "#ggg000", "#abcdef0", " #abcdef", "#abcdef\n", "red", "", "#"])
      expect(normalizeHexColor(bad), bad).toBeUndefined();
  });

  it("computes WCAG luminance and ratios (known values)", () => {
    expect(relativeLuminance("#000000")).toBe(0);
    expect(relativeLuminance("#ffffff")).toBeCloseTo(1, 10);
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 10);
    expect(contrastRatio("#ffffff", "#000")).toBeCloseTo(21, 10);
    // WebAIM's checker: #777777 on white is 4.48:1.
    expect(contrastRatio("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
    expect(contrastRatio("#3350d0", "#3350d0")).toBe(1);
    expect(formatRatio(2.999)).toBe("2.99");
  });

  it("accepts a colour readable on both themes and picks the text colour", () => {
    const blue = checkPrimaryColor("#2563EB");
    expect(blue).toMatchObject({ ok: true, color: "#2563eb", textColor: "#ffffff" });
    const orange = checkPrimaryColor("#0d9488");
    expect(orange).toMatchObject({ ok: true, textColor: "#000000" });
    if (orange.ok) {
      expect(orange.light).toBeGreaterThanOrEqual(3);
      expect(orange.dark).toBeGreaterThanOrEqual(3);
      expect(contrastRatio(orange.color, orange.textColor)).toBeGreaterThanOrEqual(4.5);
    }
  });

  it("refuses colours too close to either background, naming both ratios", () => {
    const pale = checkPrimaryColor("#ffe0e0");
    expect(pale.ok).toBe(false);
    if (!pale.ok) {
      expect(pale.reason).toContain(`${formatRatio(contrastRatio("#ffe0e0", "#f5f6f8"))}:1`);
      expect(pale.reason).toContain(`${formatRatio(contrastRatio("#ffe0e0", "#0e1014"))}:1`);
      expect(pale.reason).toMatch(/light theme.*dark theme/);
    }
    expect(checkPrimaryColor("#000000").ok).toBe(false); // invisible on dark
    expect(checkPrimaryColor("#ffffff").ok).toBe(false); // invisible on light
    expect(checkPrimaryColor("#1a1a40").ok).toBe(false);
    // The light theme's own accent is too dark for the dark theme (2.90:1).
    expect(checkPrimaryColor("#3350d0")).toMatchObject({
      ok: false,
      reason: expect.stringContaining("2.90:1"),
    });
    expect(checkPrimaryColor("javascript:alert(1)")).toMatchObject({ ok: false });
  });

  it("always finds black or white text at 4.5:1 or more (the better one is at least 4.58:1)", () => {
    let worst = 21;
    for (let v = 0; v < 4096; v++) {
      const color = `#${v.toString(16).padStart(3, "0")}`;
      const best = Math.max(contrastRatio(color, "#000000"), contrastRatio(color, "#ffffff"));
      worst = Math.min(worst, best);
      const verdict = checkPrimaryColor(color);
      if (verdict.ok) {
        expect(verdict.light).toBeGreaterThanOrEqual(3);
        expect(verdict.dark).toBeGreaterThanOrEqual(3);
        expect(contrastRatio(verdict.color, verdict.textColor)).toBeGreaterThanOrEqual(4.5);
      }
    }
    expect(worst).toBeGreaterThan(4.5);
  });
});
