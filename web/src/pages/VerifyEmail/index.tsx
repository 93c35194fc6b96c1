import { ApiError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link } from "../../router";
import { useSession } from "../../use-session";
import { useTokenLink } from "../../use-token-link";

const explain = (error: unknown) =>
  error instanceof ApiError && error.code === "invalid_token"
    ? "This link was used or has expired — request a new one."
    : undefined;

/** The link is spent as the page opens (use-token-link.ts): its verdict is the first thing shown. */
export function VerifyEmailPage() {
  const { outcome, loggedIn } = useTokenLink("/auth/verify-email", {
    noToken: "This link is incomplete — request a new one.",
    explain,
  });
  const { state } = useSession();
  // Opening the link a second time (it worked the first time) is no failure.
  const alreadyVerified = state.status === "authenticated" && state.info.user.email_verified;

  if (outcome.status === "failed" && alreadyVerified) {
    return (
      <AuthLayout title="Email verified">
        <div data-testid="verify-ok" role="status">
          <p>Your email address is already verified.</p>
        </div>
        <p>
          <Link to="/settings/profile" className="button">
            Go to your profile
          </Link>
        </p>
      </AuthLayout>
    );
  }

  if (outcome.status === "working") {
    return (
      <AuthLayout title="Verifying your email">
        <p role="status">One moment…</p>
      </AuthLayout>
    );
  }

  if (outcome.status === "ok") {
    return (
      <AuthLayout title="Email verified">
        <div data-testid="verify-ok" role="status">
          <p>Thanks! Your email address is verified.</p>
        </div>
        <p>
          <Link to={loggedIn ? "/settings/profile" : "/login"} className="button">
            {loggedIn ? "Go to your profile" : "Log in"}
          </Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="We couldn't verify your email">
      <FormAlert testId="verify-error">{outcome.message}</FormAlert>
      <p className="muted">
        {loggedIn
          ? "Ask for a new link from your profile: “Resend verification email”."
          : "Log in, then ask for a new link from your profile: “Resend verification email”."}
      </p>
      <p>
        <Link to={loggedIn ? "/settings/profile" : "/login"} className="button button-secondary">
          {loggedIn ? "Go to your profile" : "Go to log in"}
        </Link>
      </p>
    </AuthLayout>
  );
}
