import { useState } from "react";
import { type AccountClosure, closureNameMatches } from "../../account-closure";
import { ApiError } from "../../api";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { Link } from "../../router";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useSession, useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";

/**
 * Settings → Data, "Close this account": what closing does, the way to keep a copy and to hand the
 * account over instead, the typed-name confirmation, and — while a closure is scheduled — its date
 * and a cancel button. Only Root (account:close) may schedule or cancel; everyone else reads.
 */
export function AccountClosureSection() {
  const api = useApi();
  const toast = useToast();
  const { reload: reloadSession } = useSession();
  const { account_id, user } = useSessionInfo();
  const { can } = usePermissions();
  const formatDate = useFormatDate();
  const accountName = user.memberships.find((m) => m.account_id === account_id)?.account_name ?? "";
  const path = `/accounts/${encodeURIComponent(account_id)}/closure`;
  const closure = useResource<AccountClosure>(path);
  const [dialog, setDialog] = useState<"schedule" | "cancel" | null>(null);
  const [typed, setTyped] = useState("");
  const [typedError, setTypedError] = useState<string | undefined>(undefined);
  const mayClose = can("account:close");

  function close() {
    setDialog(null);
    setTyped("");
    setTypedError(undefined);
  }

  async function schedule(): Promise<false | undefined> {
    if (!closureNameMatches(typed, accountName)) {
      setTypedError(`Type ${accountName} exactly as shown.`);
      return false;
    }
    try {
      await api.post(path, { confirm_name: typed });
    } catch (error) {
      if (error instanceof ApiError && error.code === "confirmation_mismatch") {
        setTypedError(error.message);
        return false;
      }
      throw error;
    }
    closure.reload();
    await reloadSession();
    toast.show({ text: `${accountName} is scheduled for deletion. Its Roots and Admins were emailed.` });
    return undefined;
  }

  async function cancel() {
    await api.delete(path);
    closure.reload();
    await reloadSession();
    toast.show({ text: `Cancelled the closure of ${accountName}.` });
  }

  const scheduled = closure.data?.status === "scheduled" ? closure.data : null;

  return (
    <>
      <section
        className="card card-danger"
        id="closure"
        aria-labelledby="closure-heading"
        data-testid="closure-section"
      >
        <h2 id="closure-heading">Close this account</h2>
        {closure.error ? <FormAlert>{closure.error}</FormAlert> : null}
        {!closure.data && !closure.error ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : null}
        {scheduled ? (
          <>
            <FormAlert testId="closure-scheduled">
              {accountName} will be deleted on{" "}
              <time dateTime={scheduled.delete_at}>{formatDate(scheduled.delete_at)}</time>. Until then nobody
              can invite members or change the plan.
            </FormAlert>
            {mayClose ? (
              <div className="actions">
                <button
                  type="button"
                  className="button"
                  onClick={() => setDialog("cancel")}
                  data-testid="closure-cancel-open"
                >
                  Cancel the closure…
                </button>
              </div>
            ) : (
              <p className="muted">A Root of the account can cancel it until that date.</p>
            )}
          </>
        ) : closure.data ? (
          <>
            <p>
              Closing the account deletes it 30 days later, with all of its members, teams, roles,
              invitations, API keys, webhooks, files and audit log. Until then any Root can cancel; the
              subscription ends at the end of its period, without a refund. Invoices are kept, without the
              account, as long as the law requires. People keep their own logins.
            </p>
            <ul>
              <li>
                Export all data first: <Link to="/settings/data#exports">create an “all” export</Link> above.
              </li>
              <li>
                Or hand the account over instead: make someone else Root in{" "}
                <Link to="/settings/members">Members</Link>.
              </li>
            </ul>
            {mayClose ? (
              <div className="actions">
                <button
                  type="button"
                  className="button button-danger"
                  onClick={() => setDialog("schedule")}
                  data-testid="closure-open"
                >
                  Close this account…
                </button>
              </div>
            ) : (
              <p className="muted">Only a Root of the account can close it.</p>
            )}
          </>
        ) : null}
      </section>
      {dialog === "schedule" ? (
        <ConfirmDialog
          title={`Close ${accountName}?`}
          confirmLabel="Close the account"
          busyLabel="Scheduling…"
          danger
          testId="closure-dialog"
          confirmTestId="closure-confirm"
          onConfirm={schedule}
          onClose={close}
        >
          <p>
            In 30 days {accountName} and all of its data are deleted for good. Every Root and Admin gets an
            email with a link that cancels it until then.
          </p>
          <TextField
            label={`Type ${accountName} to confirm`}
            name="confirm_name"
            autoComplete="off"
            required
            value={typed}
            onValueChange={(value) => {
              setTyped(value);
              setTypedError(undefined);
            }}
            error={typedError}
          />
        </ConfirmDialog>
      ) : null}
      {dialog === "cancel" ? (
        <ConfirmDialog
          title={`Cancel the closure of ${accountName}?`}
          confirmLabel="Cancel the closure"
          dismissLabel="Keep it scheduled"
          busyLabel="Cancelling…"
          testId="closure-cancel-dialog"
          confirmTestId="closure-cancel-confirm"
          onConfirm={cancel}
          onClose={close}
        >
          <p>
            The account stays, with everything in it. If its subscription was ending because of the closure,
            it continues.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
