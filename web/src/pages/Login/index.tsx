import { type FormEvent, useState } from "react";
import { ApiError, describeError, rateLimitMessage } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { Link, sameOriginPath, useSearchParam } from "../../router";
import type { LoginResponse, MfaChallenge, SessionInfo } from "../../types";
import { useApi } from "../../use-api";
import { useSession } from "../../use-session";

/** Set in history.state by the page that ended the session, for a one-off note above the form. */
export type LoginNoticeState = { login_notice: "deactivated" };

function loginNotice(): LoginNoticeState["login_notice"] | null {
  const state: unknown = window.history.state;
  if (!state || typeof state !== "object" || !("login_notice" in state)) return null;
  return state.login_notice === "deactivated" ? "deactivated" : null;
}

type LoginError = { text: string; code: string | null };

// A 403 (account_deactivated, membership_suspended) comes after a correct password: its detail says
// what happens next (a reactivation mail, ask an administrator), so it is shown as is.
function loginError(error: unknown): LoginError {
  if (!(error instanceof ApiError)) return { text: describeError(error), code: null };
  const { code, status } = error;
  if (status === 401) return { text: "Email or password is incorrect.", code };
  if (status === 429) return { text: rateLimitMessage(error), code };
  return { text: describeError(error), code };
}

// After signIn() the app's route guard sends the user on (profile, or security when a
// password change is required), so the pages here never navigate themselves.
export function LoginPage() {
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  if (challenge) return <MfaStep challenge={challenge} onCancel={() => setChallenge(null)} />;
  return <PasswordStep onChallenge={setChallenge} />;
}

function PasswordStep({ onChallenge }: { onChallenge: (challenge: MfaChallenge) => void }) {
  const api = useApi();
  const { signIn } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<LoginError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [notice, setNotice] = useState(loginNotice);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    setNotice(null);
    try {
      const answer = await api.post<LoginResponse>("/auth/login", { email: email.trim(), password });
      if ("mfa_required" in answer && answer.mfa_required) onChallenge(answer);
      else signIn(answer as SessionInfo);
    } catch (caught) {
      setError(loginError(caught));
      setSubmitting(false);
    }
  }

  // Coming from an invitation link: say why, and keep the way back.
  const next = sameOriginPath(useSearchParam("next"));
  const forInvitation = next?.startsWith("/accept-invitation") ?? false;

  return (
    <AuthLayout
      title="Log in"
      intro={forInvitation ? "Log in to accept your invitation." : undefined}
      footer={
        <>
          New to Gatehouse? <Link to="/signup">Create an account</Link>
        </>
      }
    >
      <form onSubmit={submit} noValidate>
        {notice === "deactivated" ? (
          <FormAlert tone="info" testId="deactivated-notice">
            Your login is deactivated and you are signed out everywhere. To use it again, log in here and
            confirm with the link we email you.
          </FormAlert>
        ) : null}
        {error ? (
          <FormAlert testId="login-error" code={error.code}>
            {error.text}
          </FormAlert>
        ) : null}
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onValueChange={setEmail}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValueChange={setPassword}
        />
        <p className="form-aside">
          <Link to="/forgot-password">Forgot your password?</Link>
        </p>
        <button type="submit" className="button button-block" disabled={submitting}>
          {submitting ? "Logging in…" : "Log in"}
        </button>
      </form>
    </AuthLayout>
  );
}

const METHOD_LABELS: Record<string, string> = {
  totp: "Authenticator app",
  email: "Code sent by email",
  sms: "Code sent by text message",
  recovery_code: "Recovery code",
};

function MfaStep({ challenge, onCancel }: { challenge: MfaChallenge; onCancel: () => void }) {
  const api = useApi();
  const { signIn } = useSession();
  const methods = challenge.methods.filter((method) => method in METHOD_LABELS);
  const [method, setMethod] = useState(methods[0] ?? "totp");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const sendsCode = method === "email" || method === "sms";

  async function sendCode() {
    setError(null);
    try {
      await api.post("/auth/login/mfa/send", { mfa_token: challenge.mfa_token, method });
      setNotice("We sent you a code.");
    } catch (caught) {
      setError(loginError(caught).text);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      signIn(
        await api.post<SessionInfo>("/auth/login/mfa", {
          mfa_token: challenge.mfa_token,
          method,
          code: code.trim(),
        }),
      );
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? "That code is not valid. Try again."
          : loginError(caught).text,
      );
      setSubmitting(false);
    }
  }

  return (
    <AuthLayout title="Two-step verification" intro="Enter a code to finish logging in.">
      <form onSubmit={submit} noValidate>
        {error ? <FormAlert testId="login-error">{error}</FormAlert> : null}
        {notice ? <FormAlert tone="info">{notice}</FormAlert> : null}
        {methods.length > 1 ? (
          <SelectField
            label="Method"
            name="method"
            value={method}
            onValueChange={setMethod}
            options={methods.map((value) => ({ value, label: METHOD_LABELS[value] ?? value }))}
          />
        ) : null}
        <TextField
          label="Code"
          name="code"
          inputMode={method === "recovery_code" ? "text" : "numeric"}
          autoComplete="one-time-code"
          required
          value={code}
          onValueChange={setCode}
        />
        <div className="actions">
          <button type="submit" className="button" disabled={submitting}>
            {submitting ? "Verifying…" : "Verify"}
          </button>
          {sendsCode ? (
            <button type="button" className="button button-secondary" onClick={sendCode}>
              Send code
            </button>
          ) : null}
          <button type="button" className="button button-ghost" onClick={onCancel}>
            Back
          </button>
        </div>
      </form>
    </AuthLayout>
  );
}
