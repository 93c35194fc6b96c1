import { type FormEvent, useState } from "react";
import { AuthLayout } from "../../components/auth-layout";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { Link } from "../../router";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";

const FIELDS = ["email"] as const;

export function ForgotPasswordPage() {
  const api = useApi();
  const [email, setEmail] = useState("");
  const { errors, formRef, edited, fail, clear } = useFormErrors(FIELDS);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    clear();
    try {
      await api.post("/auth/password/forgot", { email: email.trim() });
      setDone(true);
    } catch (caught) {
      fail(caught);
    } finally {
      setSubmitting(false);
    }
  }

  const backToLogin = (
    <>
      Remembered it? <Link to="/login">Log in</Link>
    </>
  );

  if (done) {
    // Same words whether or not the address is registered: the page must not reveal accounts.
    return (
      <AuthLayout title="Check your inbox" footer={backToLogin}>
        <div role="status" data-testid="forgot-done">
          <p>
            If an account exists for <strong>{email.trim()}</strong>, we sent a link to reset its password.
            The link works for 30 minutes.
          </p>
        </div>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout
      title="Reset your password"
      intro="Enter the email you log in with and we will send you a link to choose a new password."
      footer={backToLogin}
    >
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert testId="form-error" code={errors.code}>
            {errors.form}
          </FormAlert>
        ) : null}
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onValueChange={(value) => {
            setEmail(value);
            edited("email");
          }}
          error={errors.fields.email}
        />
        <button type="submit" className="button button-block" disabled={submitting}>
          {submitting ? "Sending…" : "Send reset link"}
        </button>
      </form>
    </AuthLayout>
  );
}
