import type { TeamRecord } from "./teams.repository.js";

/** A team as the API shows it (the team routes, and the data of `team.*` events). */
export const teamView = (t: TeamRecord) => ({
  id: t.id,
  name: t.name,
  description: t.description,
  role: t.role,
  member_ids: t.memberIds,
  resource_count: t.resourceCount,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
});
