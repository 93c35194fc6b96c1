import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  for (const column of ["logo_url", "industry", "contact_email", "tax_id", "default_role_id"]) {
    await db.schema.alterTable("accounts").addColumn(column, "text").execute();
  }
  await db.schema.alterTable("users").addColumn("deactivated_at", "text").execute();

  await db.schema
    .createIndex("memberships_account_status_idx")
    .on("memberships")
    .columns(["account_id", "status"])
    .execute();
  await db.schema
    .createIndex("memberships_account_role_idx")
    .on("memberships")
    .columns(["account_id", "role_id"])
    .execute();
  await db.schema
    .createIndex("sessions_user_account_idx")
    .on("sessions")
    .columns(["user_id", "account_id"])
    .execute();

  await db.schema
    .createTable("invitations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("email", "text", (c) => c.notNull())
    .addColumn("email_normalized", "text", (c) => c.notNull())
    .addColumn("first_name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("last_name", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("role_id", "text", (c) => c.notNull())
    .addColumn("team_ids", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("invited_by", "text")
    .addColumn("accepted_user_id", "text")
    .addColumn("send_count", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("last_sent_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("invitations_account_status_idx")
    .on("invitations")
    .columns(["account_id", "status", "email_normalized"])
    .execute();
  // At most one open invitation per address and account, even when two admins invite at once.
  await db.schema
    .createIndex("invitations_one_pending_uq")
    .on("invitations")
    .columns(["account_id", "email_normalized"])
    .unique()
    .where(sql<boolean>`status = 'pending'`)
    .execute();

  await db.schema
    .createTable("teams")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("name_normalized", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("role_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("teams_account_name_uq", ["account_id", "name_normalized"])
    .execute();

  await db.schema
    .createTable("team_members")
    .addColumn("account_id", "text", (c) => c.notNull())
    .addColumn("team_id", "text", (c) => c.notNull().references("teams.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("team_members_pk", ["team_id", "user_id"])
    .execute();
  await db.schema
    .createIndex("team_members_account_user_idx")
    .on("team_members")
    .columns(["account_id", "user_id"])
    .execute();

  await db.schema
    .createTable("account_permissions")
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("account_permissions_pk", ["account_id", "key"])
    .execute();

  await db.schema
    .createTable("resources")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_id", "text", (c) => c.notNull().references("accounts.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("owner_team_id", "text")
    .addColumn("created_by", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("resources_account_team_idx")
    .on("resources")
    .columns(["account_id", "owner_team_id"])
    .execute();
}
