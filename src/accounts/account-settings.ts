import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from "../auth/password-policy.js";

export type SessionPolicy = { idle_minutes: number; absolute_hours: number };

export const SESSION_BOUNDS = {
  idle_minutes: { min: 5, max: 1440 },
  absolute_hours: { min: 1, max: 720 },
} as const;

export const DEFAULT_SESSION_POLICY: Readonly<SessionPolicy> = Object.freeze({
  idle_minutes: 30,
  absolute_hours: 24,
});

export const MFA_METHODS = ["totp", "email", "sms", "passkey"] as const;
export type MfaMethod = (typeof MFA_METHODS)[number];

/** Who must use a second factor, which kinds count, and how long people have to enroll. */
export type MfaPolicy = { required_role_ids: string[]; allowed_methods: MfaMethod[]; grace_days: number };

export const MFA_GRACE_BOUNDS = { min: 0, max: 90 } as const;

export type AccountSettings = {
  password_policy: PasswordPolicy;
  session: SessionPolicy;
  mfa: MfaPolicy;
  /** Canonical IPv4/IPv6 addresses and CIDR ranges (see ip-allowlist.ts); empty = no restriction. */
  ip_allowlist: string[];
};

export function defaultAccountSettings(): AccountSettings {
  return {
    password_policy: { ...DEFAULT_PASSWORD_POLICY },
    session: { ...DEFAULT_SESSION_POLICY },
    mfa: { required_role_ids: [], allowed_methods: [...MFA_METHODS], grace_days: 7 },
    ip_allowlist: [],
  };
}

/** Stored settings merged over today's defaults, so settings added later read sensibly for old accounts. */
export function parseAccountSettings(json: string): AccountSettings {
  const stored = JSON.parse(json) as Partial<AccountSettings>;
  const defaults = defaultAccountSettings();
  return {
    password_policy: { ...defaults.password_policy, ...stored.password_policy },
    session: { ...defaults.session, ...stored.session },
    mfa: { ...defaults.mfa, ...stored.mfa },
    ip_allowlist: Array.isArray(stored.ip_allowlist) ? stored.ip_allowlist : defaults.ip_allowlist,
  };
}
