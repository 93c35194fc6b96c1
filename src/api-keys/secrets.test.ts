import { describe, expect, it } from "vitest";
import { displayPrefix, isWellFormedSecret, newApiKeySecret, SECRET_LENGTH } from "./secrets.js";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("API key secrets", () => {
  it("are gh_, 43 base62 characters of randomness and a 6-character checksum", () => {
    const secrets = Array.from({ length: 200 }, newApiKeySecret);
    for (const secret of secrets) {
      expect(secret).toMatch(/^gh_[0-9A-Za-z]{49}$/);
      expect(secret).toHaveLength(SECRET_LENGTH);
      expect(isWellFormedSecret(secret)).toBe(true);
    }
    expect(new Set(secrets).size).toBe(secrets.length);
    expect(displayPrefix(secrets[0] as string)).toBe(`gh_…${secrets[0]?.slice(-4)}`);
  });

  it("catch every single-character typo, and anything of another shape", () => {
    const secret = newApiKeySecret();
    for (let at = 3; at < secret.length; at++) {
      for (const replacement of ALPHABET) {
        if (replacement === secret[at]) continue;
        const mistyped = `${secret.slice(0, at)}${replacement}${secret.slice(at + 1)}`;
        expect(isWellFormedSecret(mistyped), mistyped).toBe(false);
      }
    }
    for (const other of [
      "",
      "gh_",
      secret.slice(0, -1),
      `${secret}0`,
      `GH_${secret.slice(3)}`,
      `gh-${secret.slice(3)}`,
      `${secret.slice(0, 20)}_${secret.slice(21)}`,
      ` ${secret}`,
    ]) {
      expect(isWellFormedSecret(other), other).toBe(false);
    }
  });
});
