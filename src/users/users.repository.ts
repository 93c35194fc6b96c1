import { type InsertQueryBuilder, PostgresAdapter, type Selectable, sql } from "kysely";
import { type Db, type Executor, notesAlong } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import type { Database, UsersTable } from "../db/tables.js";
import { type FileUrl, relativeFileUrl, urlOrNull } from "../storage/file-urls.js";
import { type ChangeFeed, NO_CHANGE_FEED } from "./me-cache.js";

export type User = {
  id: string;
  email: string;
  emailVerifiedAt: string | null;
  passwordHash: string | null;
  passwordChangedAt: string | null;
  mustChangePassword: boolean;
  username: string | null;
  firstName: string;
  lastName: string;
  mobile: string | null;
  /** When `mobile` was proven by a texted code; null when it was not (or changed since). */
  mobileVerifiedAt: string | null;
  timezone: string;
  locale: string;
  /** Storage keys of the uploaded avatar (256 px) and its 64 px copy; null without one. */
  avatarKey: string | null;
  avatarSmallKey: string | null;
  /** Where they are served (`{PUBLIC_URL}/files/<key>`). */
  avatarUrl: string | null;
  avatarThumbUrl: string | null;
  preferences: unknown;
  lastLoginAt: string | null;
  lastLoginIp: string | null;
  lastAccountId: string | null;
  deactivatedAt: string | null;
  createdAt: string;
  updatedAt: string;
};

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toUser(row: Selectable<UsersTable>, fileUrl: FileUrl): User {
  return {
    id: row.id,
    email: row.email,
    emailVerifiedAt: row.email_verified_at,
    passwordHash: row.password_hash,
    passwordChangedAt: row.password_changed_at,
    mustChangePassword: row.must_change_password === 1,
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    mobile: row.mobile,
    mobileVerifiedAt: row.mobile_verified_at ?? null,
    timezone: row.timezone,
    locale: row.locale,
    avatarKey: row.avatar_key,
    avatarSmallKey: row.avatar_small_key,
    avatarUrl: urlOrNull(fileUrl, row.avatar_key),
    avatarThumbUrl: urlOrNull(fileUrl, row.avatar_small_key),
    preferences: row.preferences ? JSON.parse(row.preferences) : null,
    lastLoginAt: row.last_login_at,
    lastLoginIp: row.last_login_ip,
    lastAccountId: row.last_account_id,
    deactivatedAt: row.deactivated_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export type NewUser = {
  id: string;
  email: string;
  passwordHash: string | null;
  firstName: string;
  lastName: string;
  emailVerifiedAt: string | null;
  now: string;
};

export type UserChanges = Partial<{
  username: string | null;
  firstName: string;
  lastName: string;
  mobile: string | null;
  mobileVerifiedAt: string | null;
  timezone: string;
  locale: string;
  avatarKey: string | null;
  avatarSmallKey: string | null;
  preferences: unknown;
  emailVerifiedAt: string;
  passwordHash: string;
  passwordChangedAt: string;
  mustChangePassword: boolean;
  lastLoginAt: string;
  lastLoginIp: string | null;
  lastAccountId: string;
  deactivatedAt: string | null;
}>;

/**
 * Member lists sort and search by copies of the name and address on each membership (migrations 0004
 * and 0032): after a rename or an address change they are written again, lower-cased in JavaScript as
 * at insert. (SQL's lower() folds only ASCII on SQLite: a member renamed "Élodie" kept the capital in
 * the copy and a search for "élodie" missed her.)
 */
export async function refreshMembershipCopies(db: Executor, userId: string): Promise<void> {
  const user = await db
    .selectFrom("users")
    .select(["first_name", "last_name", "email_normalized"])
    .where("id", "=", userId)
    .executeTakeFirst();
  if (!user) return;
  await db
    .updateTable("memberships")
    .set({
      sort_name: memberSortName(user.first_name, user.last_name, user.email_normalized),
      email_normalized: user.email_normalized,
    })
    .where("user_id", "=", userId)
    .execute();
}

/** The membership's sort and search key: "first last email", lower-cased. */
export function memberSortName(firstName: string, lastName: string, emailNormalized: string): string {
  return `${firstName} ${lastName} ${emailNormalized}`.toLowerCase();
}

const COLUMN: Record<keyof UserChanges, keyof UsersTable> = {
  username: "username",
  firstName: "first_name",
  lastName: "last_name",
  mobile: "mobile",
  mobileVerifiedAt: "mobile_verified_at",
  timezone: "timezone",
  locale: "locale",
  avatarKey: "avatar_key",
  avatarSmallKey: "avatar_small_key",
  preferences: "preferences",
  emailVerifiedAt: "email_verified_at",
  passwordHash: "password_hash",
  passwordChangedAt: "password_changed_at",
  mustChangePassword: "must_change_password",
  lastLoginAt: "last_login_at",
  lastLoginIp: "last_login_ip",
  lastAccountId: "last_account_id",
  deactivatedAt: "deactivated_at",
};

// GET /me and /session on a cold cache: compiled once (src/db/prepared.ts).
const userById = prepared(1, (db, id: string) => db.selectFrom("users").selectAll().where("id", "=", id));

/** Every log-in's first read: the user, and whether they have a confirmed second factor (1 or true). */
function forLogin(db: Db) {
  return db
    .selectFrom("users")
    .selectAll()
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom("mfa_factors as f")
            .select("f.id")
            .whereRef("f.user_id", "=", "users.id")
            .where("f.confirmed_at", "is not", null),
        )
        .as("has_factor"),
    );
}
const forLoginByEmail = prepared(1, (db, email: string) =>
  forLogin(db).where("email_normalized", "=", email),
);
const forLoginById = prepared(1, (db, id: string) => forLogin(db).where("id", "=", id));

