import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  brandColourVariables,
  checkBrandColour,
  contrastRatio,
  formatRatio,
  normalizeHex,
  relativeLuminance,
  TEMPLATE_VARIABLES,
  THEME_BACKGROUNDS,
  textColorOn,
  unknownVariables,
} from "../../web/src/branding.js";

describe("colour parsing", () => {
  it.each([
    ["#1A7F5A", "#1a7f5a"],
    ["1a7f5a", "#1a7f5a"],
    ["#abc", "#aabbcc"],
    ["  #ABC ", "#aabbcc"],
  ])("reads %j as %s", (input, expected) => {
    expect(normalizeHex(input)).toBe(expected);
  });

  it.each([
    "",
    "#",
    "#12",
    "#12345",
    "#1234567",
    "red",
    "#ggg000",
    "rgb(0,0,0)",
    "#１２３４５６",
    "<script>",
  ])("refuses %j", (input) => {
    expect(normalizeHex(input)).toBeNull();
  });
});

describe("WCAG contrast", () => {
  it("gives the luminance of black and white", () => {
    expect(relativeLuminance("#000000")).toBe(0);
    expect(relativeLuminance("#ffffff")).toBeCloseTo(1, 10);
  });

  it("gives 21:1 for black on white and 1:1 for a colour on itself, in either order", () => {
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21, 10);
    expect(contrastRatio("#ffffff", "#000000")).toBeCloseTo(21, 10);
    expect(contrastRatio("#3350d0", "#3350d0")).toBe(1);
  });

  it("matches published ratios (WebAIM's checker)", () => {
    // #767676 on white is the classic 4.54:1; #777777 just fails 4.5 (4.48:1).
    expect(contrastRatio("#767676", "#ffffff")).toBeCloseTo(4.54, 2);
    expect(contrastRatio("#777777", "#ffffff")).toBeCloseTo(4.48, 2);
  });

  it("rounds ratios down for display, so a refused 2.996 never reads as 3.0", () => {
    expect(formatRatio(2.996)).toBe("2.9:1");
    expect(formatRatio(3)).toBe("3.0:1");
    expect(formatRatio(21)).toBe("21.0:1");
  });

  it("uses the themes' backgrounds from styles.css", () => {
    const css = readFileSync(new URL("../../web/src/styles.css", import.meta.url), "utf8");
    const bg = /--bg: light-dark\((#[0-9a-f]{6}), (#[0-9a-f]{6})\)/i.exec(css);
    expect(bg?.[1]?.toLowerCase()).toBe(THEME_BACKGROUNDS.light);
    expect(bg?.[2]?.toLowerCase()).toBe(THEME_BACKGROUNDS.dark);
  });
});

describe("a brand colour", () => {
  it("is accepted at ≥ 3:1 against both themes, with black or white text at ≥ 4.5:1", () => {
    const check = checkBrandColour("#1a7f5a");
    expect(check).toMatchObject({ color: "#1a7f5a", acceptable: true, text: "#ffffff", problem: null });
    expect(check?.light).toBeGreaterThanOrEqual(3);
    expect(check?.dark).toBeGreaterThanOrEqual(3);
    expect(check?.textContrast).toBeGreaterThanOrEqual(4.5);
  });

  it("is refused when too light for the light theme, naming that ratio", () => {
    const check = checkBrandColour("#ffd700");
    expect(check?.acceptable).toBe(false);
    expect(check?.problem).toContain("against the light theme");
    expect(check?.problem).not.toContain("against the dark theme");
  });

  it("is refused when too dark for the dark theme", () => {
    const check = checkBrandColour("#101820");
    expect(check?.acceptable).toBe(false);
    expect(check?.problem).toContain("against the dark theme");
  });

  it("gets black text on a light colour and white text on a dark one", () => {
    expect(textColorOn("#ffd700")).toBe("#000000");
    expect(textColorOn("#1a1a80")).toBe("#ffffff");
  });

  it("passes for every colour that is ≥ 3:1 on both themes only with readable text (a sweep)", () => {
    for (let r = 0; r < 256; r += 17) {
      for (let g = 0; g < 256; g += 17) {
        for (let b = 0; b < 256; b += 17) {
          const hex = `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;
          const check = checkBrandColour(hex);
          if (!check) throw new Error(hex);
          const onBoth = check.light >= 3 && check.dark >= 3;
          expect(check.acceptable, hex).toBe(onBoth && check.textContrast >= 4.5);
          expect(check.text).toBe(textColorOn(hex));
        }
      }
    }
  });

  it("gives nothing for text that is not a colour", () => {
    expect(checkBrandColour("tomato")).toBeNull();
  });

  it("paints buttons through three variables; hover moves away from the text colour", () => {
    expect(brandColourVariables("#1a7f5a", "#ffffff")).toEqual({
      "--primary": "#1a7f5a",
      "--primary-hover": "color-mix(in srgb, #1a7f5a 85%, #000000)",
      "--primary-contrast": "#ffffff",
    });
    expect(brandColourVariables("#ffd700", "#000000")["--primary-hover"]).toContain("#ffffff");
  });
});

describe("template variables", () => {
  it("finds the {{names}} a mail does not offer, once each", () => {
    const offered = TEMPLATE_VARIABLES.invitation;
    expect(unknownVariables("Join {{account_name}} — {{ inviter_name }}", offered)).toEqual([]);
    expect(unknownVariables("{{acount_name}} {{acount_name}} {{password}}", offered)).toEqual([
      "acount_name",
      "password",
    ]);
    expect(unknownVariables("no variables, {single} braces", offered)).toEqual([]);
  });
});
