import { useState } from "react";
import { FormAlert } from "../../components/form-alert";
import { errorNotice, type Notice } from "../../error-messages";
import type { Invitation } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { usePermissions } from "../../use-permissions";
import { useAccountPath } from "./account-data";

type Props = {
  /** An invitation was revoked: the member list's pending rows are stale. */
  onChanged: () => void;
};

export function InvitationsCard({ onChanged }: Props) {
  const api = useApi();
  const base = useAccountPath();
  const { can } = usePermissions();
  const formatDate = useFormatDate();
  const invitations = usePagedList<Invitation>(`${base}/invitations?status=pending`, 50);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const canInvite = can("members:invite");

  async function act(invitation: Invitation, action: "resend" | "revoke") {
    const path = `${base}/invitations/${encodeURIComponent(invitation.id)}`;
    setBusy(invitation.id);
    setNotice(null);
    try {
      if (action === "resend") {
        await api.post(`${path}/resend`);
        setNotice({
          tone: "success",
          text: `Sent a new invitation link to ${invitation.email}. The old link no longer works.`,
        });
      } else {
        await api.delete(path);
        setNotice({ tone: "success", text: `Revoked the invitation of ${invitation.email}.` });
        onChanged();
      }
      invitations.reload();
    } catch (caught) {
      setNotice(
        errorNotice(
          caught,
          `Could not ${action === "resend" ? "resend the invitation to" : "revoke the invitation of"} ${invitation.email}`,
        ),
      );
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="card" aria-labelledby="invitations-heading">
      <div className="card-header">
        <h2 id="invitations-heading">Pending invitations</h2>
      </div>
      {notice ? (
        <FormAlert tone={notice.tone} testId="invitation-notice" code={notice.code}>
          {notice.text}
        </FormAlert>
      ) : null}
      {invitations.error ? <FormAlert>{invitations.error}</FormAlert> : null}
      {invitations.status === "loading" ? (
        <p role="status" className="muted">
          Loading invitations…
        </p>
      ) : invitations.items.length === 0 && invitations.status === "ready" ? (
        <p className="muted" data-testid="invitations-empty">
          No pending invitations.
        </p>
      ) : invitations.items.length > 0 ? (
        <table className="table responsive-table invitations-table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Invited by</th>
              <th scope="col">Last sent</th>
              <th scope="col">Expires</th>
              {canInvite ? (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {invitations.items.map((invitation) => (
              <tr key={invitation.id} data-testid="invitation-row" data-email={invitation.email}>
                <td data-label="Email" className="cell-primary">
                  <span className="member-name break">{invitation.email}</span>
                  {invitation.first_name || invitation.last_name ? (
                    <span className="member-email">
                      {[invitation.first_name, invitation.last_name].filter(Boolean).join(" ")}
                    </span>
                  ) : null}
                </td>
                <td data-label="Role">{invitation.role?.name ?? "—"}</td>
                <td data-label="Invited by">{invitation.invited_by?.name ?? "—"}</td>
                <td data-label="Last sent">
                  {formatDate(invitation.last_sent_at ?? invitation.created_at)}
                  {invitation.send_count > 1 ? (
                    <span className="muted"> ({invitation.send_count}×)</span>
                  ) : null}
                </td>
                <td data-label="Expires">{formatDate(invitation.expires_at)}</td>
                {canInvite ? (
                  <td className="cell-actions">
                    <div className="button-row">
                      <button
                        type="button"
                        className="button button-secondary button-small"
                        onClick={() => act(invitation, "resend")}
                        disabled={busy !== null}
                        data-testid="invitation-resend"
                        aria-label={`Resend invitation to ${invitation.email}`}
                      >
                        {busy === invitation.id ? "Working…" : "Resend"}
                      </button>
                      <button
                        type="button"
                        className="button button-danger button-small"
                        onClick={() => act(invitation, "revoke")}
                        disabled={busy !== null}
                        data-testid="invitation-revoke"
                        aria-label={`Revoke invitation to ${invitation.email}`}
                      >
                        Revoke
                      </button>
                    </div>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {invitations.hasMore ? (
        <div className="actions list-more">
          <button
            type="button"
            className="button button-secondary"
            onClick={invitations.loadMore}
            disabled={invitations.loadingMore}
          >
            {invitations.loadingMore ? "Loading…" : "Load more"}
          </button>
        </div>
      ) : null}
    </section>
  );
}
