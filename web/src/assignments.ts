// The User Assignments page's words: where a permission comes from ("Admin role", "via team
// Platform") and what a bulk role change did. Plain functions, checked in test/web/assignments.test.ts.
import type { RoleRef } from "./types.js";

/** Where one permission comes from: the member's own role, or the role one of their teams gives. */
export type PermissionSource =
  | { type: "role"; role_id: string; role_key: string; role_name: string }
  | {
      type: "team";
      role_id: string;
      role_key: string;
      role_name: string;
      team_id: string;
      team_name: string;
    };

export type AssignmentTeam = { id: string; name: string; role: RoleRef | null };

/** A member as `GET …/assignments` shows them. */
export type Assignment = {
  user_id: string;
  email: string;
  first_name: string;
  last_name: string;
  name: string;
  status: "active" | "suspended" | "deactivated";
  role: RoleRef;
  teams: AssignmentTeam[];
  permissions: Array<{ permission: string; sources: PermissionSource[] }>;
};

export type AssignmentsPage = {
  roles: RoleRef[];
  teams: AssignmentTeam[];
  data: Assignment[];
  next_cursor: string | null;
};

export type BulkRoleResult = {
  user_id: string;
  member?: { role: RoleRef };
  error?: { code: string; detail: string };
};

/** "Admin role" for their own role; "via team Platform (Developer)" for a team's. */
export function sourceLabel(source: PermissionSource): string {
  return source.type === "role"
    ? `${source.role_name} role`
    : `via team ${source.team_name} (${source.role_name})`;
}

/** Whether the member holds `permission`, and a sentence saying through what. */
export function holding(member: Assignment, permission: string): { held: boolean; text: string } {
  const entry = member.permissions.find((p) => p.permission === permission);
  if (!entry || entry.sources.length === 0) return { held: false, text: "No" };
  return { held: true, text: entry.sources.map(sourceLabel).join(", ") };
}

/** The name to show: their name, else their address. */
export function assignmentName(member: Pick<Assignment, "name" | "email">): string {
  return member.name.trim() || member.email;
}

/** "2 members are now Developer; 1 was not changed." — the headline over a bulk change's results. */
export function bulkRoleSummary(results: readonly BulkRoleResult[], roleName: string): string {
  const changed = results.filter((r) => !r.error).length;
  const refused = results.length - changed;
  const parts: string[] = [];
  if (changed > 0) parts.push(`${changed === 1 ? "1 member is" : `${changed} members are`} now ${roleName}`);
  if (refused > 0) parts.push(`${refused === 1 ? "1 was" : `${refused} were`} not changed`);
  if (parts.length === 0) return "Nobody was selected.";
  const text = parts.join("; ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
