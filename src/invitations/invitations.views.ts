import type { InvitationRecord } from "./invitations.repository.js";

/** An invitation as the API shows it (the invitation routes, and the data of `member.invited` and `invitation.revoked`). */
export function invitationView(i: InvitationRecord) {
  return {
    id: i.id,
    email: i.email,
    first_name: i.firstName,
    last_name: i.lastName,
    role: i.role,
    role_id: i.role.id,
    team_ids: i.teamIds,
    status: i.status,
    expires_at: i.expiresAt,
    invited_by: { user_id: i.invitedBy.userId, name: i.invitedBy.name },
    created_at: i.createdAt,
    last_sent_at: i.lastSentAt,
    send_count: i.sendCount,
  };
}
