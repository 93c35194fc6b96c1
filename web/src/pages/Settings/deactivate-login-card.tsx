import { useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { TextField } from "../../components/field";
import { passwordRefusal } from "../../form-errors";
import { navigate } from "../../router";
import { useApi } from "../../use-api";
import { useSession } from "../../use-session";
import type { LoginNoticeState } from "../Login";

/** `locked`: a password change is pending, and until then the server refuses this too. */
export function DeactivateLoginCard({ locked }: { locked: boolean }) {
  const api = useApi();
  const { signOut } = useSession();
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState("");
  const [passwordError, setPasswordError] = useState<string | undefined>(undefined);

  function close() {
    setOpen(false);
    setPassword("");
    setPasswordError(undefined);
  }

  async function deactivate(): Promise<false | undefined> {
    if (!password) {
      setPasswordError("Enter your password to confirm.");
      return false;
    }
    try {
      await api.post("/me/deactivate", { password });
    } catch (error) {
      const refusal = passwordRefusal(error);
      if (refusal) {
        setPasswordError(refusal);
        return false;
      }
      throw error;
    }
    // The server has ended every session, this one included: drop it here too, then say what happened.
    await signOut();
    const state: LoginNoticeState = { login_notice: "deactivated" };
    navigate("/login", { replace: true, state });
    return undefined;
  }

  // The dialog sits beside the card, not in it: `.card > :last-child` would unset its centring margin.
  return (
    <>
      <section className="card card-danger" aria-labelledby="deactivate-heading">
        <h2 id="deactivate-heading">Deactivate my login</h2>
        <p>
          Switches your login off: you are signed out on every device, and nobody can log in as you until you
          turn it back on. Your accounts, memberships and settings are kept.
        </p>
        <p className="muted">
          It's temporary and reversible. To come back, log in again with your email and password, then confirm
          with the link we email you.
        </p>
        {locked ? <p className="muted">Change your password first to deactivate your login.</p> : null}
        <div className="actions">
          <button
            type="button"
            className="button button-danger"
            onClick={() => setOpen(true)}
            disabled={locked}
            data-testid="deactivate-open"
          >
            Deactivate my login…
          </button>
        </div>
      </section>
      {open ? (
        <ConfirmDialog
          title="Deactivate your login?"
          confirmLabel="Deactivate my login"
          busyLabel="Deactivating…"
          danger
          confirmTestId="deactivate-confirm"
          testId="deactivate-dialog"
          onConfirm={deactivate}
          onClose={close}
        >
          <p>
            You will be signed out everywhere. Log in again and confirm by email whenever you want your login
            back.
          </p>
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
