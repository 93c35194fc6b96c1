import { useState } from "react";
import { describeError } from "../../api";
import { useApi } from "../../use-api";

/**
 * Instead of "Set up email codes" while the login email is unverified (the server refuses with
 * 409): why, and a way to get a new verification link.
 */
export function EmailCodesNeedVerification({ email }: { email: string }) {
  const api = useApi();
  const [status, setStatus] = useState<"idle" | "sending" | "sent">("idle");
  const [error, setError] = useState<string | null>(null);

  async function resend() {
    setStatus("sending");
    setError(null);
    try {
      await api.post("/auth/verify-email/resend");
      setStatus("sent");
    } catch (caught) {
      setError(describeError(caught));
      setStatus("idle");
    }
  }

  return (
    <p className="field-hint" data-testid="email-codes-unverified">
      Email codes need a verified address: open the link we sent to <strong className="break">{email}</strong>{" "}
      first.{" "}
      <button
        type="button"
        className="link-button"
        onClick={resend}
        disabled={status === "sending"}
        data-testid="email-codes-resend"
      >
        {status === "sending" ? "Sending…" : "Resend verification email"}
      </button>
      {status === "sent" || error ? (
        <span role="status" data-testid="email-codes-resend-status">
          {" "}
          {error ?? "We sent a new verification link to your inbox."}
        </span>
      ) : null}
    </p>
  );
}
