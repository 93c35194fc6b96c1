import { type FormEvent, useState } from "react";
import { explainError } from "../error-messages";
import { type FormErrors, NO_ERRORS, onFields, toFormErrors, withoutFieldError } from "../form-errors";
import type { Account, AccountSummary, SessionInfo } from "../types";
import { useApi } from "../use-api";
import { useResource } from "../use-resource";
import { useSession, useSessionInfo } from "../use-session";
import { Dialog, DialogActions } from "./dialog";
import { TextField } from "./field";
import { FormAlert } from "./form-alert";
import { Menu } from "./menu";

/** The caller's accounts and switching between them (the header's switcher, the avatar menu's dialog). */
function useAccountSwitch() {
  const api = useApi();
  const { signIn, reload } = useSession();
  const accounts = useResource<{ data: AccountSummary[] }>("/accounts");
  const [error, setError] = useState<string | null>(null);
  const [switching, setSwitching] = useState(false);

  async function switchTo(accountId: string): Promise<boolean> {
    setSwitching(true);
    setError(null);
    try {
      const session = await api.post<SessionInfo>(`/accounts/${encodeURIComponent(accountId)}/switch`);
      // The answer is the session state; re-read it if it ever comes back in another shape.
      if (session?.csrf_token && session.user) signIn(session);
      else await reload();
      return true;
    } catch (caught) {
      setError(`Could not switch accounts: ${explainError(caught)}`);
      return false;
    } finally {
      setSwitching(false);
    }
  }

  return { accounts, error, switching, switchTo };
}

/** The header's account menu: the caller's accounts (current one checked) and "Create account". */
export function AccountSwitcher() {
  const info = useSessionInfo();
  const { accounts, error, switching, switchTo } = useAccountSwitch();
  const [creating, setCreating] = useState(false);

  const list = accounts.data?.data ?? [];
  const currentName =
    list.find((account) => account.current)?.name ??
    list.find((account) => account.id === info.account_id)?.name ??
    info.user.memberships.find((membership) => membership.account_id === info.account_id)?.account_name ??
    "Account";

  return (
    <div className="account-switcher">
      <Menu
        testId="account-switcher"
        label={`Account: ${currentName}. Switch or create an account`}
        align="start"
        buttonClassName="button button-secondary button-small account-switcher-button"
        items={[
          ...list.map((account) => ({
            key: account.id,
            label: (
              <span className="menu-item-text">
                <span className="menu-item-title">{account.name}</span>
                <span className="menu-item-sub">{account.role.name}</span>
              </span>
            ),
            checked: account.id === info.account_id,
            testId: "account-option",
            attributes: { "data-account-id": account.id, "data-account-name": account.name },
            onSelect: () => {
              if (account.id !== info.account_id) void switchTo(account.id);
            },
          })),
          {
            key: "create",
            label: "Create account…",
            testId: "account-create",
            separated: list.length > 0,
            onSelect: () => setCreating(true),
          },
        ]}
      >
        <span className="account-switcher-name">{switching ? "Switching…" : currentName}</span>
        <span className="account-switcher-caret" aria-hidden="true">
          ▾
        </span>
      </Menu>
      {error || accounts.error ? (
        <div className="account-switcher-error" role="alert">
          {error ?? `Your accounts could not be loaded: ${accounts.error}`}
        </div>
      ) : null}
      {creating ? (
        <CreateAccountDialog
          onClose={() => setCreating(false)}
          onCreated={async (account) => {
            setCreating(false);
            await switchTo(account.id);
          }}
        />
      ) : null}
    </div>
  );
}

/**
 * "Switch account…" from the avatar menu: the accounts as a list of buttons, the current one marked.
 * Choosing one switches and closes; a failure stays in the dialog.
 */
export function SwitchAccountDialog({ onClose }: { onClose: () => void }) {
  const info = useSessionInfo();
  const { accounts, error, switching, switchTo } = useAccountSwitch();
  const list = accounts.data?.data ?? [];
  return (
    <Dialog title="Switch account" onClose={onClose} busy={switching} testId="switch-account-dialog">
      {error || accounts.error ? (
        <FormAlert testId="switch-account-error">
          {error ?? `Your accounts could not be loaded: ${accounts.error}`}
        </FormAlert>
      ) : null}
      {accounts.loading && list.length === 0 ? (
        <p className="muted" role="status">
          Loading your accounts…
        </p>
      ) : (
        <ul className="switch-account-list">
          {list.map((account) => {
            const current = account.id === info.account_id;
            return (
              <li key={account.id}>
                <button
                  type="button"
                  className="switch-account-option"
                  aria-current={current ? "true" : undefined}
                  disabled={switching}
                  data-testid="switch-account-option"
                  data-account-id={account.id}
                  onClick={async () => {
                    if (current) return onClose();
                    if (await switchTo(account.id)) onClose();
                  }}
                >
                  <span className="menu-item-title">{account.name}</span>
                  <span className="menu-item-sub">
                    {account.role.name}
                    {current ? " · current account" : ""}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <DialogActions>
        <button type="button" className="button button-secondary" onClick={onClose} disabled={switching}>
          Close
        </button>
      </DialogActions>
    </Dialog>
  );
}

function CreateAccountDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (account: Account) => Promise<void>;
}) {
  const api = useApi();
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setErrors(onFields({ name: "Give the account a name." }));
      return;
    }
    setBusy(true);
    setErrors(NO_ERRORS);
    try {
      const account = await api.post<Account>("/accounts", { name: name.trim() });
      await onCreated(account);
    } catch (caught) {
      setErrors(toFormErrors(caught, ["name"]));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Create account" onClose={onClose} busy={busy}>
      <form onSubmit={submit} noValidate>
        <p className="muted">You become the new account's Root user, and Gatehouse switches to it.</p>
        {errors.form ? <FormAlert>{errors.form}</FormAlert> : null}
        <TextField
          label="Account name"
          name="name"
          autoComplete="organization"
          required
          value={name}
          onValueChange={(value) => {
            setName(value);
            setErrors((current) => withoutFieldError(current, "name"));
          }}
          error={errors.fields.name}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="account-create-submit">
            {busy ? "Creating…" : "Create account"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
