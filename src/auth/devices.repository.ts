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

    /** Whether the user has signed in from any device yet. */
    async hasAny(db: Executor, userId: string): Promise<boolean> {
      const row = await db
        .selectFrom("user_devices")
        .select("id")
        .where("user_id", "=", userId)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * A device without a known cookie that looks like one the user signed in from since `since` (same
     * browser family and system, same network): marks that one seen and answers true.
     */
    async touchSimilar(
      db: Executor,
      device: { userId: string; family: string; network: string; now: string; since: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable("user_devices")
        .set({ last_seen_at: device.now })
        .where("id", "in", (eb) =>
          eb
            .selectFrom("user_devices")
            .select("id")
            .where("user_id", "=", device.userId)
            .where("family", "=", device.family)
            .where("network", "=", device.network)
            .where("last_seen_at", ">=", device.since)
            .limit(1),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /**
     * Marks the device announced unless another of the user's devices was announced since `since`:
     * true when this log-in may send its "New sign-in" mail.
     */
    async claimAnnouncement(
      db: Executor,
      device: { userId: string; deviceHash: string; now: string; since: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable("user_devices")
        .set({ announced_at: device.now })
        .where("user_id", "=", device.userId)
        .where("device_hash", "=", device.deviceHash)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom("user_devices as announced")
                .select("announced.id")
                .where("announced.user_id", "=", device.userId)
                .where("announced.announced_at", ">", device.since),
            ),
          ),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Two log-ins racing from one new device both end up with the same single row. */
    async remember(
      db: Executor,
      device: {
        userId: string;
        deviceHash: string;
        userAgent: string | null;
        ip: string | null;
        family: string;
        network: string | null;
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
          family: device.family,
          network: device.network,
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
