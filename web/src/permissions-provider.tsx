import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import type { ApiClient } from "./api";
import type { AuthzResult, RoleDetail } from "./types";
import { useApi } from "./use-api";
import {
  PermissionsContext,
  type PermissionsContextValue,
  UI_PERMISSIONS,
  type UiPermission,
} from "./use-permissions";
import { isSecurityOnly, useSession } from "./use-session";

type Subject = { userId: string; accountId: string; roleId: string | undefined };

/**
 * What the signed-in user may do in the session's account. The authorization check answers for the
 * union of their role and their teams' roles; if it fails, their own role's permission list is the
 * fallback. Anything unknown counts as "not allowed": the server decides on every call anyway.
 */
async function loadGranted(api: ApiClient, subject: Subject): Promise<Set<string>> {
  try {
    const answer = await api.post<{ results: AuthzResult[] }>("/authz/check", {
      checks: UI_PERMISSIONS.map((permission) => ({
        account_id: subject.accountId,
        user_id: subject.userId,
        permission,
      })),
    });
    return new Set(UI_PERMISSIONS.filter((_, index) => answer.results[index]?.allowed === true));
  } catch {
    // Fall through to the role's own list.
  }
  try {
    const roles = await api.get<{ data: RoleDetail[] }>(
      `/accounts/${encodeURIComponent(subject.accountId)}/roles`,
    );
    return new Set(roles.data.find((role) => role.id === subject.roleId)?.permissions ?? []);
  } catch {
    return new Set();
  }
}

export function PermissionsProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const { state } = useSession();
  const info = state.status === "authenticated" && !isSecurityOnly(state.info) ? state.info : null;
  const userId = info?.user.id;
  const accountId = info?.account_id;
  const roleId = info?.user.memberships.find((membership) => membership.account_id === accountId)?.role.id;
  const key = userId && accountId ? `${userId} ${accountId} ${roleId ?? ""}` : null;

  const [attempt, setAttempt] = useState(0);
  const [granted, setGranted] = useState<{ key: string; permissions: Set<string> } | null>(null);

  useEffect(() => {
    void attempt; // a bump from reload() re-runs this effect
    if (!userId || !accountId || key === null) return;
    let cancelled = false;
    loadGranted(api, { userId, accountId, roleId }).then((permissions) => {
      if (!cancelled) setGranted({ key, permissions });
    });
    return () => {
      cancelled = true;
    };
  }, [api, key, userId, accountId, roleId, attempt]);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);
  // Answers for another account (just switched) are not shown while the new ones load.
  const current = granted && granted.key === key ? granted.permissions : null;

  const value = useMemo<PermissionsContextValue>(
    () => ({
      status: current ? "ready" : "loading",
      can: (permission: UiPermission) => current?.has(permission) ?? false,
      reload,
    }),
    [current, reload],
  );
  return <PermissionsContext.Provider value={value}>{children}</PermissionsContext.Provider>;
}
