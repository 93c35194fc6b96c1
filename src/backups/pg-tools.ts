import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { BackupError } from "./backup-error.js";

const run = promisify(execFile);

export type PgTool = "pg_dump" | "pg_restore";

/** A client program found on this machine, with the major version it reports. */
export type FoundTool = { path: string; major: number; version: string };

/** `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)` → 15.20; `… 9.6.24` → 9.6. */
export function parseToolVersion(output: string): { major: number; version: string } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  // Before 10 the major version had two parts (9.6); those servers are long out of support anyway.
  const major = first >= 10 ? first : Number(`${first}.${match[2] ?? 0}`);
  return { major, version: [match[1], match[2], match[3]].filter((p) => p !== undefined).join(".") };
}

/** Where to look: PG_BIN_DIR alone when set; else PATH, then Debian's and the PGDG RPMs' folders. */
function candidateDirs(binDir: string | undefined): string[] {
  if (binDir) return [binDir];
  const fromPath = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  const versioned = (root: string, prefix: string) => {
    try {
      return readdirSync(root)
        .filter((name) => name.startsWith(prefix))
        .map((name) => join(root, name, "bin"));
    } catch {
      return [];
    }
  };
  return [...fromPath, ...versioned("/usr/lib/postgresql", ""), ...versioned("/usr", "pgsql-")];
}

/**
 * The `tool` (pg_dump or pg_restore) to use with a server of major version `serverMajor`: the same
 * major version when there is one, else the oldest newer one (pg_dump refuses servers newer than
 * itself, and a newer pg_dump's archive may use a format an older pg_restore cannot read).
 */
export async function findPgTool(tool: PgTool, serverMajor: number, binDir?: string): Promise<FoundTool> {
  const found: FoundTool[] = [];
  const seen = new Set<string>();
  for (const dir of candidateDirs(binDir)) {
    const path = join(dir, tool);
    if (seen.has(path) || !existsSync(path)) continue;
    seen.add(path);
    try {
      const { stdout } = await run(path, ["--version"], { timeout: 10_000 });
      const version = parseToolVersion(stdout);
      if (version) found.push({ path, ...version });
    } catch {
      // Not runnable (a broken wrapper, another architecture): look further.
    }
  }
  const usable = found.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
  const best = usable[0];
  if (best) return best;
  const where = binDir ? `in PG_BIN_DIR (${binDir})` : "on PATH or in /usr/lib/postgresql/*/bin";
  if (found.length === 0)
    throw new BackupError(
      `${tool} was not found ${where}. Install the PostgreSQL ${serverMajor} client tools ` +
        `(Debian/Ubuntu: apt-get install postgresql-client-${serverMajor}; or set PG_BIN_DIR to their folder).`,
    );
  const versions = found.map((t) => `${t.path} is ${t.version}`).join(", ");
  throw new BackupError(
    `${tool} ${serverMajor} or newer is needed for this PostgreSQL ${serverMajor} server, but ${versions}. ` +
      `Install the PostgreSQL ${serverMajor} client tools (apt-get install postgresql-client-${serverMajor}) ` +
      "or set PG_BIN_DIR to their folder.",
  );
}

/**
 * A connection for a client program: the URL without its password (it would show in `ps` and in
 * error messages) in `-d`, and the password in PGPASSWORD.
 */
export function pgConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = new URL(databaseUrl);
  const password = decodeURIComponent(url.password);
  url.password = "";
  return {
    dbname: url.toString(),
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}), PGAPPNAME: "gatehouse-backup" },
  };
}

/** Runs a client program; a non-zero exit becomes a BackupError with what it wrote to stderr. */
export async function runPgTool(tool: FoundTool, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const name = tool.path.slice(tool.path.lastIndexOf("/") + 1);
  try {
    await run(tool.path, args, { env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const code = (error as { code?: unknown }).code;
    throw new BackupError(`${name} failed${stderr ? `: ${stderr}` : ` (exit ${String(code)})`}`);
  }
}
