// What the API keys list, detail page and dialogs share: paths, the permission catalog with what the
// user holds, and creators' names.
import { useEffect, useMemo, useState } from "react";
import { withQuery } from "../../api";
import type { AuthzResult, Member, PermissionInfo } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import { memberName, useAccountPath } from "./account-data";

export type ApiKeyPaths = {
  list: string;
  key(id: string): string;
  rotate(id: string): string;
  usage(id: string): string;
  logs(id: string): string;
};

export function useApiKeyPaths(): ApiKeyPaths {
  const account = useAccountPath();
  return useMemo(() => {
    const key = (id: string) => `${account}/api-keys/${encodeURIComponent(id)}`;
    return {
      list: `${account}/api-keys`,
      key,
      rotate: (id) => `${key(id)}/rotate`,
      usage: (id) => `${key(id)}/usage`,
      logs: (id) => `${key(id)}/logs`,
    };
  }, [account]);
}

// `POST /authz/check` takes at most this many checks at once.
const CHECKS_PER_CALL = 100;

export type ScopeCatalog = {
  catalog: PermissionInfo[] | null;
  error: string | null;
  /** Why the signed-in user cannot give a key this permission, or null when they can. */
  unavailable(key: string): string | null;
};

/**
 * The permission catalog for a key's scopes, and which of them the signed-in user holds (their role and
 * their teams' roles, as the server counts them): a key can only get what its creator has.
 */
export function useScopeCatalog(): ScopeCatalog {
  const api = useApi();
  const { account_id, user } = useSessionInfo();
  const catalog = useResource<{ data: PermissionInfo[] }>(withQuery("/permissions", { account_id }));
  const [held, setHeld] = useState<ReadonlySet<string> | null>(null);
  const keys = catalog.data?.data.map((permission) => permission.key);
  const keyList = keys?.join(" ");

  useEffect(() => {
    if (keyList === undefined) return;
    let cancelled = false;
    const all = keyList.split(" ").filter(Boolean);
    const batches: string[][] = [];
    for (let i = 0; i < all.length; i += CHECKS_PER_CALL) batches.push(all.slice(i, i + CHECKS_PER_CALL));
    Promise.all(
      batches.map((batch) =>
        api
          .post<{ results: AuthzResult[] }>("/authz/check", {
            checks: batch.map((permission) => ({ account_id, user_id: user.id, permission })),
          })
          .then((answer) => batch.filter((_, index) => answer.results[index]?.allowed === true)),
      ),
    ).then(
      (granted) => {
        if (!cancelled) setHeld(new Set(granted.flat()));
      },
      // Unknown: let the server decide (it names any scope the user lacks, on its field).
      () => {
        if (!cancelled) setHeld(new Set(all));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, account_id, user.id, keyList]);

  return {
    catalog: catalog.data && held ? catalog.data.data : null,
    error: catalog.error,
    unavailable: (key) => (held === null || held.has(key) ? null : "Your role doesn't include it."),
  };
}

/**
 * Names of the members who created keys ("You" for the signed-in user); without `members:read`, or for
 * someone no longer in the account, the name is missing and the caller shows the id.
 */
export function useMemberNames(userIds: readonly string[]): ReadonlyMap<string, string> {
  const api = useApi();
  const base = useAccountPath();
  const { user } = useSessionInfo();
  const { can } = usePermissions();
  const canRead = can("members:read");
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const wanted = [...new Set(userIds)]
    .filter((id) => id !== user.id)
    .sort()
    .join(" ");

  useEffect(() => {
    if (!canRead || !wanted) return;
    let cancelled = false;
    Promise.all(
      wanted.split(" ").map((id) =>
        api.get<Member>(`${base}/members/${encodeURIComponent(id)}`).then(
          (member) => [id, memberName(member)] as const,
          () => null,
        ),
      ),
    ).then((found) => {
      if (cancelled) return;
      setNames(new Map(found.filter((entry) => entry !== null)));
    });
    return () => {
      cancelled = true;
    };
  }, [api, base, canRead, wanted]);

  return useMemo(() => new Map([...names, [user.id, "You"]]), [names, user.id]);
}
