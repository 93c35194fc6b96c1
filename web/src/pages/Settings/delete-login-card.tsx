import { useState } from "react";
import { type SoleRootAccount, soleRootAccounts } from "../../account-closure";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { TextField } from "../../components/field";
import { passwordRefusal } from "../../form-errors";
import { Link, navigate } from "../../router";
import { useApi } from "../../use-api";
import { useSession } from "../../use-session";
import type { LoginNoticeState } from "../Login";

/** "Delete my login": permanent, beside the reversible deactivation. */
export function DeleteLoginCard({ locked }: { locked: boolean }) {
  const api = useApi();
  const { signOut } = useSession();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);
  const [blockedBy, setBlockedBy] = useState<SoleRootAccount[] | null>(null);

  function close() {
    setOpen(false);
    setPassword("");
    setPasswordError(undefined);
    setBlockedBy(null);
  }

  async function remove(): Promise<false | undefined> {
    if (!password) {
      setPasswordError("Enter your password to confirm.");
      return false;
    }
    try {
      await api.delete("/me", { password });
    } catch (error) {
      const sole = soleRootAccounts(error);
      if (sole) {
        setBlockedBy(sole);
        return false;
      }
      const refusal = passwordRefusal(error);
      if (refusal) {
        setPasswordError(refusal);
        return false;
      }
      throw error;
    }
    await signOut();
    const state: LoginNoticeState = { login_notice: "deleted" };
    navigate("/login", { replace: true, state });
    return undefined;
  }

  return (
    <>
      <section className="card card-danger" aria-labelledby="delete-login-heading">
        <h2 id="delete-login-heading">Delete my login</h2>
        <p>
          Deactivating is temporary: your login, memberships and settings wait until you turn it back on.
          Deleting is permanent: your memberships, sessions, second factors, passkeys, API keys, settings and
          picture are removed, and you can never sign in with this login again.
        </p>
        <p className="muted">
          If you are the only Root of an account, make someone else Root or close that account first.
        </p>
        {locked ? <p className="muted">Change your password first to delete your login.</p> : null}
        <div className="actions">
          <button
            type="button"
            className="button button-danger"
            onClick={() => setOpen(true)}
            disabled={locked}
            data-testid="delete-login-open"
          >
            Delete my login…
          </button>
        </div>
      </section>
      {open ? (
        <ConfirmDialog
          title="Delete your login for good?"
          confirmLabel="Delete my login"
          busyLabel="Deleting…"
          danger
          confirmTestId="delete-login-confirm"
          testId="delete-login-dialog"
          onConfirm={remove}
          onClose={close}
        >
          <p>This cannot be undone. We email you a confirmation.</p>
          {blockedBy ? (
            <div className="alert alert-error" role="alert" data-testid="sole-root">
              You are the only Root of {blockedBy.map((a) => a.name).join(", ")}. Make someone else Root in{" "}
              <Link to="/settings/members">Members</Link>, or close the account in{" "}
              <Link to="/settings/data#closure">Settings → Data</Link>, then try again.
            </div>
          ) : null}
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
      ) : null}
    </>
  );
}
