import { type FormEvent, useCallback, useEffect, useState } from "react";
import { ApiError, describeError } from "../../api";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { NewPasswordFields } from "../../components/new-password-fields";
import { LoadingBlock } from "../../components/skeleton";
import { PASSWORD_REFUSED, passwordFailureFrom } from "../../form-errors";
import { hasLocalFailure, type ServerPasswordFailure } from "../../password-rules";
import { navigate, useSearchParam } from "../../router";
import { sameOriginPath } from "../../same-origin-path";
import type { DeviceSession } from "../../types";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { useFormatDate } from "../../use-format-date";
import { usePasswordChecklist } from "../../use-password-checklist";
import { usePasswordPolicy } from "../../use-password-policy";
import { isSecurityOnly, useSession, useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import { DeactivateLoginCard } from "./deactivate-login-card";
import { DeleteLoginCard } from "./delete-login-card";
import { PasskeysCard } from "./passkeys-card";
import { TwoFactorCard } from "./two-factor-card";

export function SecurityTab() {
  const info = useSessionInfo();
  const { password_change_required } = info;
  // Past the second-factor deadline only the two-factor card works until a factor is set up.
  const locked = isSecurityOnly(info);
  const [sessionsVersion, setSessionsVersion] = useState(0);
  const [factorsVersion, setFactorsVersion] = useState(0);
  return (
    <div className="stack">
      <ContinueNotice locked={locked} />
      {password_change_required ? (
        <FormAlert testId="password-change-required">
          Your password has expired or an administrator asked you to change it. Choose a new password to
          continue using Gatehouse.
        </FormAlert>
      ) : null}
      <ChangePasswordForm onChanged={() => setSessionsVersion((version) => version + 1)} />
      {/* Remounting reloads the list: a password change signs the other sessions out. */}
      <TwoFactorCard key={`factors-${factorsVersion}`} locked={password_change_required} />
      <PasskeysCard
        locked={password_change_required}
        onChanged={() => setFactorsVersion((version) => version + 1)}
      />
      <SessionsCard key={sessionsVersion} locked={locked} />
      <DeactivateLoginCard locked={locked} />
      <DeleteLoginCard locked={locked} />
    </div>
  );
}

/**
 * Sent here from somewhere else (`?next=`, same origin only: an application's pending sign-in, an
 * invitation) because a password change or a second factor came first: the way back, once done.
 */
function ContinueNotice({ locked }: { locked: boolean }) {
  const next = sameOriginPath(useSearchParam("next"), window.location.origin);
  if (!next) return null;
  const forApplication = next.startsWith("/authorize/");
  if (locked)
    return (
      <FormAlert tone="info" testId="continue-after-security">
        {forApplication
          ? "Then you can continue signing in to the application that sent you here."
          : "Then you can continue where you were going."}
      </FormAlert>
    );
  return (
    <FormAlert tone="success" testId="continue-after-security">
      <p>You're all set.</p>
      <button type="button" className="button" onClick={() => navigate(next)} data-testid="security-continue">
        {forApplication ? "Continue to the application" : "Continue"}
      </button>
    </FormAlert>
  );
}

const PASSWORD_FIELDS = ["current_password", "new_password", "confirm_password"] as const;
type PasswordForm = Record<(typeof PASSWORD_FIELDS)[number], string>;
const WRONG_CURRENT_PASSWORD = new Set(["invalid_credentials", "incorrect_password"]);
const EMPTY_PASSWORD_FORM: PasswordForm = { current_password: "", new_password: "", confirm_password: "" };

function ChangePasswordForm({ onChanged }: { onChanged: () => void }) {
  const api = useApi();
  const { reload } = useSession();
  const { user } = useSessionInfo();
  const policy = usePasswordPolicy("/me/password-policy");
  const [form, setForm] = useState<PasswordForm>(EMPTY_PASSWORD_FORM);
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(PASSWORD_FIELDS);
  const [serverFailures, setServerFailures] = useState<ServerPasswordFailure[]>([]);
  const [status, setStatus] = useState<"idle" | "saving" | "changed">("idle");

  const rules = usePasswordChecklist(policy, form.new_password, serverFailures, {
    person: {
      email: user.email,
      firstName: user.first_name ?? "",
      lastName: user.last_name ?? "",
      accountNames: user.memberships.map((membership) => membership.account_name),
    },
    replacing: true,
  });
  const set = (field: keyof PasswordForm) => (value: string) => {
    setForm((current) => ({ ...current, [field]: value }));
    edited(field);
    setStatus("idle");
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!form.current_password) fields.current_password = "Enter your current password.";
    if (hasLocalFailure(rules)) fields.new_password = "Choose a password that meets every requirement below.";
    if (form.confirm_password !== form.new_password) fields.confirm_password = "The passwords do not match.";
    if (Object.keys(fields).length > 0) {
      refuse(fields);
      return;
    }
    setStatus("saving");
    clear();
    try {
      await api.post("/me/password", {
        current_password: form.current_password,
        new_password: form.new_password,
      });
      setForm(EMPTY_PASSWORD_FORM);
      setServerFailures([]);
      setStatus("changed");
      onChanged();
      // Clears password_change_required and picks up a rotated CSRF token, if any.
      await reload();
    } catch (error) {
      const failure = passwordFailureFrom(error, form.new_password, "new_password");
      if (failure) setServerFailures((seen) => [...seen, failure]);
      // The contract names invalid_credentials; accept the more specific code too. Either is said on
      // the field it is about, and nowhere else.
      const wrongCurrent = error instanceof ApiError && WRONG_CURRENT_PASSWORD.has(error.code);
      fail(error, (next) =>
        failure
          ? { ...next, fields: { ...next.fields, new_password: PASSWORD_REFUSED } }
          : wrongCurrent
            ? {
                ...next,
                form: null,
                fields: { ...next.fields, current_password: "Your current password is incorrect." },
              }
            : next,
      );
      setStatus("idle");
    }
  }

  return (
    <form ref={formRef} className="card" onSubmit={submit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <p className="muted">Changing your password signs you out on every other device.</p>
      {errors.form ? (
        <FormAlert testId="form-error" code={errors.code}>
          {errors.form}
        </FormAlert>
      ) : null}
      {status === "changed" ? (
        <FormAlert tone="success" testId="password-changed">
          Password changed. Your other sessions were signed out.
        </FormAlert>
      ) : null}
      <TextField
        label="Current password"
        name="current_password"
        type="password"
        autoComplete="current-password"
        required
        value={form.current_password}
        onValueChange={set("current_password")}
        error={errors.fields.current_password}
      />
      <NewPasswordFields
        name="new_password"
        label="New password"
        confirmLabel="Confirm new password"
        value={form.new_password}
        confirm={form.confirm_password}
        onValueChange={set("new_password")}
        onConfirmChange={set("confirm_password")}
        error={errors.fields.new_password}
        confirmError={errors.fields.confirm_password}
        rules={rules}
      />
      <div className="actions">
        <button type="submit" className="button" disabled={status === "saving"}>
          {status === "saving" ? "Changing…" : "Change password"}
        </button>
      </div>
    </form>
  );
}

// The server says "Unknown" (or nothing) when it cannot parse the user agent.
const known = (value: string | null) => (value && value.toLowerCase() !== "unknown" ? value : null);

function deviceLabel(session: DeviceSession): string {
  const browser = known(session.device.browser);
  const os = known(session.device.os);
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || "Unknown device";
}

/** `locked`: a password change is pending, and until then the server refuses session calls. */
function SessionsCard({ locked }: { locked: boolean }) {
  const api = useApi();
  const formatDate = useFormatDate();
  const [sessions, setSessions] = useState<DeviceSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const toast = useToast();
  const [asking, setAsking] = useState<{ session: DeviceSession } | "others" | null>(null);

  const load = useCallback(async () => {
    try {
      const answer = await api.get<{ data: DeviceSession[] }>("/me/sessions");
      // This device first, then the most recently active.
      const byRecency = (session: DeviceSession) => session.last_seen_at ?? session.created_at;
      setSessions(
        [...answer.data].sort(
          (a, b) => Number(b.current) - Number(a.current) || byRecency(b).localeCompare(byRecency(a)),
        ),
      );
      setError(null);
    } catch (caught) {
      setError(describeError(caught));
    }
  }, [api]);

  useEffect(() => {
    if (!locked) void load();
  }, [load, locked]);

  // Both answer a confirmation, which shows a failure itself; a success is a toast (no undo: the
  // sessions' tokens are dead).
  async function revoke(session: DeviceSession) {
    await api.delete(`/me/sessions/${encodeURIComponent(session.id)}`);
    toast.show({ text: `Signed out ${deviceLabel(session)}.` });
    await load();
  }

  async function revokeOthers() {
    const answer = await api.post<{ revoked: number }>("/me/sessions/revoke-others");
    const count = answer?.revoked ?? 0;
    toast.show({
      text:
        count === 0
          ? "No other sessions were active."
          : `Signed out ${count} other session${count === 1 ? "" : "s"}.`,
    });
    await load();
  }

  const others = sessions?.filter((session) => !session.current).length ?? 0;

  return (
    <section className="card" aria-labelledby="sessions-heading">
      <div className="card-header">
        <h2 id="sessions-heading">Active sessions</h2>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={() => setAsking("others")}
          disabled={locked || others === 0}
          data-testid="revoke-others"
        >
          Sign out other sessions…
        </button>
      </div>
      <p className="muted">
        Devices where you are logged in. Sign out any you don't recognise
        {sessions ? ` (${others} other${others === 1 ? "" : "s"})` : ""}.
      </p>
      {error ? <FormAlert>{error}</FormAlert> : null}
      {locked ? <p className="muted">Change your password first to see and manage your sessions.</p> : null}
      {sessions === null && !error && !locked ? (
        <LoadingBlock label="Loading sessions…" table={{ columns: 4, rows: 2 }} />
      ) : null}
      {sessions && sessions.length > 0 ? (
        <table className="table sessions-table">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">IP address</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last seen</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((session) => (
              <tr
                key={session.id}
                data-testid="session-row"
                data-current={session.current ? "true" : "false"}
              >
                <td data-label="Device">
                  <span className="device">{deviceLabel(session)}</span>
                  {known(session.device.type) ? (
                    <span className="muted device-type"> · {session.device.type}</span>
                  ) : null}
                  {session.current ? (
                    <>
                      {" "}
                      <span className="badge badge-success">This device</span>
                    </>
                  ) : null}
                </td>
                <td data-label="IP address">
                  <code>{session.ip ?? "—"}</code>
                </td>
                <td data-label="Signed in">{formatDate(session.created_at)}</td>
                <td data-label="Last seen">{formatDate(session.last_seen_at)}</td>
                <td className="cell-actions">
                  {session.current ? null : (
                    <button
                      type="button"
                      className="button button-danger button-small"
                      onClick={() => setAsking({ session })}
                      data-testid="revoke-session"
                      aria-label={`Sign out ${deviceLabel(session)}, last seen ${formatDate(session.last_seen_at)}`}
                    >
                      Sign out…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {asking === "others" ? (
        <ConfirmDialog
          title={`Sign out ${others === 1 ? "your other session" : `your ${others} other sessions`}?`}
          confirmLabel="Sign out other sessions"
          busyLabel="Signing out…"
          danger
          testId="revoke-others-dialog"
          confirmTestId="revoke-others-confirm"
          onConfirm={revokeOthers}
          onClose={() => setAsking(null)}
        >
          <p>
            Every device but this one is signed out at once and must log in again. Use this if you lost a
            device or logged in somewhere you shouldn't have.
          </p>
        </ConfirmDialog>
      ) : null}
      {asking !== null && asking !== "others" ? (
        <ConfirmDialog
          title={`Sign out ${deviceLabel(asking.session)}?`}
          confirmLabel="Sign out device"
          busyLabel="Signing out…"
          danger
          testId="revoke-session-dialog"
          confirmTestId="revoke-session-confirm"
          onConfirm={() => revoke(asking.session)}
          onClose={() => setAsking(null)}
        >
          <p>
            The session from {asking.session.ip ?? "an unknown address"}, last seen{" "}
            {formatDate(asking.session.last_seen_at)}, ends at once: that device must log in again.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
