// Data the admin tabs share: the current account's base path, roles, teams and members.
import { useCallback } from "react";
import { withQuery } from "../../api";
import type { Member, MembersPage, RoleDetail, RoleRef, Team } from "../../types";
import { useApi } from "../../use-api";
import { type UiPermission, usePermissions } from "../../use-permissions";
import { type Resource, useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";

/** `/accounts/{id}` for the session's account. */
export function useAccountPath(): string {
  const { account_id } = useSessionInfo();
  return `/accounts/${encodeURIComponent(account_id)}`;
}

function usePermittedResource<T>(path: string, permission: UiPermission): Resource<T> {
  const { can } = usePermissions();
  return useResource<T>(can(permission) ? path : null);
}

export function useRoles(): Resource<{ data: RoleDetail[] }> {
  return usePermittedResource(`${useAccountPath()}/roles`, "roles:read");
}

export function useTeams(): Resource<{ data: Team[] }> {
  return usePermittedResource(`${useAccountPath()}/teams`, "teams:read");
}

/** Every active and suspended member (pages of 200), for pickers such as a team's members. */
export function useLoadAllMembers(): () => Promise<Member[]> {
  const api = useApi();
  const base = useAccountPath();
  return useCallback(async () => {
    const members: Member[] = [];
    let cursor: string | null = null;
    // A generous cap: pickers beyond a few thousand people need search, not a list.
    for (let page = 0; page < 25; page++) {
      const answer: MembersPage = await api.get<MembersPage>(
        withQuery(`${base}/members`, { limit: 200, cursor, sort: "name" }),
      );
      members.push(...answer.data.filter((member) => member.status !== "pending" && member.user_id));
      cursor = answer.next_cursor ?? null;
      if (!cursor) break;
    }
    return members;
  }, [api, base]);
}

export function memberName(member: Pick<Member, "first_name" | "last_name" | "email">): string {
  return [member.first_name, member.last_name].filter(Boolean).join(" ") || member.email;
}

/** Role choices when the roles list is not readable: the roles seen on members. */
export function rolesSeenOn(members: readonly Member[]): RoleRef[] {
  const byId = new Map<string, RoleRef>();
  for (const member of members) byId.set(member.role.id, member.role);
  return [...byId.values()];
}
