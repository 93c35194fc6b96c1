import type { Executor } from "../db/database.js";
import { type FileUrl, relativeFileUrl, urlOrNull } from "../storage/file-urls.js";
import type { AuditEntry } from "./audit.repository.js";

export type PersonName = { name: string; avatarUrl: string | null };

/** The names one page of an account's events mentions, each looked up once for the page. */
export type AuditNames = {
  people: Map<string, PersonName>;
  /** By role id, and by role key (member events record keys). */
  roles: Map<string, string>;
  teams: Map<string, string>;
  apiKeys: Map<string, string>;
};

const ID_SHAPE = /^(usr|role|team|key)_[A-Za-z0-9_-]+$/;
/** Change fields that hold a role key rather than an id. */
const ROLE_KEY_FIELDS: Readonly<Record<string, readonly string[]>> = {
  "member.role_changed": ["from", "to"],
  "member.removed": ["role"],
  "invitation.created": ["role"],
};

function collect(events: AuditEntry[]) {
  const ids = new Set<string>();
  const roleKeys = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string" && ID_SHAPE.test(value)) ids.add(value);
    else if (Array.isArray(value)) for (const item of value) add(item);
  };
  for (const event of events) {
    add(event.actor.id);
    add(event.actor.userId);
    add(event.target.id);
    for (const [field, value] of Object.entries(event.changes ?? {})) {
      add(value);
      if (value !== null && typeof value === "object" && !Array.isArray(value))
        for (const inner of Object.values(value)) add(inner);
      if (ROLE_KEY_FIELDS[event.action]?.includes(field) && typeof value === "string") roleKeys.add(value);
    }
  }
  const of = (prefix: string) => [...ids].filter((id) => id.startsWith(prefix));
  return {
    users: of("usr_"),
    roles: of("role_"),
    teams: of("team_"),
    keys: of("key_"),
    roleKeys: [...roleKeys],
  };
}

export function displayName(firstName: string, lastName: string, email: string): string {
  return `${firstName} ${lastName}`.trim() || email;
}

/**
 * Looks up, in four queries whatever the page size, the names of the people, roles, teams and API keys
 * a page of the account's events mentions. Only this account's: a person is named while they are a
 * member, or after they left until retention anonymises them there; never someone the account never had.
 */
export async function resolveAuditNames(
  db: Executor,
  accountId: string,
  events: AuditEntry[],
  fileUrl: FileUrl = relativeFileUrl,
): Promise<AuditNames> {
  const wanted = collect(events);
  const names: AuditNames = { people: new Map(), roles: new Map(), teams: new Map(), apiKeys: new Map() };
  if (wanted.users.length > 0) {
    const people = await db
      .selectFrom("users as u")
      .select(["u.id", "u.first_name", "u.last_name", "u.email", "u.avatar_key"])
      .where("u.id", "in", wanted.users)
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom("memberships as m")
              .select("m.user_id")
              .whereRef("m.user_id", "=", "u.id")
              .where("m.account_id", "=", accountId),
          ),
          eb.exists(
            eb
              .selectFrom("retention_departures as d")
              .select("d.user_id")
              .whereRef("d.user_id", "=", "u.id")
              .where("d.account_id", "=", accountId)
              .where("d.anonymised_at", "is", null),
          ),
        ]),
      )
      .execute();
    for (const p of people)
      names.people.set(p.id, {
        name: displayName(p.first_name, p.last_name, p.email),
        avatarUrl: urlOrNull(fileUrl, p.avatar_key),
      });
  }
  if (wanted.roles.length > 0 || wanted.roleKeys.length > 0) {
    const roles = await db
      .selectFrom("roles")
      .select(["id", "key", "name"])
      .where("account_id", "=", accountId)
      .where((eb) =>
        eb.or([
          ...(wanted.roles.length > 0 ? [eb("id", "in", wanted.roles)] : []),
          ...(wanted.roleKeys.length > 0 ? [eb("key", "in", wanted.roleKeys)] : []),
        ]),
      )
      .execute();
    for (const role of roles) {
      names.roles.set(role.id, role.name);
      names.roles.set(role.key, role.name);
    }
  }
  if (wanted.teams.length > 0) {
    const teams = await db
      .selectFrom("teams")
      .select(["id", "name"])
      .where("account_id", "=", accountId)
      .where("id", "in", wanted.teams)
      .execute();
    for (const team of teams) names.teams.set(team.id, team.name);
  }
  if (wanted.keys.length > 0) {
    const keys = await db
      .selectFrom("api_keys")
      .select(["id", "name"])
      .where("account_id", "=", accountId)
      .where("id", "in", wanted.keys)
      .execute();
    for (const key of keys) names.apiKeys.set(key.id, key.name);
  }
  return names;
}

/** The name of an id the page mentions, when this account knows it. */
export function nameOf(names: AuditNames, id: string | null | undefined): string | null {
  if (!id) return null;
  return (
    names.people.get(id)?.name ?? names.roles.get(id) ?? names.teams.get(id) ?? names.apiKeys.get(id) ?? null
  );
}

/**
 * The changes' ids and role keys as names: same fields, each value (or list item, or from/to) that names
 * something replaced by its name; fields with nothing to name are left out.
 */
export function changeNames(names: AuditNames, event: AuditEntry): Record<string, unknown> | null {
  const roleFields = ROLE_KEY_FIELDS[event.action] ?? [];
  const out: Record<string, unknown> = {};
  const named = (field: string, value: unknown): unknown => {
    if (typeof value === "string")
      return (roleFields.includes(field) ? names.roles.get(value) : undefined) ?? nameOf(names, value);
    if (Array.isArray(value)) {
      const list = value.map((item) => (typeof item === "string" ? nameOf(names, item) : null));
      return list.some((item) => item !== null) ? list : null;
    }
    return null;
  };
  for (const [field, value] of Object.entries(event.changes ?? {})) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const inner: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const name = named(key, item);
        if (name !== null) inner[key] = name;
      }
      if (Object.keys(inner).length > 0) out[field] = inner;
      continue;
    }
    const name = named(field, value);
    if (name !== null) out[field] = name;
  }
  return Object.keys(out).length > 0 ? out : null;
}
