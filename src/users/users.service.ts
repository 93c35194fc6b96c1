import type { AccountsRepository, Membership } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, transact } from "../db/database.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { completePreferences, type Preferences, type PreferencesInput } from "./preferences.js";
import type { User, UserChanges, UsersRepository } from "./users.repository.js";

export type ProfileChanges = Partial<{
  username: string | null;
  first_name: string;
  last_name: string;
  mobile: string | null;
  timezone: string;
  locale: string;
  avatar_url: string | null;
}>;

export type Me = { user: User; memberships: Membership[]; mfaEnabled: boolean };

const TIMEZONES = new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]);

/** Canonical IANA names, plus the aliases ICU still resolves (America/Argentina/Buenos_Aires…). */
export function isTimezone(value: string): boolean {
  if (TIMEZONES.has(value)) return true;
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)+$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export function createUsersService(deps: {
  db: Db;
  clock: Clock;
  users: UsersRepository;
  accounts: AccountsRepository;
}) {
  const { db, clock, users, accounts } = deps;

  async function getMe(userId: string): Promise<Me> {
    const [user, memberships, factor] = await Promise.all([
      users.findById(db, userId),
      accounts.membershipsOfUser(db, userId),
      db
        .selectFrom("mfa_factors")
        .select("id")
        .where("user_id", "=", userId)
        .where("confirmed_at", "is not", null)
        .executeTakeFirst(),
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
      if (changes.timezone !== undefined && !isTimezone(changes.timezone)) {
        throw new AppError("validation_failed", "Unknown time zone", {
          errors: [
            {
              path: "timezone",
              code: "invalid_timezone",
              message: "Use an IANA time zone such as Europe/Paris",
            },
          ],
        });
      }
      const username = changes.username === undefined ? undefined : (changes.username?.toLowerCase() ?? null);
      await transact(db, async (trx) => {
        if (username) {
          const holder = await users.findByUsername(trx, username);
          if (holder && holder.id !== actor.id) throw usernameTaken();
        }
        const mapped: UserChanges = {
          username,
          firstName: changes.first_name?.trim(),
          lastName: changes.last_name?.trim(),
          mobile: changes.mobile,
          timezone: changes.timezone,
          locale: changes.locale,
          avatarUrl: changes.avatar_url,
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
            changes: { ...changes },
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
