import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/database.js";
import { createStorage } from "../storage/storage.js";
import { BackupError } from "./backup-error.js";
import { createBackup } from "./create-backup.js";
import { restoreBackup } from "./restore-backup.js";

export const BACKUP_USAGE = `Usage: gatehouse backup --out <file>
       gatehouse restore <file> [--allow-other-secret-key]

  backup    a consistent snapshot of the database (SQLite: the online backup API; PostgreSQL:
            pg_dump --format=custom) and every stored file, as one ZIP with a manifest of checksums;
            safe while the server runs
  restore   restore a backup into an empty database of the same kind, and its files into the
            configured storage, after checking every checksum; then migrate to this version`;

type Out = { log(line: string): void; error(line: string): void };

const megabytes = (bytes: number) =>
  bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * `gatehouse backup …` and `gatehouse restore …`, configured from the environment like the server.
 * Returns the exit code: 0 done, 1 refused or failed (with the reason), 2 bad usage.
 */
export async function runBackupCommand(
  command: "backup" | "restore",
  args: string[],
  out: Out = console,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    out.error(`${error instanceof Error ? error.message : String(error)}\n\n${BACKUP_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (command === "backup" && (!values.out || positionals.length > 0 || values["allow-other-secret-key"])) {
    out.error(`backup needs --out <file> and nothing else\n\n${BACKUP_USAGE}`);
    return 2;
  }
  if (command === "restore" && (positionals.length !== 1 || values.out)) {
    out.error(`restore needs the backup file\n\n${BACKUP_USAGE}`);
    return 2;
  }

  const config = loadConfig(env);
  const database = openDatabase(config.databaseUrl);
  const storage = createStorage(config.storage);
  const started = Date.now();
  try {
    if (command === "backup") {
      const { file, bytes, manifest } = await createBackup(
        { database, storage, secretKey: config.secretKey, now: () => new Date(), pgBinDir: config.pgBinDir },
        values.out as string,
      );
      const fileBytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
      out.log(
        `Backup written to ${file}: ${manifest.dialect} database at ${manifest.migration ?? "no migration"} ` +
          `(${megabytes(manifest.database.bytes)}), ${manifest.files.length} files (${megabytes(fileBytes)}); ` +
          `${megabytes(bytes)} in all, in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
      );
      if (manifest.missing_files.length)
        out.error(
          `Warning: ${manifest.missing_files.length} files were deleted while the backup ran and are not in it: ${manifest.missing_files.join(", ")}`,
        );
      out.log(
        "Keep SECRET_KEY safe apart from the backups: restoring needs it (two-factor and webhook secrets).",
      );
      return 0;
    }
    const summary = await restoreBackup(
      {
        database,
        storage,
        secretKey: config.secretKey,
        pgBinDir: config.pgBinDir,
        allowOtherSecretKey: values["allow-other-secret-key"] ?? false,
      },
      positionals[0] as string,
    );
    const { manifest } = summary;
    out.log(
      `Restored the backup of ${manifest.created_at} (Gatehouse ${manifest.gatehouse_version}, ${manifest.dialect}, ` +
        `migration ${manifest.migration ?? "none"}): ${summary.rows} rows in ${Object.keys(manifest.tables).length} tables, ` +
        `${summary.files} files.`,
    );
    out.log(
      summary.migrated.length
        ? `Migrated since: ${summary.migrated.join(", ")}.`
        : "No migrations were needed.",
    );
    return 0;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    out.error(`Error: ${error.message}`);
    return 1;
  } finally {
    storage.close();
    await database.close();
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: { out: { type: "string" }, "allow-other-secret-key": { type: "boolean" } },
    allowPositionals: true,
    strict: true,
  });
}
