import { createContext, useContext } from "react";

import type { UiPermission } from "./ui-permissions";

export { UI_PERMISSIONS, type UiPermission } from "./ui-permissions";

export type PermissionsContextValue = {
  /** "loading" until the answer for the session's current account is in. */
  status: "loading" | "ready";
  can(permission: UiPermission): boolean;
  /** Asks again (after a change to the caller's own role, say). */
  reload(): void;
};

export const PermissionsContext = createContext<PermissionsContextValue | null>(null);

export function usePermissions(): PermissionsContextValue {
  const value = useContext(PermissionsContext);
  if (!value) throw new Error("usePermissions must be used inside <PermissionsProvider>");
  return value;
}
