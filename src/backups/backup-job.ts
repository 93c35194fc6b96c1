import { mkdir, readdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import type { FastifyBaseLogger } from "fastify";
import type { BackupsConfig } from "../config.js";
import type { DatabaseHandle } from "../db/database.js";
import type { Job } from "../jobs/job-runner.js";
import type { Clock } from "../lib/clock.js";
import type { FileStorage } from "../storage/storage.js";
import { createBackup } from "./create-backup.js";

export const BACKUP_JOB = "backups";

/** What scheduled backups are named: the moment they were taken, in UTC, sortable as text. */
const BACKUP_FILE = /^gatehouse-backup-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.zip$/;

export function backupFileName(at: Date): string {
  return `gatehouse-backup-${at.toISOString().replace(/[:.]/g, "-")}.zip`;
}

/** Deletes all but the newest `keep` scheduled backups in `dir` (other files there are left alone). */
export async function pruneBackups(dir: string, keep: number): Promise<string[]> {
  const backups = (await readdir(dir)).filter((name) => BACKUP_FILE.test(name)).sort();
  const old = backups.slice(0, Math.max(0, backups.length - keep));
  for (const name of old) await rm(join(dir, name), { force: true });
  return old;
}

/**
 * Scheduled backups (BACKUP_DIR): a job of the one loop, so each run happens in one process; a failed
 * run is logged and retried with the loop's backoff, and older backups are deleted only after a new
 * one is complete.
 */
export function createBackupJob(deps: {
  backups: BackupsConfig;
  database: DatabaseHandle;
  storage: FileStorage;
  secretKey: Buffer;
  pgBinDir: string | undefined;
  clock: Clock;
  log: FastifyBaseLogger;
}): Job {
  const { dir, intervalSeconds, keep } = deps.backups;
  return {
    name: BACKUP_JOB,
    everySeconds: intervalSeconds,
    description: `backs up the database and stored files into BACKUP_DIR, keeping the newest ${keep}`,
    run: async () => {
      await mkdir(dir, { recursive: true });
      const at = deps.clock.now();
      const { file, bytes, manifest } = await createBackup(
        {
          database: deps.database,
          storage: deps.storage,
          secretKey: deps.secretKey,
          now: () => at,
          pgBinDir: deps.pgBinDir,
        },
        join(dir, backupFileName(at)),
      );
      const deleted = await pruneBackups(dir, keep);
      deps.log.info({ file, bytes, files: manifest.files.length, deleted }, "backup written");
      return { file: basename(file), bytes, files: manifest.files.length, deleted };
    },
  };
}
