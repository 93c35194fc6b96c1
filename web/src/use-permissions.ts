import { createContext, useContext } from "react";

/** The permissions the web app asks about: each decides whether a tab, button or menu item shows. */
export const UI_PERMISSIONS = [
  "account:read",
  "account:update",
  "members:read",
  "members:invite",
  "members:update_role",
  "members:suspend",
  "members:delete",
  "roles:read",
  "roles:manage",
  "teams:read",
  "teams:manage",
  "audit:read",
  "security:read",
  "security:manage",
  "billing:read",
  "billing:manage",
] as const;

export type UiPermission = (typeof UI_PERMISSIONS)[number];

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
