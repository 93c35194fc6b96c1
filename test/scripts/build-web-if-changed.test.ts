import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  isWebBuildFresh,
  WEB_BUILD_STAMP,
  webSourceHash,
  writeWebBuildStamp,
} from "../../scripts/build-web-if-changed.js";

describe("npm start's web build check", () => {
  let root: string;
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gatehouse-web-build-"));
    write("web/src/main.tsx", "render()");
    write("web/src/pages/Login/index.tsx", "login");
    write("web/index.html", "<div id=root></div>");
    write("web/vite.config.ts", "export default {}");
    write("package-lock.json", "{}");
    write("web/dist/index.html", "built");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("skips the build when web/dist carries the hash of the same sources", () => {
    expect(isWebBuildFresh(root)).toBe(false);
    writeWebBuildStamp(root, webSourceHash(root));
    expect(isWebBuildFresh(root)).toBe(true);
  });

  it.each([
    ["a page changes", "web/src/pages/Login/index.tsx", "login v2"],
    ["a source file is added", "web/src/new-page.tsx", "new"],
    ["index.html changes", "web/index.html", "<div id=app></div>"],
    ["the Vite config changes", "web/vite.config.ts", "export default { base: '/' }"],
    ["the dependencies change", "package-lock.json", '{"lockfileVersion":3}'],
    ["a static file is added", "web/public/favicon.svg", "<svg/>"],
  ])("builds again when %s", (_what, path, content) => {
    writeWebBuildStamp(root, webSourceHash(root));
    write(path, content);
    expect(isWebBuildFresh(root)).toBe(false);
  });

  it("builds again when a file moves (same content, another path)", () => {
    writeWebBuildStamp(root, webSourceHash(root));
    rmSync(join(root, "web/src/pages/Login/index.tsx"));
    write("web/src/pages/Login/login.tsx", "login");
    expect(isWebBuildFresh(root)).toBe(false);
  });

  it("builds again when the output is gone or was rebuilt by another command (no stamp)", () => {
    writeWebBuildStamp(root, webSourceHash(root));
    rmSync(join(root, "web/dist/index.html"));
    expect(isWebBuildFresh(root)).toBe(false);

    write("web/dist/index.html", "built");
    rmSync(join(root, WEB_BUILD_STAMP));
    expect(isWebBuildFresh(root)).toBe(false);
  });

  it("ignores what is not an input (the output itself, the server's sources)", () => {
    const before = webSourceHash(root);
    write("web/dist/assets/index-abc.js", "bundle");
    write("src/main.ts", "server");
    expect(webSourceHash(root)).toBe(before);
  });
});
