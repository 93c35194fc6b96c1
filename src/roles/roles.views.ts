import type { RoleRecord } from "./roles.repository.js";

/** A role as the API shows it (the role routes, and the data of `role.*` events). */
export function roleView(r: RoleRecord) {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    description: r.description,
    permissions: r.permissions,
    builtin: r.builtin,
    member_count: r.memberCount,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}
