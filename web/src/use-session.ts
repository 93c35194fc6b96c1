import { createContext, useContext } from "react";
import type { Me, SessionInfo } from "./types";

export type SessionState =
  | { status: "loading" }
  | { status: "error"; message: string }
  | { status: "anonymous" }
  | { status: "authenticated"; info: SessionInfo };

export type SessionContextValue = {
  state: SessionState;
  /** Re-reads GET /session (after a password change, say). */
  reload(): Promise<void>;
  /** Adopts the session a successful login returned. */
  signIn(info: SessionInfo): void;
  /** Ends the session on the server; the local state is cleared even if that call fails. */
  signOut(): Promise<void>;
  /** Replaces the user after PATCH /me so the header and dates follow at once. */
  updateUser(user: Me): void;
};

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession must be used inside <SessionProvider>");
  return value;
}

/** For pages behind the login guard, where a session is guaranteed. */
export function useSessionInfo(): SessionInfo {
  const { state } = useSession();
  if (state.status !== "authenticated") throw new Error("useSessionInfo needs an authenticated session");
  return state.info;
}

/** The second-factor deadline has passed: until one is set up the server refuses nearly everything. */
export function isMfaEnrollmentOverdue(info: SessionInfo, now = Date.now()): boolean {
  if (!info.mfa_enrollment_due_at) return false;
  const due = Date.parse(info.mfa_enrollment_due_at);
  return Number.isNaN(due) || due <= now;
}

/** Only the Security tab works: a password change or a second factor is due first. */
export function isSecurityOnly(info: SessionInfo): boolean {
  return info.password_change_required || isMfaEnrollmentOverdue(info);
}

/**
 * Where a security-only user goes: the Security tab, keeping where they were headed (a same-origin
 * `next`, such as an application's pending /authorize/{uid}) so that it offers the way back once done.
 */
export function securityFirstPath(next: string | null): string {
  return next ? `/settings/security?next=${encodeURIComponent(next)}` : "/settings/security";
}
