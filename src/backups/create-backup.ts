import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";
import type { DatabaseHandle } from "../db/database.js";
import type { FileStorage } from "../storage/storage.js";
import { BackupError } from "./backup-error.js";
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  gatehouseVersion,
  MANIFEST_NAME,
  type Manifest,
  secretKeyCheck,
} from "./backup-manifest.js";
import { snapshotDatabase } from "./database-dump.js";

export type BackupDeps = {
  database: DatabaseHandle;
  storage: FileStorage;
  secretKey: Buffer;
  now: () => Date;
  pgBinDir?: string | undefined;
};

export type BackupSummary = { file: string; bytes: number; manifest: Manifest };

const ALREADY_COMPRESSED = /\.(png|webp|jpe?g|gif|zip|gz|pdf)$/;

const CONTENT_TYPES: Record<string, string> = {
  png: "image/png",
  webp: "image/webp",
  zip: "application/zip",
  csv: "text/csv",
  json: "application/json",
  jsonl: "application/jsonl",
  pdf: "application/pdf",
};

function contentTypeOf(key: string): string {
  return CONTENT_TYPES[key.slice(key.lastIndexOf(".") + 1)] ?? "application/octet-stream";
}

/** Adds `stream` as `path` and resolves with its size and SHA-256 once the ZIP has taken all of it. */
function addHashed(
  zip: yazl.ZipFile,
  path: string,
  stream: Readable,
  options: { compress: boolean; mtime: Date },
): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash("sha256");
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
      flush(done) {
        resolvePromise({ bytes, sha256: hash.digest("hex") });
        done();
      },
    });
    stream.once("error", (error) => {
      tap.destroy(error);
      reject(error);
    });
    zip.addReadStream(stream.pipe(tap), path, options);
  });
}

/**
 * Writes one ZIP backup to `out`: every stored file, a consistent snapshot of the database, and
 * manifest.json (format, versions, dialect, migration level, rows per table, every entry's size and
 * SHA-256). Files are copied once before the snapshot and, for those the snapshot names that were
 * stored meanwhile, once after it: a file is stored before any row names it and deleted only after
 * the row naming it is gone, so everything the snapshot names is in the backup (a file deleted in the
 * moment between is listed in `missing_files`). Written beside `out` and renamed into place at the end.
 */
export async function createBackup(deps: BackupDeps, out: string): Promise<BackupSummary> {
  const target = resolve(out);
  if (existsSync(target)) throw new BackupError(`${out} already exists; choose a new file name.`);
  if (!existsSync(dirname(target))) throw new BackupError(`The folder ${dirname(target)} does not exist.`);
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.`));
  const createdAt = deps.now();
  const mtime = createdAt;
  const zip = new yazl.ZipFile();
  const partial = join(staging, "backup.zip");
  const written = pipeline(zip.outputStream as Readable, createWriteStream(partial));
  written.catch(() => {});
  // A ZIP that cannot be written (disk full) stops taking entries: waiting for one would never end.
  const writeFailed = written.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => Promise.reject(error),
  );
  writeFailed.catch(() => {});
  const entry = <T>(adding: Promise<T>) => Promise.race([adding, writeFailed]);
  try {
    const copied = new Map<string, { path: string; bytes: number; sha256: string }>();
    const copy = async (key: string): Promise<boolean> => {
      const found = await deps.storage.get(key);
      if (!found) return false;
      const body = found.body ?? Readable.from([found.bytes ?? Buffer.alloc(0)]);
      const path = `files/${key}`;
      const added = await entry(
        addHashed(zip, path, body, { compress: !ALREADY_COMPRESSED.test(key), mtime }),
      );
      copied.set(key, { path, ...added });
      return true;
    };

    const before: string[] = [];
    for await (const key of deps.storage.list()) before.push(key);
    for (const key of before.sort()) await copy(key);

    const dumpName = deps.database.dialect === "sqlite" ? "gatehouse.sqlite" : "gatehouse.pgdump";
    const dumpFile = join(staging, dumpName);
    const facts = await snapshotDatabase(deps.database, dumpFile, { pgBinDir: deps.pgBinDir });
    const database = {
      path: `database/${dumpName}`,
      // A custom-format dump is compressed already.
      ...(await entry(
        addHashed(zip, `database/${dumpName}`, createReadStream(dumpFile), {
          compress: deps.database.dialect === "sqlite",
          mtime,
        }),
      )),
    };

    const missing: string[] = [];
    for (const file of facts.storedFiles) {
      if (copied.has(file.key)) continue;
      if (!(await copy(file.key))) missing.push(file.key);
    }

    const contentTypes = new Map(facts.storedFiles.map((f) => [f.key, f.contentType]));
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      format_version: BACKUP_FORMAT_VERSION,
      gatehouse_version: gatehouseVersion(),
      dialect: deps.database.dialect,
      created_at: createdAt.toISOString(),
      migration: facts.migrations.at(-1) ?? null,
      migrations: facts.migrations,
      ...(facts.postgres ? { postgres: facts.postgres } : {}),
      secret_key_check: secretKeyCheck(deps.secretKey),
      database,
      tables: facts.tables,
      files: [...copied.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, entry]) => ({
          key,
          ...entry,
          content_type: contentTypes.get(key) ?? contentTypeOf(key),
        })),
      missing_files: missing.sort(),
    };
    zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), MANIFEST_NAME, { mtime });
    zip.end();
    await written;
    if (existsSync(target))
      throw new BackupError(`${out} appeared while the backup was written; it is left as it was.`);
    await rename(partial, target);
    const { size } = await stat(target);
    return { file: target, bytes: size, manifest };
  } catch (error) {
    (zip.outputStream as Readable).destroy();
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
