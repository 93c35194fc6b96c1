// Kept free of React so that the navigation model (settings-nav.ts) and its tests under test/web use it.

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
  "api_keys:manage",
  "webhooks:manage",
  "audit:read",
  "security:read",
  "security:manage",
  "billing:read",
  "billing:manage",
  "data:export",
  "account:close",
] as const;

export type UiPermission = (typeof UI_PERMISSIONS)[number];
