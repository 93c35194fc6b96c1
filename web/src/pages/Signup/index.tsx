import { type FormEvent, useId, useState } from "react";
import { AuthLayout } from "../../components/auth-layout";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { PasswordChecklist } from "../../components/password-checklist";
import { type FormErrors, NO_ERRORS, toFormErrors, withoutFieldError } from "../../form-errors";
import {
  evaluatePassword,
  hasLocalFailure,
  passwordFailureFrom,
  type ServerPasswordFailure,
} from "../../password-rules";
import { Link } from "../../router";
import { useApi } from "../../use-api";
import { usePasswordPolicy } from "../../use-password-policy";

const FIELDS = ["email", "name", "account_name", "password"] as const;
type SignupForm = Record<(typeof FIELDS)[number], string>;

export function SignupPage() {
  const api = useApi();
  const policy = usePasswordPolicy("/auth/password-policy");
  const checklistId = useId();
  const [form, setForm] = useState<SignupForm>({ email: "", name: "", account_name: "", password: "" });
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [serverFailures, setServerFailures] = useState<ServerPasswordFailure[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const rules = evaluatePassword(policy, form.password, serverFailures);
  const set = (field: keyof SignupForm) => (value: string) => {
    setForm((current) => ({ ...current, [field]: value }));
    setErrors((current) => withoutFieldError(current, field));
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (hasLocalFailure(rules)) {
      setErrors({
        fields: { password: "Choose a password that meets every requirement below." },
        form: "Your password does not meet the requirements yet.",
      });
      return;
    }
    setSubmitting(true);
    setErrors(NO_ERRORS);
    try {
      await api.post("/auth/signup", { ...form, email: form.email.trim() });
      setSentTo(form.email.trim());
    } catch (error) {
      const failure = passwordFailureFrom(error, form.password);
      if (failure) setServerFailures((seen) => [...seen, failure]);
      const next = toFormErrors(error, FIELDS);
      if (failure) {
        next.fields.password = "This password does not meet every requirement below.";
        next.form = "Choose a different password: this one does not meet every requirement.";
      }
      setErrors(next);
    } finally {
      setSubmitting(false);
    }
  }

  if (sentTo !== null) {
    return (
      <AuthLayout title="Check your inbox">
        <div data-testid="signup-done" role="status">
          <p>
            We sent a link to <strong>{sentTo}</strong>. Open it to verify your email address, then log in.
          </p>
          <p className="muted">No email after a few minutes? Check your spam folder.</p>
        </div>
        <p>
          <Link to="/login" className="button">
            Go to log in
          </Link>
        </p>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout
      title="Create your account"
      intro="Set up Gatehouse for your team. You will be the account's Root user."
      footer={
        <>
          Already have an account? <Link to="/login">Log in</Link>
        </>
      }
    >
      <form onSubmit={submit} noValidate>
        {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}
        <TextField
          label="Work email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={form.email}
          onValueChange={set("email")}
          error={errors.fields.email}
        />
        <TextField
          label="Your name"
          name="name"
          autoComplete="name"
          required
          value={form.name}
          onValueChange={set("name")}
          error={errors.fields.name}
        />
        <TextField
          label="Account name"
          name="account_name"
          autoComplete="organization"
          hint="Usually your company or team."
          required
          value={form.account_name}
          onValueChange={set("account_name")}
          error={errors.fields.account_name}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          value={form.password}
          onValueChange={set("password")}
          error={errors.fields.password}
          describedById={checklistId}
        />
        <PasswordChecklist id={checklistId} rules={rules} />
        <button type="submit" className="button button-block" disabled={submitting}>
          {submitting ? "Creating account…" : "Create account"}
        </button>
      </form>
    </AuthLayout>
  );
}
