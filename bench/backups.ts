// Backups: time and size of `createBackup` and `restoreBackup` for a seeded installation (one account
// with 50,000 members seeded straight into the tables, and 200 stored 64 KiB files), against the baseline of
// copying the same database file and files with the file system in the same run.
// Usage: npm run bench:backups [-- --members 50000 --files 200]   (PostgreSQL too when TEST_DATABASE_URL is set)
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { createBackup } from "../src/backups/create-backup.js";
import { restoreBackup } from "../src/backups/restore-backup.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/database.js";
import { createClock } from "../src/lib/clock.js";
import { createServices } from "../src/services.js";
import { createLocalStorage } from "../src/storage/local-storage.js";
import { type Dialect, openTestDatabase } from "../src/testing/harness.js";
import { seedMembers } from "../src/testing/seed.js";
import { createScratchDatabase } from "../src/testing/server-process.js";

const { values } = parseArgs({
  options: {
    members: { type: "string", default: "50000" },
    files: { type: "string", default: "200" },
  },
});
const members = Number(values.members);
const fileCount = Number(values.files);
const secretKey = randomBytes(32);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function bench(dialect: Dialect) {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-backups-"));
  const source = await openTestDatabase(dialect);
  const storage = createLocalStorage(join(dir, "files"));
  const config = loadConfig({
    NODE_ENV: "test",
    SECRET_KEY: "k".repeat(40),
    DATABASE_URL: "sqlite::memory:",
    DATA_DIR: dir,
  });
  const services = await createServices({
    config,
    database: source.database,
    clock: createClock(),
    log: pino({ level: "silent" }),
    storage,
  });
  const { accountId } = await services.auth.createAccountWithRoot({
    email: "bench@example.com",
    password: "orchid-Lantern-Harbor-1",
    name: "Bench Person",
    accountName: "Bench Co",
  });
  await seedMembers(source.database.db, accountId, members);
  let fileBytes = 0;
  for (let i = 0; i < fileCount; i++) {
    const body = randomBytes(64 * 1024);
    fileBytes += body.length;
    await storage.put(`bench-${String(i).padStart(4, "0")}.png`, body, "image/png");
  }

  const out = join(dir, "backup.zip");
  const backupStart = process.hrtime.bigint();
  const { bytes, manifest } = await createBackup(
    { database: source.database, storage, secretKey, now: () => new Date() },
    out,
  );
  const backupSeconds = seconds(backupStart);

  // Baseline: the same bytes copied by the file system (SQLite only: PostgreSQL has no file to copy).
  let baseline: number | undefined;
  if (dialect === "sqlite") {
    const copyStart = process.hrtime.bigint();
    const file = source.url.slice("sqlite:".length);
    copyFileSync(file, join(dir, "copy.db"));
    for (const f of manifest.files)
      copyFileSync(join(dir, "files", f.key.slice(0, 2), f.key), join(dir, `copy-${f.key}`));
    baseline = seconds(copyStart);
  }

  const target = await createScratchDatabase(dialect);
  const targetDatabase = openDatabase(
    target.url,
    source.database.schema ? { schema: source.database.schema } : {},
  );
  const restoreStart = process.hrtime.bigint();
  await restoreBackup(
    { database: targetDatabase, storage: createLocalStorage(join(dir, "restored-files")), secretKey },
    out,
  );
  const restoreSeconds = seconds(restoreStart);

  await services.close();
  await targetDatabase.close();
  await target.drop();
  await source.drop();
  rmSync(dir, { recursive: true, force: true });
  return {
    dialect,
    rows: Object.values(manifest.tables).reduce((a, b) => a + b, 0),
    database_mb: mb(manifest.database.bytes),
    files_mb: mb(fileBytes),
    backup_mb: mb(bytes),
    backup_s: backupSeconds.toFixed(2),
    baseline_copy_s: baseline?.toFixed(2) ?? "-",
    restore_s: restoreSeconds.toFixed(2),
  };
}

const dialects: Dialect[] = process.env.TEST_DATABASE_URL ? ["sqlite", "postgres"] : ["sqlite"];
console.log(
  `| dialect | rows | database MB | files MB | backup ZIP MB | backup s | file copy s (baseline) | restore s |`,
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const dialect of dialects) {
  const r = await bench(dialect);
  console.log(
    `| ${r.dialect} | ${r.rows} | ${r.database_mb} | ${r.files_mb} | ${r.backup_mb} | ${r.backup_s} | ${r.baseline_copy_s} | ${r.restore_s} |`,
  );
}
