import { useEffect, useRef, useState } from "react";
import { ApiError, describeError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link, useSearchParam } from "../../router";
import { useApi } from "../../use-api";

type Outcome = { status: "working" } | { status: "ok" } | { status: "failed"; message: string };

/** The link from the "reactivate your login" mail, sent when a deactivated user logs in. */
export function ReactivatePage() {
  const api = useApi();
  const token = useSearchParam("token");
  const [outcome, setOutcome] = useState<Outcome>(
    token ? { status: "working" } : { status: "failed", message: "This link has no reactivation token." },
  );
  // The token is single-use: StrictMode's second effect run must not spend it again.
  const postedFor = useRef<string | null>(null);

  useEffect(() => {
    if (!token || postedFor.current === token) return;
    postedFor.current = token;
    api.post("/auth/reactivate", { token }).then(
      () => setOutcome({ status: "ok" }),
      (error: unknown) =>
        setOutcome({
          status: "failed",
          message:
            error instanceof ApiError && error.code === "invalid_token"
              ? "This reactivation link is invalid, was already used, or has expired."
              : describeError(error),
        }),
    );
  }, [api, token]);

  if (outcome.status === "working") {
    return (
      <AuthLayout title="Reactivating your login">
        <p role="status">One moment…</p>
      </AuthLayout>
    );
  }

  if (outcome.status === "ok") {
    return (
      <AuthLayout title="Your login is active again">
        <div data-testid="reactivate-ok" role="status">
          <p>Welcome back! You can log in with your email and password as before.</p>
        </div>
        <p>
          <Link to="/login" className="button">
            Log in
          </Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="We couldn't reactivate your login">
      <FormAlert testId="reactivate-error">{outcome.message}</FormAlert>
      <p className="muted">
        To get a new link, log in with your email and password: while your login is deactivated, each correct
        log-in sends a fresh reactivation email.
      </p>
      <p>
        <Link to="/login" className="button button-secondary">
          Go to log in
        </Link>
      </p>
    </AuthLayout>
  );
}
