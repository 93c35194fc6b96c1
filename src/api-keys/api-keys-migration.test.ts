import { describe, expect, it } from "vitest";
import { openDatabase } from "../db/database.js";
import { migrateToLatest, migrateUpTo } from "../db/migrate.js";
import { BUILTIN_ROLES } from "../roles/permissions.js";
import { testDialects } from "../testing/harness.js";
import { createScratchDatabase } from "../testing/server-process.js";

const BEFORE = {
  root: [
    "account:read",
    "account:update",
    "account:close",
    "members:read",
    "members:invite",
    "members:update_role",
    "members:suspend",
    "members:delete",
    "roles:read",
    "roles:manage",
    "teams:read",
    "teams:manage",
    "billing:read",
    "billing:manage",
    "security:read",
    "security:manage",
    "api_keys:manage",
    "audit:read",
    "data:export",
    "resources:read",
    "resources:write",
  ],
  developer: [
    "account:read",
    "members:read",
    "teams:read",
    "roles:read",
    "resources:read",
    "resources:write",
  ],
  monitor: ["account:read", "members:read", "teams:read", "roles:read", "resources:read"],
  billing: ["account:read", "billing:read", "billing:manage"],
};

describe.each(testDialects())("migration 0015 on an upgraded %s database", (dialect) => {
  it("gives existing accounts' built-in roles what the catalog now gives them, and nothing else", async () => {
    const scratch = await createScratchDatabase(dialect);
    const database = openDatabase(scratch.url);
    try {
      await migrateUpTo(database, "0014-jobs-and-mail-queue");
      const at = "2026-01-01T00:00:00.000Z";
      await database.db
        .insertInto("accounts")
        .values({ id: "acct_old", name: "Old", slug: "old", settings: "{}", created_at: at, updated_at: at })
        .execute();
      const roles: Array<[string, string, string[], number]> = [
        ["role_root", "root", BEFORE.root, 1],
        ["role_admin", "admin", BEFORE.root.filter((p) => p !== "account:close"), 1],
        ["role_dev", "developer", BEFORE.developer, 1],
        ["role_mon", "monitor", BEFORE.monitor, 1],
        ["role_bill", "billing", BEFORE.billing, 1],
        // A custom role is the account's own business, whatever its key.
        ["role_custom", "developer_2", BEFORE.developer, 0],
      ];
      for (const [id, key, permissions, builtin] of roles) {
        await database.db
          .insertInto("roles")
          .values({
            id,
            account_id: "acct_old",
            key,
            name: key,
            description: "",
            permissions: JSON.stringify(permissions),
            builtin,
            created_at: at,
            updated_at: at,
          })
          .execute();
      }

      expect(await migrateToLatest(database)).toContain("0015-api-keys");

      const stored = Object.fromEntries(
        (await database.db.selectFrom("roles").select(["key", "permissions"]).execute()).map((r) => [
          r.key,
          (JSON.parse(r.permissions) as string[]).sort(),
        ]),
      );
      for (const role of BUILTIN_ROLES)
        expect(stored[role.key], role.key).toEqual([...role.permissions].sort());
      expect(stored.developer_2).toEqual([...BEFORE.developer].sort());
    } finally {
      await database.close();
      await scratch.drop();
    }
  });
});
