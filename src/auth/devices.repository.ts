import { PostgresAdapter } from "kysely";
import type { Executor } from "../db/database.js";
import { newId } from "../lib/ids.js";

export function createDevicesRepository() {
  return {
    /** Marks the device seen; false when the user has never signed in from it. */
    async touch(db: Executor, userId: string, deviceHash: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("user_devices")
        .set({ last_seen_at: now })
        .where("user_id", "=", userId)
        .where("device_hash", "=", deviceHash)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /**
     * Forgets the user's devices unseen since `before`, then marks this one seen; false when it is not
     * (or no longer) remembered. On PostgreSQL one statement: the update skips what the delete removes.
     */
    async forgetStaleAndTouch(
      db: Executor,
      device: { userId: string; deviceHash: string; now: string; before: string },
    ): Promise<boolean> {
      const forget = db
        .deleteFrom("user_devices")
        .where("user_id", "=", device.userId)
        .where("last_seen_at", "<", device.before);
      const touch = (query: Pick<Executor, "updateTable">) =>
        query
          .updateTable("user_devices")
          .set({ last_seen_at: device.now })
          .where("user_id", "=", device.userId)
          .where("device_hash", "=", device.deviceHash)
          .where("last_seen_at", ">=", device.before);
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        const result = await touch(db.with("forgotten", () => forget)).executeTakeFirst();
        return Number(result.numUpdatedRows) > 0;
      }
      await forget.execute();
      return Number((await touch(db).executeTakeFirst()).numUpdatedRows) > 0;
    },

    async countForUser(db: Executor, userId: string): Promise<number> {
      const row = await db
        .selectFrom("user_devices")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("user_id", "=", userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Two log-ins racing from one new device both end up with the same single row. */
    async remember(
      db: Executor,
      device: {
        userId: string;
        deviceHash: string;
        userAgent: string | null;
        ip: string | null;
        now: string;
      },
    ): Promise<void> {
      await db
        .insertInto("user_devices")
        .values({
          id: newId("device"),
          user_id: device.userId,
          device_hash: device.deviceHash,
          user_agent: device.userAgent?.slice(0, 512) ?? null,
          ip: device.ip,
          created_at: device.now,
          last_seen_at: device.now,
        })
        .onConflict((oc) => oc.columns(["user_id", "device_hash"]).doNothing())
        .execute();
    },

    /** Devices whose cookie must have expired are forgotten. */
    async forgetUnseenSince(db: Executor, userId: string, before: string): Promise<void> {
      await db
        .deleteFrom("user_devices")
        .where("user_id", "=", userId)
        .where("last_seen_at", "<", before)
        .execute();
    },
  };
}

export type DevicesRepository = ReturnType<typeof createDevicesRepository>;
