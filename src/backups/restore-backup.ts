import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import type { DatabaseHandle } from "../db/database.js";
import { migrateToLatest, migrationNames } from "../db/migrate.js";
import type { FileStorage } from "../storage/storage.js";
import { BackupError } from "./backup-error.js";
import { MANIFEST_NAME, type Manifest, parseManifest, secretKeyCheck } from "./backup-manifest.js";
import { currentCounts, restoreDatabase, tablesWithRows } from "./database-dump.js";

export type RestoreDeps = {
  database: DatabaseHandle;
  storage: FileStorage;
  secretKey: Buffer;
  pgBinDir?: string | undefined;
  /** Restore although SECRET_KEY is not the one the backed-up installation used (its encrypted secrets are lost). */
  allowOtherSecretKey?: boolean;
};

export type RestoreSummary = { manifest: Manifest; rows: number; files: number; migrated: string[] };

type Zip = { entries: Map<string, yauzl.Entry>; read(entry: yauzl.Entry): Promise<Readable>; close(): void };

async function openZip(file: string): Promise<Zip> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new BackupError(`${file} is not a readable backup (${why}).`);
  }
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on("end", () => resolve());
    zip.on("error", (error: Error) => reject(new BackupError(`${file} is damaged: ${error.message}`)));
    zip.readEntry();
  });
  return {
    entries,
    read: (entry) =>
      zip.openReadStreamPromise(entry).catch((error: Error) => {
        throw new BackupError(`${entry.fileName} in the backup cannot be read: ${error.message}`);
      }),
    close: () => zip.close(),
  };
}

/** Streams `stream` (into `to` when given), returning its size and SHA-256. */
async function hashed(
  stream: Readable,
  to?: string,
): Promise<{ bytes: number; sha256: string; body?: Buffer }> {
  const hash = createHash("sha256");
  let bytes = 0;
  if (to) {
    stream.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    await pipeline(stream, createWriteStream(to));
    return { bytes, sha256: hash.digest("hex") };
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
    chunks.push(chunk as Buffer);
  }
  return { bytes, sha256: hash.digest("hex"), body: Buffer.concat(chunks) };
}

function checkEntry(
  path: string,
  expected: { bytes: number; sha256: string },
  actual: { bytes: number; sha256: string },
) {
  if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256)
    throw new BackupError(
      `Checksum mismatch for ${path} (the manifest says ${expected.bytes} bytes, SHA-256 ${expected.sha256.slice(0, 12)}…; ` +
        `the backup holds ${actual.bytes} bytes, ${actual.sha256.slice(0, 12)}…): the backup is damaged. Nothing was restored.`,
    );
}

/** Everything a restore checks before it writes anything. */
async function checkBackup(deps: RestoreDeps, zip: Zip): Promise<Manifest> {
  const manifestEntry = zip.entries.get(MANIFEST_NAME);
  if (!manifestEntry) throw new BackupError("This is not a Gatehouse backup: it has no manifest.json.");
  const text = (await hashed(await zip.read(manifestEntry))).body?.toString("utf8") ?? "";
  const manifest = parseManifest(text);

  if (manifest.dialect !== deps.database.dialect) {
    const names = { sqlite: "SQLite", postgres: "PostgreSQL" };
    throw new BackupError(
      `This backup is of a ${names[manifest.dialect]} database and DATABASE_URL is ${names[deps.database.dialect]}: ` +
        `a backup restores into the same kind of database (to move between them, restore into ${names[manifest.dialect]} first).`,
    );
  }
  const known = new Set(migrationNames());
  const unknown = manifest.migrations.filter((m) => !known.has(m));
  if (unknown.length)
    throw new BackupError(
      `This backup comes from a newer Gatehouse (${manifest.gatehouse_version}, migration ${manifest.migration}); ` +
        `this one does not know ${unknown.join(", ")}. Restore it with that version or a newer one.`,
    );
  if (manifest.secret_key_check !== secretKeyCheck(deps.secretKey) && !deps.allowOtherSecretKey)
    throw new BackupError(
      "SECRET_KEY is not the key of the installation this backup was taken from. Set the same SECRET_KEY " +
        "(or copy its data folder's secret.key) before restoring: two-factor secrets and webhook signing secrets " +
        "are encrypted with it. To restore anyway and lose them, add --allow-other-secret-key.",
    );

  const named = new Set([MANIFEST_NAME, manifest.database.path, ...manifest.files.map((f) => f.path)]);
  for (const path of named)
    if (!zip.entries.has(path)) throw new BackupError(`The backup is incomplete: ${path} is missing.`);
  for (const name of zip.entries.keys())
    if (!named.has(name))
      throw new BackupError(`The backup holds ${name}, which its manifest does not list.`);
  for (const file of manifest.files)
    if (file.path !== `files/${file.key}`)
      throw new BackupError(`The manifest's entry for ${file.key} is damaged.`);
  return manifest;
}

