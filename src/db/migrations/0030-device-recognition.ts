import type { Kysely } from "kysely";
import { deviceFamily, networkOf } from "../../auth/device-identity.js";

/**
 * Devices are also recognised without their cookie (API clients, the CLI, a browser that clears
 * cookies): by the browser family and operating system and by the network (/24, /48) they sign in
 * from. `announced_at` marks the devices a "New sign-in" mail went out for: at most one an hour.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("user_devices").addColumn("family", "text").execute();
  await db.schema.alterTable("user_devices").addColumn("network", "text").execute();
  await db.schema.alterTable("user_devices").addColumn("announced_at", "text").execute();
  // The stored user agent and address give the same values the log-in path computes from now on.
  const rows = (await db.selectFrom("user_devices").select(["id", "user_agent", "ip"]).execute()) as Array<{
    id: string;
    user_agent: string | null;
    ip: string | null;
  }>;
  for (const row of rows)
    await db
      .updateTable("user_devices")
      .set({ family: deviceFamily(row.user_agent), network: networkOf(row.ip) })
      .where("id", "=", row.id)
      .execute();
}
