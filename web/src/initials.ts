// Avatars without a picture: initials on a coloured circle. Plain functions, so test/web checks them.

/** Up to two letters for the avatar: "Ada Admin" → "AA", "ada@acme.example" → "A". */
export function initialsOf(name: string): string {
  const words = name
    .replace(/@.*$/, "")
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words.slice(0, 1);
  return letters.map((word) => [...(word ?? "")][0]?.toUpperCase() ?? "").join("") || "?";
}

/**
 * Background colours for initials, each with white text at ≥ 4.5:1 (checked in
 * test/web/initials.test.ts), so the letters read in both themes.
 */
export const AVATAR_COLOURS = [
  "#3350d0",
  "#0f6b3a",
  "#8a3ffc",
  "#b42318",
  "#006c80",
  "#8a4b00",
  "#5a5f66",
  "#a11f66",
] as const;

/** The same person always gets the same colour: a hash of a stable key (their id or email). */
export function avatarColourFor(key: string): (typeof AVATAR_COLOURS)[number] {
  let hash = 0;
  for (const char of key) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) | 0;
  return AVATAR_COLOURS[Math.abs(hash) % AVATAR_COLOURS.length] as (typeof AVATAR_COLOURS)[number];
}