/**
 * Restores a backup into an empty database and the configured file storage: checks the manifest
 * (same dialect, a migration level this version knows, the same SECRET_KEY) and that the database
 * holds no data, verifies every entry's SHA-256, restores the database and checks its rows per table
 * against the manifest, puts the files back, and migrates to this version's latest.
 */
export async function restoreBackup(deps: RestoreDeps, file: string): Promise<RestoreSummary> {
  const zip = await openZip(file);
  const staging = await mkdtemp(join(tmpdir(), "gatehouse-restore-"));
  try {
    const manifest = await checkBackup(deps, zip);
    const occupied = await tablesWithRows(deps.database);
    if (Object.keys(occupied).length > 0) {
      const some = Object.entries(occupied)
        .slice(0, 4)
        .map(([table, rows]) => `${table}: ${rows} row${rows === 1 ? "" : "s"}`)
        .join(", ");
      throw new BackupError(
        `The database is not empty (${some}${Object.keys(occupied).length > 4 ? ", …" : ""}). ` +
          "A backup restores into an empty database only: point DATABASE_URL at a new SQLite file or a new PostgreSQL database.",
      );
    }

    // Every checksum first: a damaged backup changes nothing.
    const dumpFile = join(staging, "database");
    const dumpEntry = zip.entries.get(manifest.database.path) as yauzl.Entry;
    checkEntry(manifest.database.path, manifest.database, await hashed(await zip.read(dumpEntry), dumpFile));
    for (const stored of manifest.files) {
      const entry = zip.entries.get(stored.path) as yauzl.Entry;
      checkEntry(stored.path, stored, await hashed(await zip.read(entry)));
    }

    await restoreDatabase(deps.database, dumpFile, manifest, {
      pgBinDir: deps.pgBinDir,
      stagingDir: staging,
    });
    const counts = await currentCounts(deps.database);
    const differing = Object.entries(manifest.tables).filter(([table, rows]) => counts[table] !== rows);
    if (differing.length)
      throw new BackupError(
        `The restored database does not hold what the backup recorded: ${differing
          .map(([table, rows]) => `${table} has ${counts[table] ?? "no table"}, expected ${rows}`)
          .join("; ")}.`,
      );

    for (const stored of manifest.files) {
      const read = await hashed(await zip.read(zip.entries.get(stored.path) as yauzl.Entry));
      checkEntry(stored.path, stored, read);
      await deps.storage.put(stored.key, read.body as Buffer, stored.content_type);
    }

    // Claims held by the processes that were running when the backup was taken are void here.
    if ("jobs" in manifest.tables)
      await deps.database.db.updateTable("jobs").set({ locked_by: null, locked_until: null }).execute();
    const migrated = await migrateToLatest(deps.database);
    return {
      manifest,
      rows: Object.values(manifest.tables).reduce((sum, n) => sum + n, 0),
      files: manifest.files.length,
      migrated,
    };
  } finally {
    zip.close();
    await rm(staging, { recursive: true, force: true });
  }
}
