import { type RawBuilder, type SqlBool, sql } from "kysely";
import { invalidFields } from "../http/errors.js";

/** Where a newest-first page (by `created_at`, then `id`, both descending) left off. */
export type NewestFirstCursor = { createdAt: string; id: string };

/** One page of a newest-first list: its size, and where the page before it ended. */
export type NewestFirstPage = { limit: number; after?: NewestFirstCursor | undefined };

/**
 * The rows after `cursor` in newest-first order, for a single-table query whose columns are
 * `created_at` and `id`; pair it with `.orderBy("created_at", "desc").orderBy("id", "desc")`.
 */
export function olderThan(cursor: NewestFirstCursor): RawBuilder<SqlBool> {
  return sql<SqlBool>`(created_at < ${cursor.createdAt} or (created_at = ${cursor.createdAt} and id < ${cursor.id}))`;
}

/** The cursor a previous page gave, read back; anything else is the caller's mistake (400). */
export function decodeNewestFirstCursor(value: string): NewestFirstCursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Partial<NewestFirstCursor>;
    if (typeof parsed.createdAt === "string" && typeof parsed.id === "string")
      return { createdAt: parsed.createdAt, id: parsed.id };
  } catch {}
  throw invalidFields([
    { path: "cursor", code: "invalid", message: "This cursor is not one a previous page gave" },
  ]);
}

/** A page from `limit + 1` rows read: the first `limit`, and the cursor to the next page if there is one. */
export function newestFirstPage<T extends NewestFirstCursor>(rows: T[], limit: number) {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: shown,
    nextCursor:
      rows.length > limit && last
        ? Buffer.from(JSON.stringify({ createdAt: last.createdAt, id: last.id })).toString("base64url")
        : null,
  };
}
