import { ApiError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link } from "../../router";
import { useTokenLink } from "../../use-token-link";

const explain = (error: unknown) =>
  error instanceof ApiError && error.code === "invalid_token"
    ? "This verification link is invalid, was already used, or has expired."
    : undefined;

export function VerifyEmailPage() {
  const { outcome, loggedIn } = useTokenLink("/auth/verify-email", {
    noToken: "This link has no verification token.",
    explain,
  });

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
          ? "You can ask for a new link from your profile."
          : "Log in and ask for a new link from your profile settings."}
      </p>
      <p>
        <Link to={loggedIn ? "/settings/profile" : "/login"} className="button button-secondary">
          {loggedIn ? "Go to your profile" : "Go to log in"}
        </Link>
      </p>
    </AuthLayout>
  );
}
