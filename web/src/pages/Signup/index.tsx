import { type FormEvent, useId, useState } from "react";
import { AuthLayout } from "../../components/auth-layout";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { PasswordChecklist } from "../../components/password-checklist";
import { PASSWORD_REFUSED, passwordFailureFrom } from "../../form-errors";
import { type ServerPasswordFailure, splitName } from "../../password-rules";
import { Link } from "../../router";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { usePasswordChecklist } from "../../use-password-checklist";
import { usePasswordPolicy } from "../../use-password-policy";

const FIELDS = ["email", "name", "account_name", "password"] as const;
type SignupForm = Record<(typeof FIELDS)[number], string>;

export function SignupPage() {
  const api = useApi();
  const policy = usePasswordPolicy("/auth/password-policy");
  const checklistId = useId();
  const [form, setForm] = useState<SignupForm>({ email: "", name: "", account_name: "", password: "" });
  const { errors, formRef, edited, fail, clear } = useFormErrors(FIELDS);
  const [serverFailures, setServerFailures] = useState<ServerPasswordFailure[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);

  const rules = usePasswordChecklist(policy, form.password, serverFailures, {
    person: { email: form.email.trim(), ...splitName(form.name), accountNames: [form.account_name] },
  });
  const set = (field: keyof SignupForm) => (value: string) => {
    setForm((current) => ({ ...current, [field]: value }));
    edited(field);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    // Nothing is refused here: the server checks every field (the password policy too) and reports
    // all their problems in one answer, each message on its field. The checklist is live guidance.
    setSubmitting(true);
    clear();
    try {
      await api.post("/auth/signup", { ...form, email: form.email.trim() });
      setSentTo(form.email.trim());
    } catch (error) {
      const failure = passwordFailureFrom(error, form.password);
      if (failure) setServerFailures((seen) => [...seen, failure]);
      fail(error, (next) =>
        failure ? { ...next, fields: { ...next.fields, password: PASSWORD_REFUSED } } : next,
      );
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
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert testId="form-error" code={errors.code}>
            {errors.form}
          </FormAlert>
        ) : null}
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
