import type { Db } from "../db/database.js";
import { AppError } from "../http/errors.js";
import type { MemberStatus } from "../members/members.repository.js";
import { type AccessCache, composeGrants, type Grant, grants, requirePermission } from "./access.js";
import type { AssignableRole, AssignmentsRepository, AssignmentTeam } from "./assignments.repository.js";

type RoleRef = { id: string; key: string; name: string };

export type PermissionSource =
  | { type: "role"; role: RoleRef }
  | { type: "team"; team: { id: string; name: string }; role: RoleRef };

export type Assignment = {
  userId: string;
  email: string;
  firstName: string;
  lastName: string;
  status: MemberStatus;
  role: RoleRef;
  teams: Array<{ id: string; name: string; role: RoleRef | null }>;
  /** Every permission they hold, each with the roles it comes from (their own, or a team's). */
  permissions: Array<{ permission: string; sources: PermissionSource[] }>;
};

export type AssignmentsInput = {
  q?: string;
  roleId?: string;
  teamId?: string;
  permission?: string;
  limit: number;
  cursor?: string;
};

type Cursor = { key: string; id: string };
const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString("base64url");
function decodeCursor(value: string | undefined): Cursor | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Cursor;
    if (typeof parsed.key === "string" && typeof parsed.id === "string") return parsed;
  } catch {}
  throw new AppError("validation_failed", "Invalid cursor", {
    errors: [{ path: "cursor", code: "invalid", message: "Invalid cursor" }],
  });
}

const ref = (r: AssignableRole): RoleRef => ({ id: r.id, key: r.key, name: r.name });

/**
 * The User Assignments matrix: who holds what and through which role. Each member's roles (their own,
 * then each team's) go through `composeGrants` and `grants` — what `holds`, and so `POST /authz/check`,
 * decide with — so the matrix cannot say "yes" where a check says "no". Status is shown, not applied:
 * a suspended member keeps their roles, and a check answers `suspended` for them.
 */
export function createAssignmentsService(deps: {
  db: Db;
  access: AccessCache;
  repository: AssignmentsRepository;
  /** The account's permission catalog, in its order (built-in, configured, then the account's own). */
  catalog: (accountId: string) => Promise<Array<{ key: string }>>;
}) {
  const { db, access, repository } = deps;

  return {
    async list(userId: string, accountId: string, input: AssignmentsInput) {
      const caller = await access.get(db, accountId, userId);
      for (const permission of ["members:read", "roles:read", "teams:read"])
        requirePermission(caller, permission);
      const cursor = decodeCursor(input.cursor);
      const [roles, teams, catalog] = await Promise.all([
        repository.roles(db, accountId),
        repository.teams(db, accountId),
        deps.catalog(accountId),
      ]);
      const roleById = new Map(roles.map((r) => [r.id, r]));
      const teamById = new Map(teams.map((t) => [t.id, t]));
      const found = await repository.members(db, accountId, {
        limit: input.limit + 1,
        ...(input.q ? { q: input.q } : {}),
        ...(input.roleId ? { roleId: input.roleId } : {}),
        ...(input.teamId ? { teamId: input.teamId } : {}),
        ...(input.permission
          ? { grantedByRoleIds: roles.filter((r) => grants(r, input.permission as string)).map((r) => r.id) }
          : {}),
        ...(cursor ? { after: cursor } : {}),
      });
      const page = found.slice(0, input.limit);
      const last = page.at(-1);
      const order = catalog.map((c) => c.key);
      const rows: Assignment[] = page.map((m) => {
        const own = roleById.get(m.roleId) as AssignableRole;
        const memberTeams = m.teamIds
          .map((id) => teamById.get(id))
          .filter((t): t is AssignmentTeam => t !== undefined)
          .sort((a, b) => teams.indexOf(a) - teams.indexOf(b));
        const sourced: Array<{ grant: Grant; source: PermissionSource }> = [
          { grant: own, source: { type: "role", role: ref(own) } },
        ];
        for (const team of memberTeams) {
          const role = team.roleId ? roleById.get(team.roleId) : undefined;
          if (role) sourced.push({ grant: role, source: { type: "team", team, role: ref(role) } });
        }
        const held = composeGrants(sourced.map((s) => s.grant));
        // Root holds the whole catalog, also permissions added after its role was made.
        const keys = new Set([...(held.isRoot ? order : []), ...held.permissions]);
        const permissions = [...keys]
          .sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b))
          .map((permission) => ({
            permission,
            sources: sourced.filter((s) => grants(s.grant, permission)).map((s) => s.source),
          }));
        return {
          userId: m.userId,
          email: m.email,
          firstName: m.firstName,
          lastName: m.lastName,
          status: m.status,
          role: ref(own),
          teams: memberTeams.map((t) => {
            const role = t.roleId ? roleById.get(t.roleId) : undefined;
            return { id: t.id, name: t.name, role: role ? ref(role) : null };
          }),
          permissions,
        };
      });
      return {
        roles: roles.map(ref),
        teams: teams.map((t) => {
          const role = t.roleId ? roleById.get(t.roleId) : undefined;
          return { id: t.id, name: t.name, role: role ? ref(role) : null };
        }),
        rows,
        nextCursor:
          found.length > input.limit && last ? encodeCursor({ key: last.sortKey, id: last.userId }) : null,
      };
    },
  };
}

function rank(order: readonly string[], key: string): number {
  const index = order.indexOf(key);
  return index === -1 ? order.length : index;
}

export type AssignmentsService = ReturnType<typeof createAssignmentsService>;
