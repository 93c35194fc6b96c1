// `npm start` runs this first: the web app is built only when its sources changed since the build in
// web/dist. The hash of the sources is kept in web/dist itself, so any other build (`npm run build:web`,
// a bare `vite build`) empties the folder, drops the hash with it, and the next start builds again.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What the built app depends on: its sources, static files, build config and the exact dependencies. */
export const WEB_BUILD_INPUTS = [
  "web/src",
  "web/public",
  "web/index.html",
  "web/vite.config.ts",
  "web/tsconfig.json",
  "package-lock.json",
] as const;

/** Written into the output folder after a build; a dotfile, so the server never lists it as a page asset. */
export const WEB_BUILD_STAMP = "web/dist/.source-hash";

function filesUnder(root: string, path: string): string[] {
  const absolute = join(root, path);
  if (!existsSync(absolute)) return [];
  if (!statSync(absolute).isDirectory()) return [path];
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"));
}

/** SHA-256 over every input file's path and content, in a fixed order. */
export function webSourceHash(root: string): string {
  const hash = createHash("sha256");
  const files = WEB_BUILD_INPUTS.flatMap((input) => filesUnder(root, input)).sort();
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** The build in web/dist was made from exactly these sources. */
export function isWebBuildFresh(root: string, hash = webSourceHash(root)): boolean {
  const stamp = join(root, WEB_BUILD_STAMP);
  if (!existsSync(join(root, "web/dist/index.html")) || !existsSync(stamp)) return false;
  return readFileSync(stamp, "utf8").trim() === hash;
}

export function writeWebBuildStamp(root: string, hash: string): void {
  writeFileSync(join(root, WEB_BUILD_STAMP), `${hash}\n`);
}

function main() {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const hash = webSourceHash(root);
  if (isWebBuildFresh(root, hash)) {
    console.log(`web app unchanged since its last build (${hash.slice(0, 12)}): not rebuilding`);
    return;
  }
  const build = spawnSync("npm", ["run", "build:web"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
  writeWebBuildStamp(root, hash);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
