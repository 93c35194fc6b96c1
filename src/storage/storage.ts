import type { Readable } from "node:stream";
import type { StorageConfig } from "../config.js";
import { createLocalStorage } from "./local-storage.js";
import { createS3Storage } from "./s3-storage.js";

/** A stored file read back, as a stream or (from a cache) as its bytes, and its size. */
export type StoredObject = { body?: Readable; bytes?: Buffer; size: number };

/**
 * Where files live: the data folder, or S3-compatible object storage shared by several processes.
 * Keys are flat names (STORAGE_KEY); a file under a key never changes (content-addressed keys), so a
 * put of an existing key may simply replace it.
 */
export interface FileStorage {
  readonly kind: "local" | "s3";
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Stores the file at `path` (on this machine) under `key`, streamed: memory stays flat for any size. */
  putFile(key: string, path: string, contentType: string): Promise<void>;
  /** undefined when there is no such file. */
  get(key: string): Promise<StoredObject | undefined>;
  /** Deleting a missing file is not an error. */
  delete(key: string): Promise<void>;
  /** Its size in bytes; undefined when there is no such file. */
  size(key: string): Promise<number | undefined>;
  /** Every stored key, in no particular order (backups copy them all). */
  list(): AsyncIterable<string>;
  close(): void;
}

/** What a storage key may look like: a flat name, no path separators, no dot segments. */
export const STORAGE_KEY = /^[a-z0-9][a-z0-9_-]{0,127}(\.[a-z0-9]{1,10})?$/;

export function assertStorageKey(key: string): void {
  if (!STORAGE_KEY.test(key)) throw new RangeError(`Not a storage key: ${JSON.stringify(key.slice(0, 80))}`);
}

export function createStorage(config: StorageConfig): FileStorage {
  return config.kind === "s3" ? createS3Storage(config) : createLocalStorage(config.dir);
}
