import type { Actor } from "../audit/audit.repository.js";
import type { Executor } from "../db/database.js";

export type ResetRequest = { id: string; email: string; actor: Actor; createdAt: string };

export type ResetRequestsRepository = ReturnType<typeof createResetRequestsRepository>;

export function createResetRequestsRepository() {
  return {
    async insert(db: Executor, request: ResetRequest): Promise<void> {
      // The device cookie is never recorded.
      const { deviceToken: _, ...actor } = request.actor;
      await db
        .insertInto("password_reset_requests")
        .values({
          id: request.id,
          email: request.email,
          actor: JSON.stringify(actor),
          created_at: request.createdAt,
        })
        .execute();
    },

    async any(db: Executor): Promise<boolean> {
      return (
        (await db.selectFrom("password_reset_requests").select("id").limit(1).executeTakeFirst()) !==
        undefined
      );
    },

    async oldest(db: Executor, limit: number): Promise<ResetRequest[]> {
      const rows = await db
        .selectFrom("password_reset_requests")
        .selectAll()
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id,
        email: r.email,
        actor: JSON.parse(r.actor) as Actor,
        createdAt: r.created_at,
      }));
    },

    /** Removes the request; false when another run took it first. */
    async take(db: Executor, id: string): Promise<boolean> {
      const result = await db.deleteFrom("password_reset_requests").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
