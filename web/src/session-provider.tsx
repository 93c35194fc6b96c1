import { type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import { ApiError, describeError } from "./api";
import { navigate } from "./router";
import type { Me, SessionInfo } from "./types";
import { useApi } from "./use-api";
import {
  isMfaEnrollmentOverdue,
  SessionContext,
  type SessionContextValue,
  type SessionState,
  securityFirstPath,
} from "./use-session";

type SessionStatus = ({ authenticated: true } & SessionInfo) | { authenticated: false };

export function SessionProvider({ children }: { children: ReactNode }) {
  const api = useApi();
  const [state, setState] = useState<SessionState>({ status: "loading" });

  const becomeAnonymous = useCallback(() => {
    api.setCsrfToken(null);
    setState({ status: "anonymous" });
  }, [api]);

  const signIn = useCallback(
    (info: SessionInfo) => {
      api.setCsrfToken(info.csrf_token);
      setState({ status: "authenticated", info });
    },
    [api],
  );

  // The quiet probe: signed out is a 200 answer, so a visitor's console shows no failed request.
  const reload = useCallback(async () => {
    try {
      const status = await api.get<SessionStatus>("/session/status");
      if (status.authenticated) signIn(status);
      else becomeAnonymous();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) becomeAnonymous();
      else setState({ status: "error", message: describeError(error) });
    }
  }, [api, signIn, becomeAnonymous]);

  const signOut = useCallback(async () => {
    try {
      await api.post("/auth/logout");
    } catch {
      // The session may already be gone (expired, revoked elsewhere); either way we are out.
    }
    becomeAnonymous();
  }, [api, becomeAnonymous]);

  const updateUser = useCallback((user: Me) => {
    setState((current) =>
      current.status === "authenticated"
        ? { status: "authenticated", info: { ...current.info, user } }
        : current,
    );
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  // A session revoked from another device shows up as a 401 on the next call.
  useEffect(() => api.onUnauthenticated(becomeAnonymous), [api, becomeAnonymous]);

  // Past the second-factor deadline (whatever this clock says): treat it as due now, go set one up.
  useEffect(
    () =>
      api.onMfaEnrollmentRequired(() => {
        setState((current) =>
          current.status === "authenticated" && !isMfaEnrollmentOverdue(current.info)
            ? {
                status: "authenticated",
                info: { ...current.info, mfa_enrollment_due_at: new Date().toISOString() },
              }
            : current,
        );
        // An application's pending sign-in (/authorize/{uid}) is resumed from there once a factor is set up.
        const { pathname } = window.location;
        if (pathname.startsWith("/authorize/")) navigate(securityFirstPath(pathname));
        else if (pathname !== "/settings/security") navigate("/settings/security");
      }),
    [api],
  );

  // When the deadline passes while the app is open, re-render so the Security-only guard applies.
  const dueAt = state.status === "authenticated" ? state.info.mfa_enrollment_due_at : null;
  useEffect(() => {
    if (!dueAt) return;
    const wait = Date.parse(dueAt) - Date.now();
    if (!(wait > 0) || wait > 2_147_483_647) return;
    const timer = window.setTimeout(
      () => setState((current) => (current.status === "authenticated" ? { ...current } : current)),
      wait + 1000,
    );
    return () => window.clearTimeout(timer);
  }, [dueAt]);

  const value = useMemo<SessionContextValue>(
    () => ({ state, reload, signIn, signOut, updateUser }),
    [state, reload, signIn, signOut, updateUser],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
