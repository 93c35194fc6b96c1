// Tools the tests drive for real: Debian's chromium (browser tests) and oathtool (a second TOTP
// implementation). Install what is missing when we are allowed to (root + apt); otherwise say what to
// do. The tests themselves fail loudly without them — they never skip.
import { execFileSync, execSync } from "node:child_process";
import { existsSync } from "node:fs";

const wanted = [
  { path: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", pkg: "chromium" },
  { path: "/usr/bin/oathtool", pkg: "oathtool" },
];
const missing = wanted.filter((tool) => !existsSync(tool.path));
if (missing.length === 0) process.exit(0);
const names = missing.map((tool) => tool.pkg);
const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
if (!canInstall) {
  console.warn(
    `Missing for the tests: ${names.join(", ")}. Install them (apt-get install ${names.join(" ")}).`,
  );
  process.exit(0);
}
console.log(`Installing ${names.join(", ")} for the tests (apt-get)…`);
execSync("apt-get update -qq", { stdio: "inherit" });
execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...names], {
  stdio: "inherit",
  env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
});
