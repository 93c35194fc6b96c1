import { type FormEvent, useEffect, useState } from "react";
import { withQuery } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { NewPasswordFields } from "../../components/new-password-fields";
import { errorCode, explainError } from "../../error-messages";
import { PASSWORD_REFUSED, passwordFailureFrom } from "../../form-errors";
import { hasLocalFailure, type ServerPasswordFailure } from "../../password-rules";
import { Link, navigate, useSearchParam } from "../../router";
import type { InvitationLookup, SessionInfo } from "../../types";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { useFormatDate } from "../../use-format-date";
import { usePasswordChecklist } from "../../use-password-checklist";
import { useSession } from "../../use-session";
import type { JoinedState } from "../Settings";

type Lookup =
  | { status: "loading" }
  | { status: "failed"; message: string; code: string | null }
  | { status: "ready"; invitation: InvitationLookup };

/** `/accept-invitation?token=…`, the link in the invitation mail. */
export function AcceptInvitationPage() {
  const api = useApi();
  const token = useSearchParam("token");
  const [lookup, setLookup] = useState<Lookup>({ status: "loading" });
  const [joined, setJoined] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return;
    let cancelled = false;
    setLookup({ status: "loading" });
    api.get<InvitationLookup>(withQuery("/invitations/lookup", { token })).then(
      (invitation) => {
        if (!cancelled) setLookup({ status: "ready", invitation });
      },
      (error: unknown) => {
        if (!cancelled) setLookup({ status: "failed", message: explainError(error), code: errorCode(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, token]);

  if (joined !== null) {
    return (
      <AuthLayout title="You're in">
        <p role="status" data-testid="accept-done">
          You joined <strong>{joined}</strong>. Opening your settings…
        </p>
      </AuthLayout>
    );
  }

  if (!token || lookup.status === "failed") {
    return (
      <AuthLayout title="This invitation can't be used">
        <FormAlert
          testId="accept-error"
          code={token ? (lookup.status === "failed" ? lookup.code : null) : "invalid_token"}
        >
          {!token
            ? "The link is incomplete. Open the invitation email again and use its button or full link."
            : lookup.status === "failed"
              ? lookup.message
              : null}
        </FormAlert>
        <p className="muted">Ask the person who invited you to send a new invitation.</p>
        <p>
          <Link to="/login">Go to log in</Link>
        </p>
      </AuthLayout>
    );
  }

  if (lookup.status === "loading") {
    return (
      <AuthLayout title="Accept invitation">
        <p role="status" className="muted">
          Checking your invitation…
        </p>
      </AuthLayout>
    );
  }

  const { invitation } = lookup;
  const onJoined = () => setJoined(invitation.account_name);
  return invitation.existing_user ? (
    <ExistingUserStep token={token} invitation={invitation} onJoined={onJoined} />
  ) : (
    <NewUserStep token={token} invitation={invitation} onJoined={onJoined} />
  );
}

function InvitationIntro({ invitation }: { invitation: InvitationLookup }) {
  const formatDate = useFormatDate();
  return (
    <div className="invitation-intro">
      <p>
        {invitation.invited_by_name ? <strong>{invitation.invited_by_name}</strong> : "You have been"}{" "}
        {invitation.invited_by_name ? "invited you" : "invited"} to join{" "}
        <strong>{invitation.account_name}</strong>
        {invitation.role_name ? (
          <>
            {" "}
            as <strong>{invitation.role_name}</strong>
          </>
        ) : null}
        .
      </p>
      <p className="muted">
        Invitation for <strong className="break">{invitation.email}</strong>, valid until{" "}
        {formatDate(invitation.expires_at)}.
      </p>
    </div>
  );
}

type StepProps = { token: string; invitation: InvitationLookup; onJoined: () => void };

/** After a successful accept: adopt the session the answer carries, then land in the settings. */
function useFinishJoining(onJoined: () => void): (answer: SessionInfo | undefined) => Promise<void> {
  const { signIn, reload } = useSession();
  return async (answer) => {
    if (answer?.csrf_token && answer.user) signIn(answer);
    else await reload();
    onJoined();
    const state: JoinedState | null = answer?.account_id ? { joined_account_id: answer.account_id } : null;
    navigate("/settings/profile", { state });
  };
}

function ExistingUserStep({ token, invitation, onJoined }: StepProps) {
  const api = useApi();
  const { state, signOut } = useSession();
  const finish = useFinishJoining(onJoined);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const next = `/accept-invitation?token=${encodeURIComponent(token)}`;
  const loginHref = `/login?next=${encodeURIComponent(next)}`;
  const user = state.status === "authenticated" ? state.info.user : null;
  const sameUser = user !== null && user.email.toLowerCase() === invitation.email.toLowerCase();

  async function accept() {
    setBusy(true);
    setError(null);
    try {
      await finish(await api.post<SessionInfo>("/invitations/accept", { token }));
    } catch (caught) {
      setError({ text: explainError(caught), code: errorCode(caught) });
      setBusy(false);
    }
  }

  async function switchUser() {
    await signOut();
    navigate(loginHref);
  }

  return (
    <AuthLayout title={`Join ${invitation.account_name}`}>
      <InvitationIntro invitation={invitation} />
      {error ? (
        <FormAlert testId="accept-error" code={error.code}>
          {error.text}
        </FormAlert>
      ) : null}
      {user === null ? (
        <>
          <p>You already have a Gatehouse user with this email address. Log in to accept the invitation.</p>
          <Link to={loginHref} className="button button-block" data-testid="accept-login">
            Log in to accept
          </Link>
        </>
      ) : sameUser ? (
        <button
          type="button"
          className="button button-block"
          onClick={accept}
          disabled={busy}
          data-testid="accept-submit"
        >
          {busy ? "Joining…" : `Join ${invitation.account_name}`}
        </button>
      ) : (
        <>
          <FormAlert tone="info" code="wrong_user">
            You're logged in as <strong className="break">{user.email}</strong>, but this invitation is for{" "}
            <strong className="break">{invitation.email}</strong>.
          </FormAlert>
          <button
            type="button"
            className="button button-block"
            onClick={switchUser}
            data-testid="accept-switch-user"
          >
            Log out and log in as {invitation.email}
          </button>
        </>
      )}
    </AuthLayout>
  );
}

const NEW_USER_FIELDS = ["first_name", "last_name", "password", "confirm_password"] as const;
type NewUserForm = Record<(typeof NEW_USER_FIELDS)[number], string>;

function NewUserStep({ token, invitation, onJoined }: StepProps) {
  const api = useApi();
  const { state } = useSession();
  const finish = useFinishJoining(onJoined);
  const [form, setForm] = useState<NewUserForm>({
    first_name: "",
    last_name: "",
    password: "",
    confirm_password: "",
  });
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(NEW_USER_FIELDS);
  const [serverFailures, setServerFailures] = useState<ServerPasswordFailure[]>([]);
  const [busy, setBusy] = useState(false);
  // The inviting account's own policy, which the server applies to this password.
  const rules = usePasswordChecklist(invitation.password_policy, form.password, serverFailures, {
    person: {
      email: invitation.email,
      firstName: form.first_name.trim(),
      lastName: form.last_name.trim(),
      accountNames: [invitation.account_name],
    },
  });
  const signedInAs = state.status === "authenticated" ? state.info.user.email : null;

  const set = (field: keyof NewUserForm) => (value: string) => {
    setForm((current) => ({ ...current, [field]: value }));
    edited(field);
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    // Every check of this form is cheap to make here, so all of them are made at once.
    const fields: Record<string, string> = {};
    if (!form.first_name.trim()) fields.first_name = "Enter your first name.";
    if (!form.last_name.trim()) fields.last_name = "Enter your last name.";
    if (!form.password) fields.password = "Choose a password.";
    else if (hasLocalFailure(rules))
      fields.password = "Choose a password that meets every requirement below.";
    if (form.confirm_password !== form.password) fields.confirm_password = "The passwords do not match.";
    if (Object.keys(fields).length > 0) {
      refuse(fields);
      return;
    }
    setBusy(true);
    clear();
    try {
      const answer = await api.post<SessionInfo>("/invitations/accept", {
        token,
        first_name: form.first_name.trim(),
        last_name: form.last_name.trim(),
        password: form.password,
      });
      await finish(answer);
    } catch (caught) {
      const failure = passwordFailureFrom(caught, form.password);
      if (failure) setServerFailures((seen) => [...seen, failure]);
      fail(caught, (next) =>
        failure ? { ...next, fields: { ...next.fields, password: PASSWORD_REFUSED } } : next,
      );
      setBusy(false);
    }
  }

  return (
    <AuthLayout title={`Join ${invitation.account_name}`}>
      <InvitationIntro invitation={invitation} />
      {signedInAs ? (
        <FormAlert tone="info">
          You're logged in as <strong className="break">{signedInAs}</strong>. Accepting creates a new
          Gatehouse user for <strong className="break">{invitation.email}</strong> and logs you in as them.
        </FormAlert>
      ) : null}
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert testId="accept-error" code={errors.code}>
            {errors.form}
          </FormAlert>
        ) : null}
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          value={invitation.email}
          readOnly
          onValueChange={() => {}}
        />
        <div className="grid-2">
          <TextField
            label="First name"
            name="first_name"
            autoComplete="given-name"
            required
            value={form.first_name}
            onValueChange={set("first_name")}
            error={errors.fields.first_name}
          />
          <TextField
            label="Last name"
            name="last_name"
            autoComplete="family-name"
            required
            value={form.last_name}
            onValueChange={set("last_name")}
            error={errors.fields.last_name}
          />
        </div>
        <NewPasswordFields
          name="password"
          label="Password"
          confirmLabel="Confirm password"
          value={form.password}
          confirm={form.confirm_password}
          onValueChange={set("password")}
          onConfirmChange={set("confirm_password")}
          error={errors.fields.password}
          confirmError={errors.fields.confirm_password}
          rules={rules}
        />
        <button type="submit" className="button button-block" disabled={busy} data-testid="accept-submit">
          {busy ? "Joining…" : `Join ${invitation.account_name}`}
        </button>
      </form>
    </AuthLayout>
  );
}
