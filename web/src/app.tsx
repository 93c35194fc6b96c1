import { AcceptInvitationPage } from "./pages/AcceptInvitation";
import { ConfirmEmailChangePage } from "./pages/ConfirmEmailChange";
import { ForgotPasswordPage } from "./pages/ForgotPassword";
import { LoginPage } from "./pages/Login";
import { NotFoundPage } from "./pages/NotFound";
import { ReactivatePage } from "./pages/Reactivate";
import { ResetPasswordPage } from "./pages/ResetPassword";
import { isSettingsTab, SettingsPage } from "./pages/Settings";
import { SignupPage } from "./pages/Signup";
import { VerifyEmailPage } from "./pages/VerifyEmail";
import { Redirect, sameOriginPath, useLocation } from "./router";
import type { SessionInfo } from "./types";
import { isSecurityOnly, useSession } from "./use-session";

/** Where a signed-in user belongs when a page is not for them (/, /login). */
function homeFor(info: SessionInfo): string {
  return isSecurityOnly(info) ? "/settings/security" : "/settings/profile";
}

/** After log-in: back to where the user was sent from (`?next=`, same origin only), else home. */
function afterLogin(info: SessionInfo, search: string): string {
  if (isSecurityOnly(info)) return homeFor(info);
  return sameOriginPath(new URLSearchParams(search).get("next")) ?? homeFor(info);
}

export function App() {
  const { pathname, search } = useLocation();
  const { state, reload } = useSession();

  if (state.status === "loading") {
    return (
      <div className="splash" role="status">
        Loading…
      </div>
    );
  }
  if (state.status === "error") {
    return (
      <div className="splash">
        <div className="card">
          <h1>Gatehouse is unreachable</h1>
          <p role="alert">{state.message}</p>
          <button type="button" className="button" onClick={() => void reload()}>
            Try again
          </button>
        </div>
      </div>
    );
  }

  const info = state.status === "authenticated" ? state.info : null;
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;

  switch (path) {
    case "/":
      return <Redirect to={info ? homeFor(info) : "/login"} />;
    case "/login":
      if (info) return <Redirect to={afterLogin(info, search)} />;
      return <LoginPage />;
    case "/signup":
      return <SignupPage />;
    case "/verify-email":
      return <VerifyEmailPage />;
    case "/forgot-password":
      return <ForgotPasswordPage />;
    case "/reset-password":
      return <ResetPasswordPage />;
    case "/confirm-email-change":
      return <ConfirmEmailChangePage />;
    case "/reactivate":
      return <ReactivatePage />;
    case "/accept-invitation":
      return <AcceptInvitationPage />;
    case "/settings":
      return <Redirect to={info ? homeFor(info) : "/login"} />;
  }

  if (path.startsWith("/settings/")) {
    const tab = path.slice("/settings/".length);
    if (!isSettingsTab(tab)) return <NotFoundPage />;
    if (!info) return <Redirect to="/login" />;
    // Until the password is changed or a second factor set up, the server refuses everything else anyway.
    if (isSecurityOnly(info) && tab !== "security") return <Redirect to="/settings/security" />;
    return <SettingsPage tab={tab} />;
  }

  return <NotFoundPage />;
}
