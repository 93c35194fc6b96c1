import type { Insertable } from "kysely";
import type { Db } from "../db/database.js";
import type { MembershipsTable, UsersTable } from "../db/tables.js";
import { memberSortName } from "../users/users.repository.js";

/**
 * Members made straight in the database (no invitations, no password hashing): 50,000 for the benchmark,
 * or the seats a billing test needs. Every 20th is suspended; roles rotate over the non-Root ones.
 */
export async function seedMembers(
  db: Db,
  accountId: string,
  count: number,
  options: { prefix?: string } = {},
) {
  const prefix = options.prefix ?? "bench";
  const roles = await db
    .selectFrom("roles")
    .select(["id", "key"])
    .where("account_id", "=", accountId)
    .execute();
  const roleIds = roles.filter((r) => r.key !== "root").map((r) => r.id);
  const first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim"];
  const last = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Berners-Lee",
  ];
  const start = Date.parse("2026-01-01T00:00:00.000Z");
  for (let offset = 0; offset < count; offset += 500) {
    const users: Insertable<UsersTable>[] = [];
    const memberships: Insertable<MembershipsTable>[] = [];
    for (let i = offset; i < Math.min(count, offset + 500); i++) {
      const id = `usr_${prefix}${String(i).padStart(17, "0")}`;
      const at = new Date(start + i * 60_000).toISOString();
      users.push({
        id,
        email: `member${i}@${prefix}.example`,
        email_normalized: `member${i}@${prefix}.example`,
        email_verified_at: at,
        password_hash: null,
        password_changed_at: null,
        must_change_password: 0,
        username: null,
        first_name: first[i % 10] as string,
        last_name: `${last[Math.floor(i / 10) % 10]} ${i}`,
        mobile: null,
        timezone: "UTC",
        locale: "en",
        avatar_key: null,
        avatar_small_key: null,
        preferences: null,
        last_login_at: i % 3 === 0 ? null : at,
        last_login_ip: null,
        last_account_id: accountId,
        deactivated_at: null,
        created_at: at,
        updated_at: at,
      });
      memberships.push({
        id: `mem_${prefix}${String(i).padStart(17, "0")}`,
        account_id: accountId,
        user_id: id,
        role_id: roleIds[i % roleIds.length] as string,
        status: i % 20 === 0 ? "suspended" : "active",
        sort_name: memberSortName(
          first[i % 10] as string,
          `${last[Math.floor(i / 10) % 10]} ${i}`,
          `member${i}@${prefix}.example`,
        ),
        email_normalized: `member${i}@${prefix}.example`,
        last_login_at: i % 3 === 0 ? null : at,
        created_at: at,
        updated_at: at,
      });
    }
    await db.transaction().execute(async (trx) => {
      await trx.insertInto("users").values(users).execute();
      await trx.insertInto("memberships").values(memberships).execute();
    });
  }
}
