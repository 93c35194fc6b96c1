import { sql } from "kysely";
import type { Executor } from "../db/database.js";

export type StoredFile = {
  key: string;
  /** The account whose storage it counts toward; null for a person's own files. */
  accountId: string | null;
  /** The person whose own file it is (avatars); null for account files. */
  userId: string | null;
  kind: string;
  contentType: string;
  bytes: number;
};

/** The `stored_files` ledger: which files exist in storage, whose they are and how big. */
export function createStoredFilesRepository() {
  return {
    /** Recording a key again (the same image uploaded twice) keeps the first row. */
    async insert(db: Executor, file: StoredFile, now: string): Promise<void> {
      await db
        .insertInto("stored_files")
        .values({
          key: file.key,
          account_id: file.accountId,
          user_id: file.userId,
          kind: file.kind,
          content_type: file.contentType,
          bytes: file.bytes,
          created_at: now,
        })
        .onConflict((oc) => oc.column("key").doNothing())
        .execute();
    },
    async deleteAccountFiles(db: Executor, accountId: string, keys: string[]): Promise<void> {
      if (keys.length === 0) return;
      await db
        .deleteFrom("stored_files")
        .where("account_id", "=", accountId)
        .where("key", "in", keys)
        .execute();
    },
    async deleteUserFiles(db: Executor, userId: string, keys: string[]): Promise<void> {
      if (keys.length === 0) return;
      await db
        .deleteFrom("stored_files")
        .where("account_id", "is", null)
        .where("user_id", "=", userId)
        .where("key", "in", keys)
        .execute();
    },
    /** What the account's files take (its logo, later its exports): the billing page's storage usage. */
    async accountBytes(db: Executor, accountId: string): Promise<number> {
      const row = await db
        .selectFrom("stored_files")
        .select(sql<number | string | null>`sum(bytes)`.as("bytes"))
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return Number(row?.bytes ?? 0);
    },
  };
}

export type StoredFilesRepository = ReturnType<typeof createStoredFilesRepository>;
