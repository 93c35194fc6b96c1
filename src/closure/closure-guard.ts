import type { Executor } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import { AppError } from "../http/errors.js";

/**
 * 409 `account_closing` while the account is scheduled for deletion: what would outlive it or bind it
 * (new invitations, plan changes) is refused. Called inside the change's transaction, after its lock.
 */
export async function refuseWhileClosing(db: Executor, accountId: string, what: string): Promise<void> {
  const closure = await db
    .selectFrom("account_closures")
    .select("delete_at")
    .where("account_id", "=", accountId)
    .executeTakeFirst();
  if (closure)
    throw new AppError(
      "account_closing",
      `This account is scheduled for deletion on ${closure.delete_at}: ${what} are not possible until the closure is cancelled`,
    );
}

const closureOf = prepared(1, (db, accountId: string) =>
  db.selectFrom("account_closures").select("delete_at").where("account_id", "=", accountId),
);

/** When the account is deleted, or null when no closure is scheduled (the members' banner). */
export async function closureDeleteAt(db: Executor, accountId: string): Promise<string | null> {
  const row = await closureOf.first(db, accountId);
  return row?.delete_at ?? null;
}
