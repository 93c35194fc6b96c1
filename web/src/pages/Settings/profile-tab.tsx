import { type FormEvent, useEffect, useMemo, useState } from "react";
import { describeError } from "../../api";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { type FormErrors, NO_ERRORS, toFormErrors, withoutFieldError } from "../../form-errors";
import { Link } from "../../router";
import type { Me } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { useSession, useSessionInfo } from "../../use-session";
import { ChangeEmailDialog } from "./change-email-dialog";

const FIELDS = ["username", "first_name", "last_name", "timezone"] as const;
const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
type ProfileForm = Record<(typeof FIELDS)[number], string>;

function formFromUser(user: Me): ProfileForm {
  return {
    username: user.username ?? "",
    first_name: user.first_name ?? "",
    last_name: user.last_name ?? "",
    timezone: user.timezone ?? "",
  };
}

function timeZoneOptions(current: string): Array<{ value: string; label: string }> {
  const zones = Intl.supportedValuesOf("timeZone");
  // The user's zone may be an alias (e.g. "UTC") the browser leaves out of its list.
  if (current && !zones.includes(current)) zones.unshift(current);
  const options = zones.map((zone) => ({ value: zone, label: zone.replaceAll("_", " ") }));
  return current ? options : [{ value: "", label: "Not set" }, ...options];
}

export function ProfileTab() {
  const api = useApi();
  const { updateUser } = useSession();
  const { user, account_id } = useSessionInfo();
  const formatDate = useFormatDate();
  const [form, setForm] = useState<ProfileForm>(() => formFromUser(user));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const [verification, setVerification] = useState<string | null>(null);
  const [changingEmail, setChangingEmail] = useState(false);
  const zones = useMemo(() => timeZoneOptions(user.timezone ?? ""), [user.timezone]);
  const membership = user.memberships.find((candidate) => candidate.account_id === account_id);

  // The session's copy may be stale (verified in another tab, edited elsewhere).
  useEffect(() => {
    api.get<Me>("/me").then(updateUser, () => {});
  }, [api, updateUser]);

  const saved = formFromUser(user);
  // When the server copy changes underneath an untouched form, show the new values.
  const savedKey = JSON.stringify(saved);
  const [baselineKey, setBaselineKey] = useState(savedKey);
  if (savedKey !== baselineKey) {
    setBaselineKey(savedKey);
    if (JSON.stringify(form) === baselineKey) setForm(saved);
  }
  const changed = FIELDS.filter((field) => form[field] !== saved[field]);

  function set(field: keyof ProfileForm) {
    return (value: string) => {
      setForm((current) => ({ ...current, [field]: value }));
      setErrors((current) => withoutFieldError(current, field));
      setStatus("idle");
    };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (changed.length === 0) {
      setStatus("saved");
      return;
    }
    const username = form.username.trim();
    if (username !== "" && !USERNAME_PATTERN.test(username)) {
      setErrors({
        fields: { username: "Use 3–32 characters: letters, digits, dot, dash or underscore." },
        form: "Please check the highlighted fields.",
      });
      setStatus("idle");
      return;
    }
    const patch: Record<string, string | null> = {};
    for (const field of changed) {
      const value = form[field].trim();
      // An empty username means "no username"; the API clears it with null.
      patch[field] = field === "username" && value === "" ? null : value;
    }
    setStatus("saving");
    setErrors(NO_ERRORS);
    try {
      const updated = await api.patch<Me>("/me", patch);
      updateUser(updated);
      setForm(formFromUser(updated));
      setStatus("saved");
    } catch (error) {
      setErrors(toFormErrors(error, FIELDS));
      setStatus("idle");
    }
  }

  function cancel() {
    setForm(saved);
    setErrors(NO_ERRORS);
    setStatus("idle");
  }

  async function resendVerification() {
    try {
      await api.post("/auth/verify-email/resend");
      setVerification("We sent a new verification link to your inbox.");
    } catch (error) {
      setVerification(describeError(error));
    }
  }

  return (
    <div className="stack">
      <section className="card" aria-labelledby="account-heading">
        <h2 id="account-heading">Account</h2>
        <dl className="details">
          <div>
            <dt>User ID</dt>
            <dd>
              <code>{user.id}</code>
            </dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>
              <span className="break">{user.email}</span>{" "}
              {user.email_verified ? (
                <span className="badge badge-success" data-testid="email-verified" data-verified="true">
                  Verified
                </span>
              ) : (
                <span className="badge badge-warning" data-testid="email-verified" data-verified="false">
                  Not verified
                </span>
              )}
              {user.email_verified ? null : (
                <button type="button" className="link-button" onClick={resendVerification}>
                  Resend verification email
                </button>
              )}
              {verification ? (
                <span className="field-hint" role="status">
                  {verification}
                </span>
              ) : null}
              <button
                type="button"
                className="link-button"
                onClick={() => setChangingEmail(true)}
                data-testid="change-email"
              >
                Change email
              </button>
              <span className="field-hint">
                You log in with this address; changing it needs a confirmation.
              </span>
            </dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>
              {membership ? (
                <>
                  <strong>{membership.role.name}</strong>
                  <span className="muted"> in {membership.account_name}</span>
                  {membership.role.description ? (
                    <span className="field-hint">{membership.role.description}</span>
                  ) : null}
                </>
              ) : (
                <span className="muted">No role in the active account</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Two-factor authentication</dt>
            <dd>
              {user.mfa_enabled ? (
                <span className="badge badge-success" data-testid="profile-mfa" data-enabled="true">
                  Enabled
                </span>
              ) : (
                <span className="badge" data-testid="profile-mfa" data-enabled="false">
                  Not enabled
                </span>
              )}
              <Link to="/settings/security" className="inline-link">
                {user.mfa_enabled ? "Manage in Security settings" : "Set up in Security settings"}
              </Link>
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(user.created_at)}</dd>
          </div>
          <div>
            <dt>Last updated</dt>
            <dd>{formatDate(user.updated_at)}</dd>
          </div>
        </dl>
      </section>

      {changingEmail ? (
        <ChangeEmailDialog currentEmail={user.email} onClose={() => setChangingEmail(false)} />
      ) : null}

      <form className="card" onSubmit={submit} noValidate aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile</h2>
        {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          hint="3–32 characters: letters, digits, dot, dash or underscore. Leave empty for none."
          value={form.username}
          onValueChange={set("username")}
          error={errors.fields.username}
          spellCheck={false}
          autoCapitalize="none"
        />
        <div className="grid-2">
          <TextField
            label="First name"
            name="first_name"
            autoComplete="given-name"
            value={form.first_name}
            onValueChange={set("first_name")}
            error={errors.fields.first_name}
          />
          <TextField
            label="Last name"
            name="last_name"
            autoComplete="family-name"
            value={form.last_name}
            onValueChange={set("last_name")}
            error={errors.fields.last_name}
          />
        </div>
        <SelectField
          label="Timezone"
          name="timezone"
          value={form.timezone}
          onValueChange={set("timezone")}
          options={zones}
          hint="Dates in Gatehouse are shown in this timezone."
          error={errors.fields.timezone}
        />
        <div className="actions">
          <button type="submit" className="button" disabled={status === "saving"}>
            {status === "saving" ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={cancel}
            disabled={status === "saving"}
          >
            Cancel
          </button>
          {status === "saved" ? (
            <span className="saved-note" role="status" data-testid="profile-saved">
              Profile saved.
            </span>
          ) : null}
        </div>
      </form>
    </div>
  );
}
