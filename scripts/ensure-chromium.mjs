// The browser tests drive Debian's chromium. Install it when missing and we are allowed to (root + apt);
// otherwise say what to do. The browser tests themselves fail loudly without it — they never skip.
import { execFileSync, execSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (existsSync(path)) {
  process.exit(0);
}
const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
if (!canInstall) {
  console.warn(
    `chromium not found at ${path}; install it (apt-get install chromium) or set CHROMIUM_PATH for the browser tests.`,
  );
  process.exit(0);
}
console.log("Installing chromium for the browser tests (apt-get)…");
execSync("apt-get update -qq", { stdio: "inherit" });
execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], {
  stdio: "inherit",
  env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
});