export function createUsersRepository(options: { fileUrl?: FileUrl; changes?: ChangeFeed } = {}) {
  const feed = options.changes ?? NO_CHANGE_FEED;
  const fileUrl = options.fileUrl ?? relativeFileUrl;
  return {
    async findById(db: Executor, id: string): Promise<User | undefined> {
      const row = await userById.first(db, id);
      return row && toUser(row, fileUrl);
    },
    async findByEmail(db: Executor, email: string): Promise<User | undefined> {
      const row = await db
        .selectFrom("users")
        .selectAll()
        .where("email_normalized", "=", normalizeEmail(email))
        .executeTakeFirst();
      return row && toUser(row, fileUrl);
    },
    /** The user logging in, with when an account first required them to use a second factor. */
    async findForLogin(
      db: Executor,
      by: { email: string } | { id: string },
    ): Promise<{ user: User; mfaRequiredSince: string | null; hasFactor: boolean } | undefined> {
      const row = await ("email" in by
        ? forLoginByEmail.first(db, normalizeEmail(by.email))
        : forLoginById.first(db, by.id));
      return (
        row && {
          user: toUser(row, fileUrl),
          mfaRequiredSince: row.mfa_required_since,
          hasFactor: Number(row.has_factor) === 1,
        }
      );
    },
    async findByUsername(db: Executor, username: string): Promise<User | undefined> {
      const row = await db
        .selectFrom("users")
        .selectAll()
        .where("username", "=", username)
        .executeTakeFirst();
      return row && toUser(row, fileUrl);
    },
    async insert(db: Executor, user: NewUser): Promise<void> {
      await db
        .insertInto("users")
        .values({
          id: user.id,
          email: user.email.trim(),
          email_normalized: normalizeEmail(user.email),
          email_verified_at: user.emailVerifiedAt,
          password_hash: user.passwordHash,
          password_changed_at: user.passwordHash ? user.now : null,
          must_change_password: 0,
          username: null,
          first_name: user.firstName,
          last_name: user.lastName,
          mobile: null,
          timezone: "UTC",
          locale: "en",
          avatar_key: null,
          avatar_small_key: null,
          preferences: null,
          last_login_at: null,
          last_login_ip: null,
          last_account_id: null,
          deactivated_at: null,
          created_at: user.now,
          updated_at: user.now,
        })
        .execute();
    },
    async update(db: Executor, id: string, changes: UserChanges, now: string): Promise<void> {
      const values: Record<string, unknown> = { updated_at: now };
      for (const [key, value] of Object.entries(changes) as [keyof UserChanges, unknown][]) {
        if (value === undefined) continue;
        if (key === "preferences") values[COLUMN[key]] = JSON.stringify(value);
        else if (key === "mustChangePassword") values[COLUMN[key]] = value ? 1 : 0;
        else values[COLUMN[key]] = value;
      }
      await db.updateTable("users").set(values).where("id", "=", id).execute();
      if (changes.firstName !== undefined || changes.lastName !== undefined)
        await refreshMembershipCopies(db, id);
      await feed.user(db, id);
    },
    /**
     * Login bookkeeping in the log-in's transaction (it does not count as a profile change, so updated_at
     * stays; the user's last log-in is anywhere, the membership's is to the account logged in to, the
     * member list's), with a rehashed password and the first time a second factor was required when
     * those change too. `opened`: the statement storing the log-in's session, run first. On PostgreSQL all of it — the session, the user's row, the
     * membership's, and the transaction's held-back cache notifications — is one statement, whose parts
     * run in that order (each read by the next, so the rows are locked in the order SQLite writes them).
     */
    async recordLoginOf(
      db: Executor,
      id: string,
      login: { at: string; ip: string | null; accountId: string | null },
      also: { passwordHash?: string | undefined; mfaRequiredSince?: string | undefined } = {},
      opened: InsertQueryBuilder<Database, "sessions", { id: string }>,
    ) {
      // /me shows the last log-in: other sessions' cached views of this user must not keep the old one.
      await feed.user(db, id);
      const changes = {
        last_login_at: login.at,
        last_login_ip: login.ip,
        last_account_id: login.accountId,
        ...(also.passwordHash !== undefined ? { password_hash: also.passwordHash } : {}),
        ...(also.mfaRequiredSince !== undefined ? { mfa_required_since: also.mfaRequiredSince } : {}),
      };
      const { accountId } = login;
      if (!(db.getExecutor().adapter instanceof PostgresAdapter)) {
        await opened.execute();
        await db.updateTable("users").set(changes).where("id", "=", id).execute();
        if (accountId !== null)
          await db
            .updateTable("memberships")
            .set({ last_login_at: login.at })
            .where("account_id", "=", accountId)
            .where("user_id", "=", id)
            .execute();
        return;
      }
      const along = notesAlong(db);
      const creator = (along?.creator ?? db).with("opened", () => opened);
      const first = [sql`(select count(*) from opened)`.as("o"), ...(along ? [along.source] : [])];
      if (accountId === null) {
        await creator.updateTable("users").from(first).set(changes).where("users.id", "=", id).execute();
        return;
      }
      await creator
        .with("login_user", (w) =>
          w.updateTable("users").from(first).set(changes).where("users.id", "=", id).returning("users.id"),
        )
        .updateTable("memberships")
        .from(sql`(select count(*) from login_user)`.as("u"))
        .set({ last_login_at: login.at })
        .where("account_id", "=", accountId)
        .where("user_id", "=", id)
        .execute();
    },
    /** A password hash under the current parameters, replacing the stale one it was checked against. */
    async recordRehash(db: Executor, id: string, passwordHash: string) {
      await db.updateTable("users").set({ password_hash: passwordHash }).where("id", "=", id).execute();
    },
    async recentPasswordHashes(db: Executor, userId: string, count: number): Promise<string[]> {
      if (count <= 0) return [];
      const rows = await db
        .selectFrom("password_history")
        .select("password_hash")
        .where("user_id", "=", userId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(count)
        .execute();
      return rows.map((r) => r.password_hash);
    },
    async addPasswordHistory(db: Executor, entry: { id: string; userId: string; hash: string; now: string }) {
      await db
        .insertInto("password_history")
        .values({ id: entry.id, user_id: entry.userId, password_hash: entry.hash, created_at: entry.now })
        .execute();
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
