import { AuthSkeleton, ShellSkeleton } from "./components/page-skeletons";
import { homePath } from "./overview";
import { AcceptInvitationPage } from "./pages/AcceptInvitation";
import { AuthorizePage } from "./pages/Authorize";
import { CancelAccountClosurePage } from "./pages/CancelAccountClosure";
import { ConfirmEmailChangePage } from "./pages/ConfirmEmailChange";
import { ForgotPasswordPage } from "./pages/ForgotPassword";
import { LoginPage } from "./pages/Login";
import { NotFoundPage } from "./pages/NotFound";
import { ReactivatePage } from "./pages/Reactivate";
import { ResetPasswordPage } from "./pages/ResetPassword";
import { SettingsPage } from "./pages/Settings";
import { SignupPage } from "./pages/Signup";
import { VerifyEmailPage } from "./pages/VerifyEmail";
import { Redirect, useLocation } from "./router";
import { sameOriginPath } from "./same-origin-path";
import { resolveSettingsPath, SECURITY_ONLY_PAGE, settingsPage } from "./settings-nav";
import type { SessionInfo } from "./types";
import { type PermissionsContextValue, usePermissions } from "./use-permissions";
import { isSecurityOnly, securityFirstPath, useSession } from "./use-session";

/** Where a signed-in user belongs when a page is not for them (/, /login); null while permissions load. */
function homeFor(info: SessionInfo, permissions: PermissionsContextValue): string | null {
  // Without a current account (every membership ended) there are no permissions to wait for.
  return homePath(isSecurityOnly(info), info.account_id ? permissions : NO_ACCOUNT);
}

const NO_ACCOUNT = { status: "ready", can: () => false } as const;

/**
 * After log-in: back to where the user was sent from (`?next=`, same origin only), else home. A password
 * change or a second factor that is due comes first, and `next` waits on the Security tab meanwhile.
 */
function afterLogin(info: SessionInfo, search: string, permissions: PermissionsContextValue): string | null {
  const next = sameOriginPath(new URLSearchParams(search).get("next"), window.location.origin);
  if (isSecurityOnly(info)) return securityFirstPath(next);
  return next ?? homeFor(info, permissions);
}

/** A redirect to the signed-in user's home, once it is known (the shell's skeleton meanwhile). */
function GoTo({ to }: { to: string | null }) {
  return to === null ? <ShellSkeleton /> : <Redirect to={to} />;
}

export function App() {
  const { pathname, search } = useLocation();
  const { state, reload } = useSession();
  const permissions = usePermissions();

  if (state.status === "loading") {
    return pathname.startsWith("/settings") ? <ShellSkeleton /> : <AuthSkeleton />;
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
      return info ? <GoTo to={homeFor(info, permissions)} /> : <Redirect to="/login" />;
    case "/login":
      if (info) return <GoTo to={afterLogin(info, search, permissions)} />;
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
    case "/cancel-account-closure":
      return <CancelAccountClosurePage />;
    case "/settings":
      return info ? <GoTo to={homeFor(info, permissions)} /> : <Redirect to="/login" />;
  }

  // Sign in with Gatehouse: the OpenID Connect provider's interaction page (signed in or not).
  if (path.startsWith("/authorize/")) {
    const uid = path.slice("/authorize/".length);
    return /^[A-Za-z0-9_-]{1,200}$/.test(uid) ? <AuthorizePage uid={uid} /> : <NotFoundPage />;
  }

  if (path.startsWith("/settings/")) {
    const route = resolveSettingsPath(path, search + window.location.hash);
    if (route.kind === "not-found") return <NotFoundPage />;
    if (route.kind === "redirect") return <Redirect to={route.to} />;
    if (!info) return <Redirect to={`/login?next=${encodeURIComponent(pathname + search)}`} />;
    // Until the password is changed or a second factor set up, the server refuses everything else anyway.
    if (isSecurityOnly(info) && route.page.key !== SECURITY_ONLY_PAGE)
      return <Redirect to={settingsPage(SECURITY_ONLY_PAGE).path} />;
    return <SettingsPage page={route.page} itemId={route.itemId} />;
  }

  return <NotFoundPage />;
}
