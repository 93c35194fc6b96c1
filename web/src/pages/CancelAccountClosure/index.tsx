import { useState } from "react";
import { ApiError, describeError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { Link, useSearchParam } from "../../router";
import { useApi } from "../../use-api";

type Outcome =
  | { status: "ready" }
  | { status: "working" }
  | { status: "ok" }
  | { status: "failed"; message: string };

/**
 * The link from the "will be deleted" mail. The token is single-use, so nothing happens on opening the
 * page (mail scanners open links too): the closure is cancelled only when the button is pressed.
 */
export function CancelAccountClosurePage() {
  const api = useApi();
  const token = useSearchParam("token");
  const [outcome, setOutcome] = useState<Outcome>(
    token ? { status: "ready" } : { status: "failed", message: "This link has no cancel token." },
  );

  async function cancel() {
    if (!token) return;
    setOutcome({ status: "working" });
    try {
      await api.post("/account-closures/cancel", { token });
      setOutcome({ status: "ok" });
    } catch (error) {
      setOutcome({
        status: "failed",
        message:
          error instanceof ApiError && error.code === "invalid_token"
            ? "This link is invalid, was already used, or has expired: the closure may already be cancelled."
            : describeError(error),
      });
    }
  }

  if (outcome.status === "ok") {
    return (
      <AuthLayout title="The closure is cancelled">
        <div data-testid="closure-cancelled" role="status">
          <p>The account stays, with everything in it. The other Roots and Admins' links no longer work.</p>
        </div>
        <p>
          <Link to="/login" className="button">
            Log in
          </Link>
        </p>
      </AuthLayout>
    );
  }

  if (outcome.status === "failed") {
    return (
      <AuthLayout title="We couldn't cancel the closure">
        <FormAlert testId="closure-cancel-error">{outcome.message}</FormAlert>
        <p className="muted">A Root can also cancel it after logging in, in Settings → Data.</p>
        <p>
          <Link to="/login" className="button button-secondary">
            Go to log in
          </Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout title="Cancel the account's closure?">
      <p>
        The account is scheduled for deletion. Cancelling keeps it, with all of its members and data, and lets
        its subscription continue.
      </p>
      <p>
        <button
          type="button"
          className="button"
          onClick={() => void cancel()}
          disabled={outcome.status === "working"}
          data-testid="closure-cancel-submit"
        >
          {outcome.status === "working" ? "Cancelling…" : "Cancel the closure"}
        </button>
      </p>
    </AuthLayout>
  );
}
