import type { Session } from "../auth/sessions.repository.js";
import type { Me } from "../users/users.service.js";

/** Domain objects → API shapes. The only place that decides what a client sees of a user. */
export function meView({ user, memberships, mfaEnabled }: Me) {
  return {
    id: user.id,
    email: user.email,
    email_verified: user.emailVerifiedAt !== null,
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    full_name: [user.firstName, user.lastName].filter(Boolean).join(" "),
    mobile: user.mobile,
    mobile_verified: user.mobile !== null && user.mobileVerifiedAt !== null,
    timezone: user.timezone,
    locale: user.locale,
    avatar_url: user.avatarUrl,
    avatar_thumb_url: user.avatarThumbUrl,
    mfa_enabled: mfaEnabled,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    last_login_at: user.lastLoginAt,
    memberships: memberships
      .filter((m) => m.status === "active")
      .map((m) => ({
        account_id: m.accountId,
        account_name: m.accountName,
        role: { id: m.role.id, key: m.role.key, name: m.role.name, description: m.role.description },
      })),
  };
}

/** When the session ends if nothing happens: the idle deadline, unless the absolute one comes first. */
export function sessionExpiry(session: Session): string {
  return session.idleExpiresAt < session.expiresAt ? session.idleExpiresAt : session.expiresAt;
}

export function sessionInfoView(session: Session) {
  return { id: session.id, expires_at: sessionExpiry(session) };
}
