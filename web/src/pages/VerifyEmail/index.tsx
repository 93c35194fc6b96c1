import { useEffect, useRef, useState } from "react";
import { ApiError, describeError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link, useSearchParam } from "../../router";
import { useApi } from "../../use-api";
import { useSession } from "../../use-session";

type Outcome = { status: "working" } | { status: "ok" } | { status: "failed"; message: string };

export function VerifyEmailPage() {
  const api = useApi();
  const { state, reload } = useSession();
  const token = useSearchParam("token");
  const [outcome, setOutcome] = useState<Outcome>(
    token ? { status: "working" } : { status: "failed", message: "This link has no verification token." },
  );
  // The token is single-use: StrictMode's second effect run must not spend it again.
  const postedFor = useRef<string | null>(null);
  const loggedIn = state.status === "authenticated";

  useEffect(() => {
    if (!token || postedFor.current === token) return;
    postedFor.current = token;
    api.post("/auth/verify-email", { token }).then(
      () => {
        setOutcome({ status: "ok" });
        if (loggedIn) void reload();
      },
      (error: unknown) =>
        setOutcome({
          status: "failed",
          message:
            error instanceof ApiError && error.code === "invalid_token"
              ? "This verification link is invalid, was already used, or has expired."
              : describeError(error),
        }),
    );
  }, [api, token, loggedIn, reload]);

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
