import { useEffect, useState } from "react";
import { CheckboxList } from "../../components/checkbox-list";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import {
  deviceLabel,
  factorSummary,
  factorTypeName,
  type MemberMfa,
  type MemberSession,
} from "../../member-detail";
import type { Member, Team } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePermissions } from "../../use-permissions";
import { type Resource, useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import { memberName, useAccountPath } from "./account-data";

/** Reads `resource` again whenever `version` moves on (after any change on the page). */
function useReloadOn(resource: Resource<unknown>, version: number) {
  const { reload } = resource;
  const [seen, setSeen] = useState(version);
  useEffect(() => {
    if (version !== seen) {
      setSeen(version);
      reload();
    }
  }, [version, seen, reload]);
}

/** The member's live sessions in this account, each with an "End session" button. */
export function MemberSessionsCard({
  member,
  memberPath,
  version,
  onChanged,
}: {
  member: Member;
  memberPath: string;
  version: number;
  onChanged: () => void;
}) {
  const api = useApi();
  const toast = useToast();
  const { can } = usePermissions();
  const { user } = useSessionInfo();
  const formatDate = useFormatDate();
  const sessions = useResource<{ data: MemberSession[] }>(`${memberPath}/sessions`);
  useReloadOn(sessions, version);
  const [revoking, setRevoking] = useState<MemberSession | null>(null);
  // Your own sessions are ended under Security (the server refuses it here, as for "log out everywhere").
  const canRevoke = can("members:suspend") && member.user_id !== user.id;
  const list = sessions.data?.data;

  return (
    <section className="card" aria-labelledby="member-sessions-heading" data-testid="member-sessions">
      <h2 id="member-sessions-heading">Sessions</h2>
      <p className="muted">Where they are signed in to this account now.</p>
      {sessions.error ? <FormAlert>{sessions.error}</FormAlert> : null}
      {!list ? (
        sessions.error ? null : (
          <LoadingBlock label="Loading sessions…" table={{ columns: 4, rows: 2 }} />
        )
      ) : list.length === 0 ? (
        <p data-testid="member-sessions-empty">No active sessions in this account.</p>
      ) : (
        <div className="table-scroll">
          <table className="table responsive-table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">IP address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
                {canRevoke ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.map((session) => (
                <tr key={session.id} data-testid="member-session" data-session-id={session.id}>
                  <td data-label="Device" title={session.user_agent ?? undefined}>
                    {deviceLabel(session.device)}
                  </td>
                  <td data-label="IP address">{session.ip ?? "—"}</td>
                  <td data-label="Signed in">{formatDate(session.created_at)}</td>
                  <td data-label="Last active">{formatDate(session.last_seen_at)}</td>
                  {canRevoke ? (
                    <td className="cell-actions">
                      <button
                        type="button"
                        className="button button-secondary button-small"
                        onClick={() => setRevoking(session)}
                        aria-label={`End the session on ${deviceLabel(session.device)}, last active ${formatDate(session.last_seen_at)}`}
                        data-testid="member-session-revoke"
                      >
                        End session
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoking ? (
        <ConfirmDialog
          title={`End this session of ${memberName(member)}?`}
          confirmLabel="End session"
          busyLabel="Ending…"
          danger
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api.delete(`${memberPath}/sessions/${encodeURIComponent(revoking.id)}`);
            toast.show({ text: `Ended the session on ${deviceLabel(revoking.device)}.` });
            sessions.reload();
            onChanged();
          }}
        >
          <p>
            {deviceLabel(revoking.device)}
            {revoking.ip ? ` (${revoking.ip})` : ""} is signed out at once. Their other sessions go on; they
            can sign in again with their password.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** Which second factors the member has and how many recovery codes remain; the admin actions below. */
export function MemberMfaCard({
  memberPath,
  version,
  children,
}: {
  memberPath: string;
  version: number;
  children?: React.ReactNode;
}) {
  const formatDate = useFormatDate();
  const mfa = useResource<MemberMfa>(`${memberPath}/mfa`);
  useReloadOn(mfa, version);
  const status = mfa.data;

  return (
    <section className="card" aria-labelledby="member-mfa-heading" data-testid="member-mfa-card">
      <h2 id="member-mfa-heading">Two-factor authentication</h2>
      {mfa.error ? <FormAlert>{mfa.error}</FormAlert> : null}
      {!status ? (
        mfa.error ? null : (
          <LoadingBlock label="Loading two-factor status…" lines={2} />
        )
      ) : (
        <>
          <dl className="details">
            <div>
              <dt>Status</dt>
              <dd data-testid="member-mfa-status" data-enabled={status.enabled ? "true" : "false"}>
                {status.enabled ? "On" : "Off: no second factor"}
              </dd>
            </div>
            <div>
              <dt>Second factors</dt>
              <dd data-testid="member-mfa-factors">{factorSummary(status.factors)}</dd>
            </div>
            {status.enabled ? (
              <div>
                <dt>Recovery codes left</dt>
                <dd data-testid="member-mfa-codes">{status.recovery_codes_remaining} of 10</dd>
              </div>
            ) : null}
          </dl>
          {status.factors.length > 0 ? (
            <ul className="plain-list" data-testid="member-mfa-factor-list">
              {status.factors.map((factor) => (
                <li key={factor.id}>
                  <strong>{factorTypeName(factor.type)}</strong>
                  {factor.label ? ` · ${factor.label}` : ""} · added {formatDate(factor.created_at)}
                  {factor.last_used_at ? `, last used ${formatDate(factor.last_used_at)}` : ", never used"}
                </li>
              ))}
            </ul>
          ) : null}
          {status.enabled ? children : null}
        </>
      )}
    </section>
  );
}

/** Ticks the teams the member is in; saving sets each changed team's members (PUT …/teams/{id}/members). */
export function EditTeamsDialog({
  member,
  teams,
  onClose,
  onSaved,
}: {
  member: Member;
  teams: readonly Team[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const api = useApi();
  const toast = useToast();
  const base = useAccountPath();
  const userId = member.user_id as string;
  const [selected, setSelected] = useState<string[]>(member.team_ids);

  return (
    <ConfirmDialog
      title={`Teams of ${memberName(member)}`}
      confirmLabel="Save teams"
      busyLabel="Saving…"
      onClose={onClose}
      onConfirm={async () => {
        const changed = teams.filter(
          (team) => selected.includes(team.id) !== member.team_ids.includes(team.id),
        );
        for (const team of changed) {
          // The team as it is now: someone may have changed its members since the list was read.
          const path = `${base}/teams/${encodeURIComponent(team.id)}`;
          const fresh = await api.get<Team>(path);
          const others = fresh.member_ids.filter((id) => id !== userId);
          await api.put(`${path}/members`, {
            user_ids: selected.includes(team.id) ? [...others, userId] : others,
          });
        }
        if (changed.length > 0) toast.show({ text: `Saved the teams of ${memberName(member)}.` });
        onSaved();
      }}
    >
      <CheckboxList
        legend="Teams"
        name="team_ids"
        options={teams.map((team) => ({
          value: team.id,
          label: team.name,
          hint: team.role ? `Gives the ${team.role.name} role` : undefined,
        }))}
        selected={selected}
        onChange={setSelected}
        scroll
      />
    </ConfirmDialog>
  );
}
