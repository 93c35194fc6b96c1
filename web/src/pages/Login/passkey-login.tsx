import { useState } from "react";
import { ApiError, rateLimitMessage } from "../../api";
import { FormAlert } from "../../components/form-alert";
import { passkeyErrorText, signInWithPasskey } from "../../passkeys";
import { useApi } from "../../use-api";
import { useSession } from "../../use-session";

type Props = {
  /** The second step of a password log-in; without it the passkey alone logs in. */
  mfaToken?: string;
  /** The log-in attempt ended (expired, too many tries): back to the password. */
  onRestart?: (reason: { text: string; code: string | null }) => void;
};

/** "Sign in with a passkey" on the log-in page, or "Use your passkey" at the second-factor step. */
export function PasskeyLogin({ mfaToken, onRestart }: Props) {
  const api = useApi();
  const { signIn } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);

  async function start() {
    setBusy(true);
    setError(null);
    try {
      signIn(await signInWithPasskey(api, mfaToken));
    } catch (caught) {
      setBusy(false);
      if (
        caught instanceof ApiError &&
        onRestart &&
        (caught.code === "invalid_token" || caught.status === 429)
      ) {
        onRestart({
          text:
            caught.status !== 429
              ? "This log-in attempt expired. Enter your password again."
              : (caught.retryAfter ?? 0) > 1
                ? `Too many failed tries: signing in is locked. Try again in ${caught.retryAfter} seconds.`
                : "Too many failed tries. Enter your password again.",
          code: caught.code,
        });
        return;
      }
      const text =
        caught instanceof ApiError && caught.status === 429
          ? rateLimitMessage(caught)
          : passkeyErrorText(caught);
      setError({ text, code: caught instanceof ApiError ? caught.code : null });
    }
  }

  return (
    <div className="passkey-login">
      {error ? (
        <FormAlert testId="passkey-error" code={error.code}>
          {error.text}
        </FormAlert>
      ) : null}
      <button
        type="button"
        className={mfaToken ? "button button-secondary" : "button button-secondary button-block"}
        onClick={start}
        disabled={busy}
        data-testid={mfaToken ? "use-passkey" : "passkey-sign-in"}
      >
        {busy ? "Waiting for your passkey…" : mfaToken ? "Use your passkey" : "Sign in with a passkey"}
      </button>
    </div>
  );
}
