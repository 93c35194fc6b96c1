/** The permission catalog. Roles are sets over it; `can` is the one place that decides. */
export const PERMISSIONS = {
  "account:read": "See the account profile",
  "account:update": "Change the account profile and settings",
  "account:close": "Close the account",
  "members:read": "See members",
  "members:invite": "Invite members",
  "members:update_role": "Change members' roles",
  "members:suspend": "Suspend and reactivate members",
  "members:delete": "Remove members",
  "roles:read": "See roles",
  "roles:manage": "Create, change and delete custom roles",
  "teams:read": "See teams",
  "teams:manage": "Create, change and delete teams",
  "billing:read": "See plan, invoices and payment methods",
  "billing:manage": "Change plan and payment methods",
  "security:read": "See security settings",
  "security:manage": "Change security settings",
  "api_keys:manage": "Create and revoke API keys",
  "webhooks:manage": "Create and manage webhook endpoints",
  "audit:read": "Read the audit log",
  "data:export": "Export the account's data",
  "resources:read": "Read resources",
  "resources:write": "Create, change and delete resources",
} as const;

export type Permission = keyof typeof PERMISSIONS;

const ALL = Object.keys(PERMISSIONS) as Permission[];

export type BuiltinRole = {
  key: string;
  name: string;
  description: string;
  permissions: readonly Permission[];
};

export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    key: "root",
    name: "Root",
    description: "Full control of the account, including closing it.",
    permissions: ALL,
  },
  {
    key: "admin",
    name: "Admin",
    description: "Manages everything except closing the account and Root users.",
    permissions: ALL.filter((p) => p !== "account:close"),
  },
  {
    key: "billing",
    name: "Billing",
    description: "Manages the plan, invoices and payment methods.",
    permissions: ["account:read", "billing:read", "billing:manage"],
  },
  {
    key: "developer",
    name: "Developer",
    description: "Creates, changes and deletes resources.",
    // The replaced products give Developers "API keys and integrations".
    permissions: [
      "account:read",
      "members:read",
      "teams:read",
      "roles:read",
      "resources:read",
      "resources:write",
      "api_keys:manage",
      "webhooks:manage",
    ],
  },
  {
    key: "monitor",
    name: "Monitor",
    description: "Read-only access.",
    permissions: ["account:read", "members:read", "teams:read", "roles:read", "resources:read"],
  },
];

/** One click adds these to an account as ordinary custom roles. */
export const ROLE_TEMPLATES: readonly BuiltinRole[] = [
  {
    key: "manager",
    name: "Manager",
    description: "Manages teams and sees reports.",
    permissions: [
      "account:read",
      "members:read",
      "teams:read",
      "teams:manage",
      "roles:read",
      "audit:read",
      "resources:read",
    ],
  },
  {
    key: "agent",
    name: "Agent",
    description: "Works with resources day to day.",
    permissions: ["account:read", "members:read", "teams:read", "resources:read", "resources:write"],
  },
  {
    key: "viewer",
    name: "Viewer",
    description: "Sees resources, changes nothing.",
    permissions: ["account:read", "resources:read"],
  },
  {
    key: "user",
    name: "User",
    description: "A regular member with access to resources.",
    permissions: ["account:read", "members:read", "teams:read", "resources:read", "resources:write"],
  },
];

export const PERMISSION_KEY_PATTERN = "^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$";

export function permissionGroup(key: string): string {
  return key.split(":")[0] ?? key;
}

export function can(granted: ReadonlySet<string> | readonly string[], permission: string): boolean {
  return "has" in granted ? granted.has(permission) : granted.includes(permission);
}
