import { type FormEvent, useEffect, useId, useState } from "react";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextAreaField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { errorCode, explainError, explainItemError } from "../../error-messages";
import {
  defaultInviteRole,
  type InviteOutcomes,
  inviteOutcomes,
  inviteRefusal,
  inviteSummary,
  type ManagedAccount,
  type MultiInviteRow,
} from "../../people";
import type { Page, RoleRef } from "../../types";
import { useApi } from "../../use-api";
import { useResource } from "../../use-resource";
import { parseEmails } from "./invite-dialog";

const MAX_EMAILS = 50;

type Choice = { checked: boolean; role_id: string };

/**
 * Invite addresses to several accounts at once, with a role in each (POST /invitations). Each account
 * decides on its own (seats, permissions), so the answer is a grid: per address, per account.
 */
export function PeopleInviteDialog({
  accounts,
  onClose,
  onInvited,
}: {
  /** The accounts where the user may invite. */
  accounts: readonly ManagedAccount[];
  onClose: () => void;
  onInvited: () => void;
}) {
  const api = useApi();
  const [emails, setEmails] = useState("");
  const [choices, setChoices] = useState<Record<string, Choice>>({});
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ text: string; code: string | null } | null>(null);
  const [emailsError, setEmailsError] = useState<string | undefined>(undefined);
  const [outcomes, setOutcomes] = useState<InviteOutcomes | null>(null);
  const chosen = accounts.filter((account) => choices[account.account_id]?.checked);

  const choose = (accountId: string, patch: Partial<Choice>) =>
    setChoices((current) => ({
      ...current,
      [accountId]: { checked: false, role_id: "", ...current[accountId], ...patch },
    }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const list = parseEmails(emails);
    setProblem(null);
    setEmailsError(undefined);
    if (list.length === 0 || list.length > MAX_EMAILS) {
      setEmailsError(
        list.length === 0
          ? "Enter at least one email address."
          : `At most ${MAX_EMAILS} addresses at a time (you entered ${list.length}).`,
      );
      return;
    }
    if (chosen.length === 0) {
      setProblem({ text: "Choose at least one account to invite them to.", code: null });
      return;
    }
    const missingRole = chosen.find((account) => !choices[account.account_id]?.role_id);
    if (missingRole) {
      setProblem({ text: `Choose a role in ${missingRole.account_name}.`, code: null });
      return;
    }
    setBusy(true);
    try {
      const answer = await api.post<Page<MultiInviteRow>>("/invitations", {
        emails: list,
        invites: chosen.map((account) => ({
          account_id: account.account_id,
          role_id: choices[account.account_id]?.role_id ?? "",
        })),
      });
      const result = inviteOutcomes(answer.data);
      setOutcomes(result);
      if (result.sent > 0) onInvited();
    } catch (caught) {
      setProblem({ text: explainError(caught), code: errorCode(caught) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      title="Invite to several accounts"
      onClose={onClose}
      busy={busy}
      wide
      testId="people-invite-dialog"
    >
      <form onSubmit={submit} noValidate>
        {problem ? (
          <FormAlert code={problem.code} testId="people-invite-problem">
            {problem.text}
          </FormAlert>
        ) : null}
        {outcomes ? <InviteResults outcomes={outcomes} accounts={accounts} /> : null}
        <TextAreaField
          label="Email addresses"
          name="emails"
          rows={3}
          required
          value={emails}
          onValueChange={(value) => {
            setEmails(value);
            setEmailsError(undefined);
          }}
          error={emailsError}
          hint={`Separate addresses with commas, spaces or new lines (up to ${MAX_EMAILS}).`}
          spellCheck={false}
          autoCapitalize="none"
          data-autofocus=""
        />
        <fieldset className="checkbox-list people-invite-accounts">
          <legend>Accounts and roles</legend>
          {accounts.map((account) => (
            <AccountChoice
              key={account.account_id}
              account={account}
              choice={choices[account.account_id]}
              onChange={(patch) => choose(account.account_id, patch)}
            />
          ))}
        </fieldset>
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="people-invite-submit">
            {busy ? "Sending…" : "Send invitations"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            {outcomes ? "Done" : "Cancel"}
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** One account: a checkbox, and the role to give there (that account's roles, read when first ticked). */
function AccountChoice({
  account,
  choice,
  onChange,
}: {
  account: ManagedAccount;
  choice: Choice | undefined;
  onChange: (patch: Partial<Choice>) => void;
}) {
  const checkId = useId();
  const roleId = useId();
  const checked = choice?.checked ?? false;
  const roles = useResource<{ data: RoleRef[] }>(
    checked ? `/accounts/${encodeURIComponent(account.account_id)}/roles` : null,
  );
  const list = roles.data?.data;
  const current = choice?.role_id ?? "";
  useEffect(() => {
    const fallback = list ? defaultInviteRole(list) : "";
    if (current === "" && fallback !== "") onChange({ role_id: fallback });
  }, [list, current, onChange]);

  return (
    <div
      className="people-invite-account"
      data-testid="people-invite-account"
      data-account-id={account.account_id}
    >
      <input
        id={checkId}
        type="checkbox"
        className="people-invite-check"
        checked={checked}
        onChange={(event) => onChange({ checked: event.target.checked })}
        data-testid="people-invite-check"
      />
      <label htmlFor={checkId}>{account.account_name}</label>
      <label htmlFor={roleId} className="visually-hidden">
        Role in {account.account_name}
      </label>
      <select
        id={roleId}
        name={`role_${account.account_id}`}
        value={current}
        disabled={!checked || !list}
        onChange={(event) => onChange({ role_id: event.target.value })}
        data-testid="people-invite-role"
      >
        {!list ? <option value="">{checked && roles.loading ? "Loading roles…" : "Role"}</option> : null}
        {list?.map((role) => (
          <option key={role.id} value={role.id}>
            {role.name}
          </option>
        ))}
      </select>
      {roles.error ? <span className="field-error">{roles.error}</span> : null}
    </div>
  );
}

function InviteResults({
  outcomes,
  accounts,
}: {
  outcomes: InviteOutcomes;
  accounts: readonly ManagedAccount[];
}) {
  const captionId = useId();
  const nameOf = (accountId: string) =>
    accounts.find((account) => account.account_id === accountId)?.account_name ?? "this account";
  return (
    <div className="invite-results" data-testid="people-invite-results">
      <FormAlert tone={outcomes.refused > 0 ? "error" : "success"} testId="people-invite-summary">
        {inviteSummary(outcomes)}
      </FormAlert>
      <div className="table-scroll">
        <table className="table people-invite-table" aria-labelledby={captionId}>
          <caption id={captionId} className="visually-hidden">
            Invitation results, per address and account
          </caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              {outcomes.accountIds.map((accountId) => (
                <th scope="col" key={accountId}>
                  {nameOf(accountId)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {outcomes.emails.map((email) => (
              <tr key={email} data-testid="people-invite-result" data-email={email}>
                <th scope="row" className="people-invite-email">
                  {email}
                </th>
                {outcomes.accountIds.map((accountId) => {
                  const row = outcomes.cell(email, accountId);
                  const ok = Boolean(row?.invitation);
                  return (
                    <td
                      key={accountId}
                      className={`people-invite-cell ${ok ? "result-ok" : "result-fail"}`}
                      data-testid="people-invite-cell"
                      data-account-id={accountId}
                      data-ok={ok ? "true" : "false"}
                      data-code={row?.error?.code}
                    >
                      <span aria-hidden="true">{ok ? "✓ " : "✗ "}</span>
                      {ok ? "Invited" : row ? `Not invited: ${refusalText(row, nameOf(accountId))}` : "—"}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const refusalText = (row: MultiInviteRow, accountName: string) =>
  inviteRefusal(row, accountName) ?? (row.error ? explainItemError(row.error) : "");
