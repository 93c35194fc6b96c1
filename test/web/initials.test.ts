import { describe, expect, it } from "vitest";
import { contrastRatio } from "../../web/src/branding.js";
import { AVATAR_COLOURS, avatarColourFor, initialsOf } from "../../web/src/initials.js";

describe("initials", () => {
  it.each([
    ["Ada Admin", "AA"],
    ["ada lovelace byron", "AB"],
    ["ada@acme.example", "A"],
    ["maya.patel@acme.example", "MP"],
    ["élodie durand", "ÉD"],
    ["李 小龍", "李小"],
    ["😀 Smile", "😀S"],
    ["", "?"],
    ["   ", "?"],
    ["@acme.example", "?"],
  ])("%j → %s", (name, expected) => {
    expect(initialsOf(name)).toBe(expected);
  });
});

describe("initials' colours", () => {
  it("each reads with white letters at ≥ 4.5:1", () => {
    for (const colour of AVATAR_COLOURS)
      expect(contrastRatio(colour, "#ffffff"), colour).toBeGreaterThanOrEqual(4.5);
  });

  it("are stable per person and spread across people", () => {
    expect(avatarColourFor("usr_abc")).toBe(avatarColourFor("usr_abc"));
    const used = new Set(Array.from({ length: 200 }, (_, index) => avatarColourFor(`usr_${index}`)));
    expect(used.size).toBe(AVATAR_COLOURS.length);
    expect(AVATAR_COLOURS).toContain(avatarColourFor(""));
    expect(AVATAR_COLOURS).toContain(avatarColourFor("x".repeat(10_000)));
  });
});
