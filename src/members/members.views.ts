import type { MemberRecord } from "./members.repository.js";

/** A member as the API shows it (the member routes, and the data of `member.*` events). */
export function memberView(m: MemberRecord) {
  return {
    user_id: m.userId,
    email: m.email,
    first_name: m.firstName,
    last_name: m.lastName,
    status: m.status,
    role: m.role,
    team_ids: m.teamIds,
    last_login_at: m.lastLoginAt,
    joined_at: m.joinedAt,
    mfa_enabled: m.mfaEnabled,
    avatar_url: m.avatarUrl,
    avatar_thumb_url: m.avatarThumbUrl,
  };
}
