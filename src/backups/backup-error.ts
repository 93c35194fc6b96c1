/** A backup or restore that cannot go on, with a message for the operator (the CLI exits 1 with it). */
export class BackupError extends Error {
  override name = "BackupError";
}
