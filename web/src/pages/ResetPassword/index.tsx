import { type FormEvent, useEffect, useState } from "react";
import { ApiError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { NewPasswordFields } from "../../components/new-password-fields";
import { PASSWORD_REFUSED, passwordFailureFrom } from "../../form-errors";
import { hasLocalFailure, type ServerPasswordFailure } from "../../password-rules";
import { Link, useSearchParam } from "../../router";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { usePasswordChecklist } from "../../use-password-checklist";
import { usePasswordPolicy } from "../../use-password-policy";
import { useSession } from "../../use-session";

/** What the page says of a link that was used, has expired, or never was one. */
export const DEAD_RESET_LINK = "This link was used or has expired — request a new one.";

const FIELDS = ["password", "confirm_password"] as const;

/** "checking" until the server has said whether the link still works (it is not used up by asking). */
type LinkState = "checking" | "live" | "dead";

export function ResetPasswordPage() {
  const api = useApi();
  const { state, reload } = useSession();
  const token = useSearchParam("token");
  const policy = usePasswordPolicy("/auth/password-policy");
  const [link, setLink] = useState<LinkState>("checking");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [serverFailures, setServerFailures] = useState<ServerPasswordFailure[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState(false);

  // Whose link this is stays unknown here: personal-info rules are checked on submit.
  const rules = usePasswordChecklist(policy, password, serverFailures, { replacing: true });

  // A used or expired link is said so at once, before a new password is typed for nothing.
  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    api.post("/auth/password/reset/check", { token }).then(
      () => {
        if (!cancelled) setLink("live");
      },
      (error: unknown) => {
        // Only a verdict on the link closes the form; otherwise (offline, throttled) submitting will tell.
        if (!cancelled)
          setLink(error instanceof ApiError && error.code === "invalid_token" ? "dead" : "live");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, token]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const local: Record<string, string> = {};
    if (password !== "" && hasLocalFailure(rules))
      local.password = "Choose a password that meets every requirement below.";
    if (password !== confirm) local.confirm_password = "The passwords do not match.";
    if (Object.keys(local).length > 0) {
      refuse(local);
      return;
    }
    setSubmitting(true);
    clear();
    try {
      await api.post("/auth/password/reset", { token, password });
      setDone(true);
      // A reset ends every session of the user, possibly this browser's too.
      if (state.status === "authenticated") void reload();
    } catch (error) {
      if (error instanceof ApiError && error.code === "invalid_token") {
        setLink("dead");
        return;
      }
      const failure = passwordFailureFrom(error, password);
      if (failure) setServerFailures((seen) => [...seen, failure]);
      fail(error, (next) =>
        failure ? { ...next, fields: { ...next.fields, password: PASSWORD_REFUSED } } : next,
      );
    } finally {
      setSubmitting(false);
    }
  }

  if (!token || link === "dead") {
    return (
      <AuthLayout title="Reset your password">
        <FormAlert testId="reset-link-dead" code="invalid_token">
          {token ? DEAD_RESET_LINK : "This link is incomplete — request a new one."}
        </FormAlert>
        <p className="muted">Reset links work once, for 30 minutes. A newer link replaces older ones.</p>
        <p>
          <Link to="/forgot-password" className="button" data-testid="request-new-link">
            Request a new link
          </Link>
        </p>
      </AuthLayout>
    );
  }

  if (link === "checking") {
    return (
      <AuthLayout title="Choose a new password">
        <p role="status" className="muted" data-testid="reset-link-checking">
          Checking your link…
        </p>
      </AuthLayout>
    );
  }

  if (done) {
    return (
      <AuthLayout title="Password changed">
        <div role="status" data-testid="reset-done">
          <p>Your password was changed and every session was signed out. Log in with your new password.</p>
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
    <AuthLayout
      title="Choose a new password"
      footer={
        <>
          Link expired? <Link to="/forgot-password">Ask for a new one</Link>
        </>
      }
    >
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert testId="form-error" code={errors.code}>
            {errors.form}
          </FormAlert>
        ) : null}
        <NewPasswordFields
          name="password"
          label="New password"
          confirmLabel="Confirm new password"
          value={password}
          confirm={confirm}
          onValueChange={(value) => {
            setPassword(value);
            edited("password");
          }}
          onConfirmChange={(value) => {
            setConfirm(value);
            edited("confirm_password");
          }}
          error={errors.fields.password}
          confirmError={errors.fields.confirm_password}
          rules={rules}
        />
        <button type="submit" className="button button-block" disabled={submitting}>
          {submitting ? "Saving…" : "Set new password"}
        </button>
      </form>
    </AuthLayout>
  );
}
