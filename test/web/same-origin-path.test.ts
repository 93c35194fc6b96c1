import { describe, expect, it } from "vitest";
import { sameOriginPath } from "../../web/src/same-origin-path.js";

const ORIGIN = "https://id.example.com";

describe("sameOriginPath (the log-in page's ?next=)", () => {
  it.each([
    ["/accept-invitation?token=abc", "/accept-invitation?token=abc"],
    ["/settings/security#passkeys", "/settings/security#passkeys"],
    ["/a/../b", "/b"],
    ["/./members", "/members"],
  ])("follows %s to %s", (next, path) => {
    expect(sameOriginPath(next, ORIGIN)).toBe(path);
  });

  it.each([
    null,
    "",
    "members",
    "//evil.example",
    "/\\evil.example",
    "/.//evil.example",
    "/./\\evil.example",
    "/..//evil.example",
    "/a/..//evil.example",
    "/%2e//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\\/evil.example",
  ])("refuses %j", (next) => {
    expect(sameOriginPath(next, ORIGIN)).toBeNull();
  });
});
