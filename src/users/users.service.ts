import type { AccountsRepository, Membership } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { prepared } from "../db/prepared.js";
import { AppError, type FieldError, invalidFields, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import type { MaybePromise } from "../lib/maybe-async.js";
import { normalizePhone, PHONE_MESSAGE } from "../lib/phone.js";
import { isTimezone, TIMEZONE_MESSAGE } from "../lib/time-zones.js";
import type { MeCache } from "./me-cache.js";
import { completePreferences, type Preferences, type PreferencesInput } from "./preferences.js";
import type { User, UserChanges, UsersRepository } from "./users.repository.js";

export type ProfileChanges = Partial<{
  username: string | null;
  first_name: string;
  last_name: string;
  mobile: string | null;
  timezone: string;
  locale: string;
}>;

export type Me = { user: User; memberships: Membership[]; mfaEnabled: boolean };

const confirmedFactor = prepared(1, (db, userId: string) =>
  db
    .selectFrom("mfa_factors")
    .select("id")
    .where("user_id", "=", userId)
    .where("confirmed_at", "is not", null),
);

export function createUsersService(deps: {
  db: Db;
  clock: Clock;
  users: UsersRepository;
  accounts: AccountsRepository;
  /** Serves what /me shows from memory (see me-cache.ts); without it every call reads the database. */
  cache?: MeCache;
}) {
  const { db, clock, users, accounts, cache } = deps;

  /**
   * `executor`: a transaction that has just made the user (sign-up) reads them before committing; such
   * reads bypass the cache. A cached view comes at once (no promise). The answer is a shared, cached
   * object: read it, never change it.
   */
  function getMe(userId: string, executor: Executor = db): MaybePromise<Me> {
    if (cache && executor === db) return cache.me(userId, () => loadMe(userId, db));
    return loadMe(userId, executor);
  }

  async function loadMe(userId: string, executor: Executor): Promise<Me> {
    const [user, memberships, factor] = await Promise.all([
      users.findById(executor, userId),
      accounts.membershipsOfUser(executor, userId),
      confirmedFactor.first(executor, userId),
    ]);
    if (!user) throw notFound("User");
    return { user, memberships, mfaEnabled: factor !== undefined };
  }

  return {
    getMe,

    async updateProfile(
      actor: Actor & { id: string },
      accountId: string | null,
      changes: ProfileChanges,
    ): Promise<Me> {
      // The HTTP schema checks these too (all field problems in one answer); others call this directly.
      const problems: FieldError[] = [];
      if (changes.timezone !== undefined && !isTimezone(changes.timezone))
        problems.push({ path: "timezone", code: "invalid_timezone", message: TIMEZONE_MESSAGE });
      const mobile = typeof changes.mobile === "string" ? normalizePhone(changes.mobile) : changes.mobile;
      if (typeof changes.mobile === "string" && !mobile)
        problems.push({ path: "mobile", code: "invalid_format", message: PHONE_MESSAGE });
      if (problems.length) throw invalidFields(problems);
      const username = changes.username === undefined ? undefined : (changes.username?.toLowerCase() ?? null);
      await transact(db, async (trx) => {
        if (username) {
          const holder = await users.findByUsername(trx, username);
          if (holder && holder.id !== actor.id) throw usernameTaken();
        }
        const before = mobile === undefined ? undefined : await users.findById(trx, actor.id);
        const mapped: UserChanges = {
          // Another number is not proven by the code the old one received.
          ...(before && before.mobile !== mobile ? { mobileVerifiedAt: null } : {}),
          username,
          firstName: changes.first_name?.trim(),
          lastName: changes.last_name?.trim(),
          mobile,
          timezone: changes.timezone,
          locale: changes.locale,
        };
        try {
          await users.update(trx, actor.id, mapped, clock.now().toISOString());
        } catch (error) {
          // The unique index is the real guard when two people claim one username at once.
          if (username && (await users.findByUsername(db, username))) throw usernameTaken();
          throw error;
        }
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "user.profile_updated",
            targetType: "user",
            targetId: actor.id,
            changes: { ...changes, ...(mobile === undefined ? {} : { mobile }) },
          },
          clock.now(),
        );
      });
      return getMe(actor.id);
    },

    async getPreferences(userId: string): Promise<Preferences> {
      const user = await users.findById(db, userId);
      if (!user) throw notFound("User");
      return completePreferences(user.preferences as PreferencesInput | null);
    },

    async putPreferences(actor: Actor & { id: string }, accountId: string | null, input: PreferencesInput) {
      const preferences = completePreferences(input);
      await transact(db, async (trx) => {
        await users.update(trx, actor.id, { preferences }, clock.now().toISOString());
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "user.preferences_updated",
            targetType: "user",
            targetId: actor.id,
            changes: preferences,
          },
          clock.now(),
        );
      });
      return preferences;
    },
  };
}

function usernameTaken(): AppError {
  return new AppError("conflict", "This username is taken", {
    errors: [{ path: "username", code: "taken", message: "This username is taken" }],
  });
}

export type UsersService = ReturnType<typeof createUsersService>;
