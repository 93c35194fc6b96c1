import { type Selectable, sql } from "kysely";
import type { Executor } from "../db/database.js";
import type { NotificationsTable } from "../db/tables.js";
import { memberStatusSql } from "../members/members.repository.js";
import type { Channels, NotificationCategory } from "./preferences.js";

export type Notification = {
  id: string;
  userId: string;
  accountId: string | null;
  eventId: string | null;
  type: string;
  title: string;
  body: string;
  link: string | null;
  readAt: string | null;
  createdAt: string;
};

/** Someone Gatehouse may notify: their address, and their mobile when it is proven. */
export type Recipient = {
  userId: string;
  email: string;
  firstName: string;
  verifiedMobile: string | null;
  /** The recipient's profile: dates in their mail are written in their time zone and language. */
  timezone: string;
  locale: string;
};

export type NotificationCursor = { createdAt: string; id: string };

function toNotification(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    userId: row.user_id,
    accountId: row.account_id,
    eventId: row.event_id,
    type: row.type,
    title: row.title,
    body: row.body,
    link: row.link,
    readAt: row.read_at,
    createdAt: row.created_at,
  };
}

const bool = (value: number | boolean) => Number(value) === 1 || value === true;

export function createNotificationsRepository() {
  return {
    /** The user's stored choices (those that differ from the defaults). */
    async preferencesOf(
      db: Executor,
      userIds: readonly string[],
    ): Promise<Map<string, Map<NotificationCategory, Channels>>> {
      const byUser = new Map<string, Map<NotificationCategory, Channels>>();
      if (userIds.length === 0) return byUser;
      const rows = await db
        .selectFrom("notification_preferences")
        .selectAll()
        .where("user_id", "in", [...userIds])
        .execute();
      for (const row of rows) {
        const mine = byUser.get(row.user_id) ?? new Map<NotificationCategory, Channels>();
        mine.set(row.category as NotificationCategory, {
          email: bool(row.email),
          in_app: bool(row.in_app),
          sms: bool(row.sms),
        });
        byUser.set(row.user_id, mine);
      }
      return byUser;
    },

    async savePreference(
      db: Executor,
      userId: string,
      category: NotificationCategory,
      channels: Channels | undefined,
      now: string,
    ): Promise<void> {
      await db
        .deleteFrom("notification_preferences")
        .where("user_id", "=", userId)
        .where("category", "=", category)
        .execute();
      if (!channels) return;
      await db
        .insertInto("notification_preferences")
        .values({
          user_id: userId,
          category,
          email: channels.email ? 1 : 0,
          in_app: channels.in_app ? 1 : 0,
          sms: channels.sms ? 1 : 0,
          updated_at: now,
        })
        .execute();
    },

    async insert(db: Executor, notification: Notification): Promise<void> {
      await db
        .insertInto("notifications")
        .values({
          id: notification.id,
          user_id: notification.userId,
          account_id: notification.accountId,
          event_id: notification.eventId,
          type: notification.type,
          title: notification.title,
          body: notification.body,
          link: notification.link,
          read_at: notification.readAt,
          created_at: notification.createdAt,
        })
        .execute();
    },

    /** The user's notifications, newest first, after `cursor`. */
    async list(
      db: Executor,
      userId: string,
      options: { unread: boolean; limit: number; after?: NotificationCursor | undefined },
    ): Promise<Notification[]> {
      let query = db.selectFrom("notifications").selectAll().where("user_id", "=", userId);
      if (options.unread) query = query.where("read_at", "is", null);
      const after = options.after;
      if (after)
        query = query.where((eb) =>
          eb.or([
            eb("created_at", "<", after.createdAt),
            eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)]),
          ]),
        );
      const rows = await query
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(options.limit)
        .execute();
      return rows.map(toNotification);
    },

    /** Notifications created after the given one, oldest first (what a live stream has not sent yet). */
    async listNewer(
      db: Executor,
      userId: string,
      since: NotificationCursor,
      limit = 100,
    ): Promise<Notification[]> {
      const rows = await db
        .selectFrom("notifications")
        .selectAll()
        .where("user_id", "=", userId)
        .where((eb) =>
          eb.or([
            eb("created_at", ">", since.createdAt),
            eb.and([eb("created_at", "=", since.createdAt), eb("id", ">", since.id)]),
          ]),
        )
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      return rows.map(toNotification);
    },

    /** The newest notification's place (a new stream starts after it). */
    async newest(db: Executor, userId: string): Promise<NotificationCursor | undefined> {
      const row = await db
        .selectFrom("notifications")
        .select(["created_at", "id"])
        .where("user_id", "=", userId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      return row && { createdAt: row.created_at, id: row.id };
    },

    async unreadCount(db: Executor, userId: string): Promise<number> {
      const row = await db
        .selectFrom("notifications")
        .select(sql<number>`count(*)`.as("n"))
        .where("user_id", "=", userId)
        .where("read_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Marks the user's own notifications read (`ids`: only those of theirs; others are not touched). */
    async markRead(
      db: Executor,
      userId: string,
      ids: readonly string[] | "all",
      now: string,
    ): Promise<number> {
      if (ids !== "all" && ids.length === 0) return 0;
      let query = db
        .updateTable("notifications")
        .set({ read_at: now })
        .where("user_id", "=", userId)
        .where("read_at", "is", null);
      if (ids !== "all") query = query.where("id", "in", [...ids]);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * Active members of the account (not suspended, login not deactivated) who hold every one of
     * `permissions` through their role or a team's role (Root holds everything).
     */
    async membersHolding(
      db: Executor,
      accountId: string,
      permissions: readonly string[],
    ): Promise<Recipient[]> {
      const members = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
        )
        .select([
          "u.id as user_id",
          "u.email",
          "u.first_name",
          "u.mobile",
          "u.mobile_verified_at",
          "u.timezone",
          "u.locale",
          "r.key",
          "r.permissions",
          memberStatusSql().as("status"),
        ])
        .where("m.account_id", "=", accountId)
        .execute();
      const teamRoles = await db
        .selectFrom("team_members as tm")
        .innerJoin("teams as t", (j) =>
          j.onRef("t.id", "=", "tm.team_id").onRef("t.account_id", "=", "tm.account_id"),
        )
        .innerJoin("roles as r", (j) =>
          j.onRef("r.id", "=", "t.role_id").onRef("r.account_id", "=", "t.account_id"),
        )
        .select(["tm.user_id", "r.key", "r.permissions"])
        .where("tm.account_id", "=", accountId)
        .execute();
      const granted = new Map<string, { root: boolean; permissions: Set<string> }>();
      const grant = (userId: string, key: string, list: string) => {
        const entry = granted.get(userId) ?? { root: false, permissions: new Set<string>() };
        if (key === "root") entry.root = true;
        for (const p of JSON.parse(list) as string[]) entry.permissions.add(p);
        granted.set(userId, entry);
      };
      for (const m of members) grant(m.user_id, m.key, m.permissions);
      for (const t of teamRoles) grant(t.user_id, t.key, t.permissions);
      return members
        .filter((m) => m.status === "active")
        .filter((m) => {
          const g = granted.get(m.user_id);
          return g !== undefined && (g.root || permissions.every((p) => g.permissions.has(p)));
        })
        .map(toRecipient);
    },

    /** These users, if they are active members of the account (a removed member hears nothing more). */
    async activeMembers(db: Executor, accountId: string, userIds: readonly string[]): Promise<Recipient[]> {
      if (userIds.length === 0) return [];
      const rows = await db
        .selectFrom("memberships as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select([
          "u.id as user_id",
          "u.email",
          "u.first_name",
          "u.mobile",
          "u.mobile_verified_at",
          "u.timezone",
          "u.locale",
          memberStatusSql().as("status"),
        ])
        .where("m.account_id", "=", accountId)
        .where("m.user_id", "in", [...userIds])
        .execute();
      return rows.filter((r) => r.status === "active").map(toRecipient);
    },

    async accountNames(db: Executor, accountIds: readonly string[]): Promise<Map<string, string>> {
      if (accountIds.length === 0) return new Map();
      const rows = await db
        .selectFrom("accounts")
        .select(["id", "name"])
        .where("id", "in", [...accountIds])
        .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    },

    async insertMobileCode(
      db: Executor,
      code: { id: string; userId: string; mobile: string; hash: string; expiresAt: string; now: string },
    ): Promise<void> {
      await db
        .insertInto("mobile_codes")
        .values({
          id: code.id,
          user_id: code.userId,
          mobile: code.mobile,
          code_hash: code.hash,
          attempts: 0,
          expires_at: code.expiresAt,
          used_at: null,
          created_at: code.now,
        })
        .execute();
    },

    async latestMobileCode(db: Executor, userId: string) {
      const row = await db
        .selectFrom("mobile_codes")
        .selectAll()
        .where("user_id", "=", userId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(1)
        .executeTakeFirst();
      return (
        row && {
          id: row.id,
          mobile: row.mobile,
          hash: row.code_hash,
          attempts: Number(row.attempts),
          expiresAt: row.expires_at,
          usedAt: row.used_at,
          createdAt: row.created_at,
        }
      );
    },

    async mobileCodesSentSince(db: Executor, userId: string, since: string): Promise<number> {
      const row = await db
        .selectFrom("mobile_codes")
        .select(sql<number>`count(*)`.as("n"))
        .where("user_id", "=", userId)
        .where("created_at", ">=", since)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async failMobileCode(db: Executor, id: string): Promise<void> {
      await db
        .updateTable("mobile_codes")
        .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
        .where("id", "=", id)
        .execute();
    },

    async spendMobileCode(db: Executor, id: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("mobile_codes")
        .set({ used_at: now })
        .where("id", "=", id)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toRecipient(row: {
  user_id: string;
  email: string;
  first_name: string;
  mobile: string | null;
  mobile_verified_at: string | null;
  timezone: string;
  locale: string;
}): Recipient {
  return {
    userId: row.user_id,
    email: row.email,
    firstName: row.first_name,
    verifiedMobile: row.mobile && row.mobile_verified_at ? row.mobile : null,
    timezone: row.timezone,
    locale: row.locale,
  };
}

export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
