import { type FormEvent, useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import type { Notice } from "../../error-messages";
import { type PasskeyItem, passkeyErrorText, registerPasskey } from "../../passkeys";
import { isReauthRequired } from "../../reauth-provider";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { useResource } from "../../use-resource";
import { useSession } from "../../use-session";
import { RecoveryCodesDialog } from "./recovery-codes-dialog";
import { PasswordConfirmDialog } from "./two-factor-card";

type OpenDialog =
  | { kind: "add" }
  | { kind: "rename"; passkey: PasskeyItem }
  | { kind: "remove"; passkey: PasskeyItem }
  | { kind: "codes"; codes: string[] };

type Props = {
  /** A password change is pending: the server refuses this too. */
  locked: boolean;
  /** A passkey was added or removed: the two-factor card shows passkeys among the factors. */
  onChanged: () => void;
};

/** Settings → Security: passkeys to log in without a password, or as the second factor. */
export function PasskeysCard({ locked, onChanged }: Props) {
  const api = useApi();
  const { reload: reloadSession } = useSession();
  const formatDate = useFormatDate();
  const list = useResource<{ data: PasskeyItem[] }>(locked ? null : "/me/passkeys");
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const passkeys = list.data?.data;

  async function add(label: string) {
    const result = await registerPasskey(api, label);
    list.reload();
    onChanged();
    if (result.recovery_codes) {
      // The first factor: the session drops a set-up deadline, and the codes are shown once.
      void reloadSession();
      setDialog({ kind: "codes", codes: result.recovery_codes });
    } else {
      setDialog(null);
    }
    setNotice({ tone: "success", text: `Added the passkey “${result.passkey.label}”.` });
  }

  async function rename(passkey: PasskeyItem, label: string) {
    await api.patch(`/me/passkeys/${encodeURIComponent(passkey.id)}`, { label });
    setNotice({ tone: "success", text: `Renamed the passkey to “${label}”.` });
    list.reload();
    onChanged();
  }

  async function remove(passkey: PasskeyItem, password: string) {
    await api.delete(`/me/passkeys/${encodeURIComponent(passkey.id)}`, { password });
    setNotice({ tone: "success", text: `Removed the passkey “${passkey.label}”.` });
    list.reload();
    onChanged();
  }

  return (
    <>
      <section className="card" aria-labelledby="passkeys-heading" data-testid="passkeys-card">
        <div className="card-header">
          <h2 id="passkeys-heading">Passkeys</h2>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => {
              setNotice(null);
              setDialog({ kind: "add" });
            }}
            disabled={locked || !passkeys}
            data-testid="passkey-add"
          >
            Add a passkey
          </button>
        </div>
        <p className="muted">
          Log in with your fingerprint, face or device PIN instead of your password, or use a passkey as your
          second factor. A passkey is also a second factor for two-factor authentication.
        </p>
        {notice ? (
          <FormAlert tone={notice.tone} code={notice.code} testId="passkey-notice">
            {notice.text}
          </FormAlert>
        ) : null}
        {locked ? <p className="muted">Change your password first to manage your passkeys.</p> : null}
        {list.error ? <FormAlert>{list.error}</FormAlert> : null}
        {passkeys && passkeys.length === 0 ? <p className="muted">You have no passkeys yet.</p> : null}
        {passkeys && passkeys.length > 0 ? (
          <table className="table responsive-table">
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
              {passkeys.map((passkey) => (
                <tr key={passkey.id} data-testid="passkey-row" data-passkey-id={passkey.id}>
                  <td className="cell-primary">
                    <span className="device" data-testid="passkey-label">
                      {passkey.label}
                    </span>
                    {passkey.backed_up ? <span className="muted"> · synced</span> : null}
                  </td>
                  <td data-label="Added">{formatDate(passkey.created_at)}</td>
                  <td data-label="Last used">
                    {passkey.last_used_at ? formatDate(passkey.last_used_at) : "Never"}
                  </td>
                  <td className="cell-actions">
                    <button
                      type="button"
                      className="button button-secondary button-small"
                      onClick={() => setDialog({ kind: "rename", passkey })}
                      data-testid="passkey-rename"
                      aria-label={`Rename ${passkey.label}`}
                    >
                      Rename
                    </button>{" "}
                    <button
                      type="button"
                      className="button button-danger button-small"
                      onClick={() => setDialog({ kind: "remove", passkey })}
                      data-testid="passkey-remove"
                      aria-label={`Remove ${passkey.label}`}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>

      {dialog?.kind === "add" ? <AddPasskeyDialog onAdd={add} onClose={() => setDialog(null)} /> : null}
      {dialog?.kind === "rename" ? (
        <RenamePasskeyDialog
          passkey={dialog.passkey}
          onRename={(label) => rename(dialog.passkey, label)}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog?.kind === "remove" ? (
        <PasswordConfirmDialog
          title={`Remove the passkey “${dialog.passkey.label}”?`}
          confirmLabel="Remove passkey"
          busyLabel="Removing…"
          testId="passkey-remove-dialog"
          confirmTestId="passkey-remove-confirm"
          onConfirm={(password) => remove(dialog.passkey, password)}
          onClose={() => setDialog(null)}
        >
          You will no longer be able to log in with this passkey. If it is your only second factor, two-factor
          authentication turns off and your recovery codes stop working.
        </PasswordConfirmDialog>
      ) : null}
      {dialog?.kind === "codes" ? (
        <RecoveryCodesDialog codes={dialog.codes} reason="enabled" onClose={() => setDialog(null)} />
      ) : null}
    </>
  );
}

function AddPasskeyDialog({
  onAdd,
  onClose,
}: {
  onAdd: (label: string) => Promise<void>;
  onClose: () => void;
}) {
  const [label, setLabel] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onAdd(label);
    } catch (caught) {
      // Closing "Confirm it's you" is the user's choice, not a failure to report.
      if (!isReauthRequired(caught)) setError(passkeyErrorText(caught));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Add a passkey" onClose={onClose} busy={busy} testId="passkey-add-dialog">
      <form onSubmit={submit} noValidate>
        {error ? <FormAlert testId="dialog-error">{error}</FormAlert> : null}
        <p>Give it a name you will recognise, then follow your browser's prompts.</p>
        <TextField
          label="Name"
          name="label"
          hint="For example “Work laptop” or “Phone”."
          maxLength={60}
          value={label}
          onValueChange={setLabel}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="passkey-add-confirm">
            {busy ? "Waiting for your passkey…" : "Create passkey"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

function RenamePasskeyDialog({
  passkey,
  onRename,
  onClose,
}: {
  passkey: PasskeyItem;
  onRename: (label: string) => Promise<void>;
  onClose: () => void;
}) {
  const [label, setLabel] = useState(passkey.label);
  const [error, setError] = useState<string | undefined>(undefined);
  return (
    <ConfirmDialog
      title="Rename passkey"
      confirmLabel="Save"
      busyLabel="Saving…"
      testId="passkey-rename-dialog"
      confirmTestId="passkey-rename-confirm"
      onConfirm={async () => {
        if (!label.trim()) {
          setError("Enter a name.");
          return false;
        }
        await onRename(label.trim());
        return undefined;
      }}
      onClose={onClose}
    >
      <TextField
        label="Name"
        name="label"
        maxLength={60}
        required
        value={label}
        onValueChange={(value) => {
          setLabel(value);
          setError(undefined);
        }}
        error={error}
      />
    </ConfirmDialog>
  );
}
