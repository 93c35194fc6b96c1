import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { type Static, Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { STORAGE_KEY } from "../storage/storage.js";
import { BackupError } from "./backup-error.js";

export const MANIFEST_NAME = "manifest.json";
export const BACKUP_FORMAT = "gatehouse-backup";
export const BACKUP_FORMAT_VERSION = 1;

const Sha256 = Type.String({ pattern: "^[0-9a-f]{64}$" });
const Entry = Type.Object({ path: Type.String(), bytes: Type.Integer({ minimum: 0 }), sha256: Sha256 });

/** manifest.json: what the backup holds and how to check it, written last into the ZIP. */
export const ManifestSchema = Type.Object({
  format: Type.Literal(BACKUP_FORMAT),
  format_version: Type.Integer(),
  gatehouse_version: Type.String(),
  dialect: Type.Union([Type.Literal("sqlite"), Type.Literal("postgres")]),
  created_at: Type.String(),
  /** The newest migration applied in the backed-up database (its "migration level"). */
  migration: Type.Union([Type.String(), Type.Null()]),
  migrations: Type.Array(Type.String()),
  postgres: Type.Optional(
    Type.Object({ schema: Type.String(), server_version: Type.String(), pg_dump_version: Type.String() }),
  ),
  /**
   * HMAC-SHA256 of a fixed text under SECRET_KEY (the first 16 hex digits): tells a restore whether it
   * runs with the key the encrypted secrets (TOTP seeds, webhook secrets) need, without revealing it.
   */
  secret_key_check: Type.String(),
  database: Entry,
  /** Rows per table at the snapshot; a restore checks that it put back exactly these. */
  tables: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  files: Type.Array(
    Type.Object({
      key: Type.String({ pattern: STORAGE_KEY.source }),
      path: Type.String(),
      bytes: Type.Integer({ minimum: 0 }),
      sha256: Sha256,
      content_type: Type.String(),
    }),
  ),
  /** Files the snapshot's `stored_files` names that were deleted before they could be copied. */
  missing_files: Type.Array(Type.String()),
});

export type Manifest = Static<typeof ManifestSchema>;

export function secretKeyCheck(secretKey: Buffer): string {
  return createHmac("sha256", secretKey).update("gatehouse backup key check").digest("hex").slice(0, 16);
}

/** The manifest read from a backup, or a BackupError saying what is wrong with it. */
export function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BackupError(
      "The backup's manifest.json is not JSON: the file is damaged or not a Gatehouse backup.",
    );
  }
  const format = (value as { format?: unknown; format_version?: unknown } | null) ?? {};
  if (format.format !== BACKUP_FORMAT)
    throw new BackupError("This is not a Gatehouse backup (manifest.json).");
  if (typeof format.format_version === "number" && format.format_version > BACKUP_FORMAT_VERSION)
    throw new BackupError(
      `This backup has format version ${format.format_version}; this Gatehouse reads version ${BACKUP_FORMAT_VERSION}. Restore it with the Gatehouse version that made it, or a newer one.`,
    );
  const error = Value.Errors(ManifestSchema, value).First();
  if (error)
    throw new BackupError(`The backup's manifest.json is damaged: ${error.path || "/"} ${error.message}`);
  return value as Manifest;
}

let version: string | undefined;
/** package.json's version (src/ and dist/ sit at the same depth under the package). */
export function gatehouseVersion(): string {
  version ??= (
    JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
  ).version;
  return version;
}
