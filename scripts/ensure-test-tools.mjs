// Tools the tests drive for real: Debian's chromium (browser tests), oathtool (a second TOTP
// implementation) and, when the tests run against PostgreSQL, its client tools (pg_dump and pg_restore
// for the backup tests; src/backups/pg-tools.ts looks for them on PATH and in /usr/lib/postgresql). Install what is missing when we are allowed to (root + apt); otherwise say what to
// do. The tests themselves fail loudly without them — they never skip.
import { execFileSync, execSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const wanted = [
  { path: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", pkg: "chromium" },
  { path: "/usr/bin/oathtool", pkg: "oathtool" },
];
const hasPgDump = () => {
  const onPath = (process.env.PATH ?? "").split(":").some((dir) => dir && existsSync(`${dir}/pg_dump`));
  const versioned = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/pg_dump`))
    : false;
  return onPath || versioned;
};
const missing = wanted.filter((tool) => !existsSync(tool.path));
if (process.env.TEST_DATABASE_URL && !hasPgDump())
  missing.push({ path: "pg_dump", pkg: "postgresql-client" });
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
