import { useEffect, useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { errorNotice, type Notice } from "../../error-messages";
import { passwordRefusal } from "../../form-errors";
import { isReauthRequired } from "../../reauth-provider";
import type { EmailEnrollment, MfaFactor, MfaStatus, TotpEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { useResource } from "../../use-resource";
import { useSession, useSessionInfo } from "../../use-session";
import { EmailCodesNeedVerification } from "./email-codes-unverified";
import { EmailEnrollDialog } from "./email-enroll-dialog";
import { RecoveryCodesDialog } from "./recovery-codes-dialog";
import { SmsEnrollDialog } from "./sms-enroll-dialog";
import { TotpEnrollDialog } from "./totp-enroll-dialog";

type OpenDialog =
  | { kind: "enroll"; enrollment: TotpEnrollment }
  | { kind: "email"; enrollment: EmailEnrollment }
  | { kind: "sms" }
  | { kind: "codes"; codes: string[]; reason: "enabled" | "regenerated" }
  | { kind: "remove"; factor: MfaFactor }
  | { kind: "regenerate" }
  | { kind: "disable" };

// Below this many unused recovery codes the card suggests making new ones.
const FEW_RECOVERY_CODES = 3;

// The server calls every app "Authenticator app"; a number tells a second one apart in the list.
function nextLabel(factors: readonly MfaFactor[]): string {
  const taken = new Set(factors.filter((factor) => factor.type === "totp").map((factor) => factor.label));
  let label = "Authenticator app";
  for (let n = 2; taken.has(label); n++) label = `Authenticator app ${n}`;
  return label;
}

/** What the list shows for a factor: its label, or a name for its kind if the server gave none. */
function factorName(factor: MfaFactor): string {
  return factor.label || FACTOR_KINDS[factor.type];
}

const FACTOR_KINDS: Record<MfaFactor["type"], string> = {
  totp: "Authenticator app",
  email: "Email codes",
  sms: "Text-message codes",
  passkey: "Passkey",
};

const REMOVAL_EFFECTS: Record<MfaFactor["type"], string> = {
  totp: "You will no longer be able to log in with codes from this app.",
  email: "You will no longer be able to log in with codes we email you.",
  sms: "You will no longer be able to log in with codes we text you.",
  passkey: "You will no longer be able to log in with this passkey.",
};

/** `locked`: a password change is pending, and until then the server refuses this too. */
export function TwoFactorCard({ locked }: { locked: boolean }) {
  const api = useApi();
  const { updateUser, reload: reloadSession } = useSession();
  const { user, mfa_enrollment_due_at } = useSessionInfo();
  const formatDate = useFormatDate();
  const status = useResource<MfaStatus>(locked ? null : "/me/mfa");
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [busy, setBusy] = useState<"enroll" | "email" | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const mfa = status.data;

  // The profile and the "Confirm it's you" dialog read `mfa_enabled` from the session: keep it in step.
  const enabled = mfa?.enabled;
  useEffect(() => {
    if (enabled !== undefined && enabled !== user.mfa_enabled) updateUser({ ...user, mfa_enabled: enabled });
  }, [enabled, user, updateUser]);

  function fail(error: unknown, prefix: string) {
    // Closing "Confirm it's you" is the user's choice, not a failure to report.
    if (!isReauthRequired(error)) setNotice(errorNotice(error, prefix));
  }

  async function startEnrollment() {
    setBusy("enroll");
    setNotice(null);
    try {
      const enrollment = await api.post<TotpEnrollment>("/me/mfa/totp", {
        label: nextLabel(mfa?.factors ?? []),
      });
      setDialog({ kind: "enroll", enrollment });
    } catch (error) {
      fail(error, "Could not start setting up the app");
    }
    setBusy(null);
  }

  // Offered only for a verified address; should the session be stale, the 409's detail says what to do.
  async function startEmail() {
    setBusy("email");
    setNotice(null);
    try {
      const enrollment = await api.post<EmailEnrollment>("/me/mfa/email");
      setDialog({ kind: "email", enrollment });
    } catch (error) {
      fail(error, "Could not turn on email codes");
    }
    setBusy(null);
  }

  function enrolled(result: TotpVerification) {
    status.reload();
    // The first factor meets the accounts' requirement: the session drops its set-up deadline.
    if (result.recovery_codes || mfa_enrollment_due_at) void reloadSession();
    if (result.recovery_codes) {
      setDialog({ kind: "codes", codes: result.recovery_codes, reason: "enabled" });
    } else {
      setDialog(null);
      setNotice({ tone: "success", text: `Added ${factorName(result.factor)}.` });
    }
  }

  /** Answers the confirmation: the new codes replace it at once (the old ones are dead by then). */
  async function regenerate(): Promise<false> {
    const answer = await api.post<{ recovery_codes: string[] }>("/me/mfa/recovery-codes");
    setDialog({ kind: "codes", codes: answer.recovery_codes, reason: "regenerated" });
    status.reload();
    return false;
  }

  async function removeFactor(factor: MfaFactor, password: string) {
    await api.delete(`/me/mfa/factors/${encodeURIComponent(factor.id)}`, { password });
    const last = mfa?.factors.length === 1;
    const name = factorName(factor);
    setNotice({
      tone: "success",
      text: last ? `Removed ${name}. Two-factor authentication is off.` : `Removed ${name}.`,
    });
    status.reload();
  }

  async function disable(password: string) {
    await api.post("/me/mfa/disable", { password });
    setNotice({
      tone: "success",
      text: "Two-factor authentication is off. Your recovery codes no longer work.",
    });
    status.reload();
  }

  const remaining = mfa?.recovery_codes_remaining ?? 0;
  const hasEmail = mfa?.factors.some((factor) => factor.type === "email") ?? false;
  const hasSms = mfa?.factors.some((factor) => factor.type === "sms") ?? false;

  // Dialogs sit beside the card, not in it: `.card > :last-child` would unset their centring margin.
  return (
    <>
      <section className="card mfa-card" aria-labelledby="mfa-heading" data-testid="mfa-card">
        <div className="card-header">
          <h2 id="mfa-heading">Two-factor authentication</h2>
          {mfa ? (
            <span
              className={mfa.enabled ? "badge badge-success" : "badge"}
              data-testid="mfa-status"
              data-enabled={mfa.enabled ? "true" : "false"}
            >
              {mfa.enabled ? "Enabled" : "Not enabled"}
            </span>
          ) : null}
        </div>
        <p className="muted">
          Besides your password, ask for a code from an authenticator app on your phone, or one we email or
          text you, when you log in. Someone who learns your password still can't get in.
        </p>
        {notice ? (
          <FormAlert tone={notice.tone} code={notice.code} testId="mfa-notice">
            {notice.text}
          </FormAlert>
        ) : null}
        {locked ? (
          <p className="muted">Change your password first to manage two-factor authentication.</p>
        ) : null}
        {status.error ? <FormAlert>{status.error}</FormAlert> : null}
        {status.loading && !mfa ? (
          <p role="status" className="muted">
            Loading…
          </p>
        ) : null}

        {mfa?.enabled ? (
          <>
            <h3>Your sign-in methods</h3>
            <table className="table responsive-table mfa-factors">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Added</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {mfa.factors.map((factor) => (
                  <tr
                    key={factor.id}
                    data-testid="mfa-factor"
                    data-factor-id={factor.id}
                    data-factor-type={factor.type}
                  >
                    <td className="cell-primary">
                      <span className="device">{factorName(factor)}</span>
                    </td>
                    <td data-label="Added">{formatDate(factor.created_at)}</td>
                    <td data-label="Last used">
                      {factor.last_used_at ? formatDate(factor.last_used_at) : "Never"}
                    </td>
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button button-danger button-small"
                        onClick={() => setDialog({ kind: "remove", factor })}
                        disabled={busy !== null}
                        data-testid="factor-remove"
                        aria-label={`Remove ${factorName(factor)}`}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>

            <div className="mfa-recovery">
              <div>
                <p data-testid="recovery-remaining" data-remaining={remaining}>
                  <strong>Recovery codes:</strong> {remaining} remaining
                  {remaining < FEW_RECOVERY_CODES ? (
                    <>
                      {" "}
                      <span className="badge badge-warning">Running low</span>
                    </>
                  ) : null}
                </p>
                <p className="field-hint">
                  Each one lets you log in once without your phone. New codes replace all the old ones.
                </p>
              </div>
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => {
                  setNotice(null);
                  setDialog({ kind: "regenerate" });
                }}
                disabled={busy !== null}
                data-testid="recovery-regenerate"
              >
                Regenerate codes…
              </button>
            </div>
          </>
        ) : null}

        {mfa ? (
          <div className="actions">
            <button
              type="button"
              className={mfa.enabled ? "button button-secondary" : "button"}
              onClick={startEnrollment}
              disabled={busy !== null}
              data-testid="totp-enable"
            >
              {busy === "enroll"
                ? "Starting…"
                : mfa.enabled
                  ? "Add another authenticator app"
                  : "Set up an authenticator app"}
            </button>
            {hasEmail || !user.email_verified ? null : (
              <button
                type="button"
                className="button button-secondary"
                onClick={startEmail}
                disabled={busy !== null}
                data-testid="email-enable"
              >
                {busy === "email" ? "Sending a code…" : "Set up email codes"}
              </button>
            )}
            {hasSms ? null : (
              <button
                type="button"
                className="button button-secondary"
                onClick={() => {
                  setNotice(null);
                  setDialog({ kind: "sms" });
                }}
                disabled={busy !== null}
                data-testid="sms-enable"
              >
                Set up text-message codes
              </button>
            )}
            {mfa.enabled ? (
              <button
                type="button"
                className="button button-danger"
                onClick={() => setDialog({ kind: "disable" })}
                disabled={busy !== null}
                data-testid="mfa-disable"
              >
                Turn off two-factor authentication
              </button>
            ) : null}
          </div>
        ) : null}
        {mfa && !hasEmail && !user.email_verified ? <EmailCodesNeedVerification email={user.email} /> : null}
      </section>

      {dialog?.kind === "enroll" ? (
        <TotpEnrollDialog
          enrollment={dialog.enrollment}
          onVerified={enrolled}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog?.kind === "email" ? (
        <EmailEnrollDialog
          enrollment={dialog.enrollment}
          onVerified={enrolled}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog?.kind === "sms" ? (
        <SmsEnrollDialog onVerified={enrolled} onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "codes" ? (
        <RecoveryCodesDialog codes={dialog.codes} reason={dialog.reason} onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "remove" ? (
        <PasswordConfirmDialog
          title={`Remove ${factorName(dialog.factor)}?`}
          confirmLabel={`Remove ${FACTOR_KINDS[dialog.factor.type].toLowerCase()}`}
          busyLabel="Removing…"
          testId="factor-remove-dialog"
          confirmTestId="factor-remove-confirm"
          onConfirm={(password) => removeFactor(dialog.factor, password)}
          onClose={() => setDialog(null)}
        >
          {mfa?.factors.length === 1
            ? "It's your only second factor: removing it turns two-factor authentication off and your recovery codes stop working."
            : REMOVAL_EFFECTS[dialog.factor.type]}
        </PasswordConfirmDialog>
      ) : null}
      {dialog?.kind === "regenerate" ? (
        <ConfirmDialog
          title="Regenerate your recovery codes?"
          confirmLabel="Regenerate codes"
          busyLabel="Generating…"
          danger
          testId="recovery-regenerate-dialog"
          confirmTestId="recovery-regenerate-confirm"
          onConfirm={regenerate}
          onClose={() => setDialog(null)}
        >
          <p>
            {remaining === 0
              ? "You have no unused recovery codes left."
              : remaining === 1
                ? "Your last unused recovery code stops working at once, wherever you saved it."
                : `Your ${remaining} unused recovery codes stop working at once, wherever you saved them.`}{" "}
            10 new codes are shown once: save them before you close the next window.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog?.kind === "disable" ? (
        <PasswordConfirmDialog
          title="Turn off two-factor authentication?"
          confirmLabel="Turn off two-factor"
          busyLabel="Turning off…"
          testId="mfa-disable-dialog"
          confirmTestId="mfa-disable-confirm"
          onConfirm={disable}
          onClose={() => setDialog(null)}
        >
          Your authenticator apps, passkeys, email and text-message codes are removed and your recovery codes
          stop working. Logging in will need only your password.
        </PasswordConfirmDialog>
      ) : null}
    </>
  );
}

type PasswordConfirmProps = {
  title: string;
  children: string;
  confirmLabel: string;
  busyLabel: string;
  testId: string;
  confirmTestId: string;
  onConfirm: (password: string) => Promise<void>;
  onClose: () => void;
};

/** A destructive step guarded by the password; a wrong password shows at the field, the dialog stays open. */
export function PasswordConfirmDialog({ children, onConfirm, ...props }: PasswordConfirmProps) {
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);

  async function confirm(): Promise<false | undefined> {
    if (!password) {
      setPasswordError("Enter your password to confirm.");
      return false;
    }
    try {
      await onConfirm(password);
    } catch (error) {
      const refusal = passwordRefusal(error);
      if (refusal) {
        setPasswordError(refusal);
        return false;
      }
      throw error;
    }
    return undefined;
  }

  return (
    <ConfirmDialog danger onConfirm={confirm} {...props}>
      <p>{children}</p>
      <TextField
        label="Your password"
        name="password"
        type="password"
        autoComplete="current-password"
        required
        value={password}
        onValueChange={(value) => {
          setPassword(value);
          setPasswordError(undefined);
        }}
        error={passwordError}
      />
    </ConfirmDialog>
  );
}
