import { type FormEvent, useState } from "react";
import { ApiError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { NewPasswordFields } from "../../components/new-password-fields";
import { type FormErrors, NO_ERRORS, toFormErrors, withoutFieldError } from "../../form-errors";
import {
  evaluatePassword,
  hasLocalFailure,
  passwordFailureFrom,
  type ServerPasswordFailure,
} from "../../password-rules";
import { Link, useSearchParam } from "../../router";
import { useApi } from "../../use-api";
import { usePasswordPolicy } from "../../use-password-policy";
import { useSession } from "../../use-session";

export function ResetPasswordPage() {
  const api = useApi();
  const { state, reload } = useSession();
  const token = useSearchParam("token");
  const policy = usePasswordPolicy("/auth/password-policy");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [serverFailures, setServerFailures] = useState<ServerPasswordFailure[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState(false);

  const rules = evaluatePassword(policy, password, serverFailures);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (hasLocalFailure(rules)) {
      setErrors({
        fields: { password: "Choose a password that meets every requirement below." },
        form: "Your new password does not meet the requirements yet.",
      });
      return;
    }
    if (password !== confirm) {
      setErrors({ fields: { confirm_password: "The passwords do not match." }, form: null });
      return;
    }
    setSubmitting(true);
    setErrors(NO_ERRORS);
    try {
      await api.post("/auth/password/reset", { token, password });
      setDone(true);
      // A reset ends every session of the user, possibly this browser's too.
      if (state.status === "authenticated") void reload();
    } catch (error) {
      const failure = passwordFailureFrom(error, password);
      if (failure) setServerFailures((seen) => [...seen, failure]);
      if (error instanceof ApiError && error.code === "invalid_token") {
        setErrors({
          fields: {},
          form: "This reset link is invalid, was already used, or has expired. Ask for a new one.",
        });
      } else {
        const next = toFormErrors(error, ["password"]);
        if (failure) {
          next.fields.password = "This password does not meet every requirement below.";
          next.form = "Choose a different password: this one does not meet every requirement.";
        }
        setErrors(next);
      }
    } finally {
      setSubmitting(false);
    }
  }

  if (!token) {
    return (
      <AuthLayout title="Reset your password">
        <FormAlert>This link has no reset token. Ask for a new link.</FormAlert>
        <p>
          <Link to="/forgot-password" className="button">
            Ask for a new link
          </Link>
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
      <form onSubmit={submit} noValidate>
        {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}
        <NewPasswordFields
          name="password"
          label="New password"
          confirmLabel="Confirm new password"
          value={password}
          confirm={confirm}
          onValueChange={(value) => {
            setPassword(value);
            setErrors((current) => withoutFieldError(current, "password"));
          }}
          onConfirmChange={(value) => {
            setConfirm(value);
            setErrors((current) => withoutFieldError(current, "confirm_password"));
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
