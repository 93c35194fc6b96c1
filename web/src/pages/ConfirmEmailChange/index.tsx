import { useEffect, useRef, useState } from "react";
import { ApiError, describeError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link, useSearchParam } from "../../router";
import { useApi } from "../../use-api";
import { useSession } from "../../use-session";

type Outcome =
  | { status: "working" }
  | { status: "ok"; email: string }
  | { status: "failed"; message: string };

function failureMessage(error: unknown): string {
  if (error instanceof ApiError && error.code === "invalid_token")
    return "This confirmation link is invalid, was already used, was replaced by a newer request, or has expired.";
  if (error instanceof ApiError && error.code === "conflict")
    return "This address now belongs to another login, so your email was not changed. Choose another address.";
  return describeError(error);
}

/** The page of the link mailed to a new address (`POST /auth/email-change/confirm`). */
export function ConfirmEmailChangePage() {
  const api = useApi();
  const { state, reload } = useSession();
  const token = useSearchParam("token");
  const [outcome, setOutcome] = useState<Outcome>(
    token ? { status: "working" } : { status: "failed", message: "This link has no confirmation token." },
  );
  // The token is single-use: StrictMode's second effect run must not spend it again.
  const postedFor = useRef<string | null>(null);
  const loggedIn = state.status === "authenticated";

  useEffect(() => {
    if (!token || postedFor.current === token) return;
    postedFor.current = token;
    api.post<{ changed: boolean; email: string }>("/auth/email-change/confirm", { token }).then(
      (result) => {
        setOutcome({ status: "ok", email: result.email });
        // This browser's session stays if it is the user's own; any other session of theirs ended.
        if (loggedIn) void reload();
      },
      (error: unknown) => setOutcome({ status: "failed", message: failureMessage(error) }),
    );
  }, [api, token, loggedIn, reload]);

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
            Your login email is now <strong className="break">{outcome.email}</strong>. Use it the next time
            you log in.
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
