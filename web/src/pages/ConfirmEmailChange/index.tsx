import { ApiError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link } from "../../router";
import { useTokenLink } from "../../use-token-link";

function failureMessage(error: unknown): string | undefined {
  if (error instanceof ApiError && error.code === "invalid_token")
    return "This link was used, replaced by a newer request, or has expired — request a new one.";
  if (error instanceof ApiError && error.code === "conflict")
    return "This address now belongs to another login, so your email was not changed. Choose another address.";
  return undefined;
}

/**
 * The page of the link mailed to a new address (`POST /auth/email-change/confirm`). This browser's
 * session stays if it is the user's own; any other session of theirs ended.
 */
export function ConfirmEmailChangePage() {
  const { outcome, loggedIn } = useTokenLink<{ changed: boolean; email: string }>(
    "/auth/email-change/confirm",
    {
      noToken: "This link is incomplete — request a new one.",
      explain: failureMessage,
    },
  );

  if (outcome.status === "working") {
    return (
      <AuthLayout title="Confirming your new email">
        <p role="status">One moment…</p>
      </AuthLayout>
    );
  }

  if (outcome.status === "ok") {
    return (
      <AuthLayout title="Email changed">
        <div data-testid="email-change-ok" role="status">
          <p>
            Your login email is now <strong className="break">{outcome.result.email}</strong>. Use it the next
            time you log in.
          </p>
          <p className="muted">For your safety, your sessions on other devices were ended.</p>
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
    <AuthLayout title="We couldn't change your email">
      <FormAlert testId="email-change-error">{outcome.message}</FormAlert>
      <p className="muted">You can ask for a new link from your profile settings.</p>
      <p>
        <Link to={loggedIn ? "/settings/profile" : "/login"} className="button button-secondary">
          {loggedIn ? "Go to your profile" : "Go to log in"}
        </Link>
      </p>
    </AuthLayout>
  );
}
