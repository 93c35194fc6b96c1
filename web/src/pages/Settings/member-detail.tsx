import { useState } from "react";
import { Avatar } from "../../components/avatar";
import { EmailText } from "../../components/email-text";
import { FormAlert } from "../../components/form-alert";
import { LinkedItemMissing } from "../../components/linked-item-missing";
import type { MenuItem } from "../../components/menu";
import { LoadingCard } from "../../components/skeleton";
import type { Notice } from "../../error-messages";
import { Link } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { Member, RoleRef, Team } from "../../types";
import { useFormatDate } from "../../use-format-date";
import { usePageTitle } from "../../use-page-title";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import { memberName, rolesSeenOn, useAccountPath, useRoles, useTeams } from "./account-data";
import { useMemberActions } from "./member-actions";
import { MemberActivityCard, MemberLoginsCard } from "./member-detail-activity";
import { EditTeamsDialog, MemberMfaCard, MemberSessionsCard } from "./member-detail-security";
import { StatusBadge } from "./users-tab";

const LIST_PATH = settingsPage("members").path;
const MFA_ACTIONS = new Set(["mfa-reset", "issue-codes", "view-codes"]);

export type MemberWithProfile = Member & { mobile?: string | null };

/** `/settings/members/{user_id}`: one member's profile, access, sessions, second factors and history. */
export function MemberDetail({ userId }: { userId: string }) {
  const base = useAccountPath();
  const memberPath = `${base}/members/${encodeURIComponent(userId)}`;
  const member = useResource<MemberWithProfile>(memberPath);
  const current = member.data?.user_id === userId ? member.data : undefined;
  const [version, setVersion] = useState(0);
  usePageTitle(current ? `${memberName(current)} · Members` : "Member");

  return (
    <div className="stack" data-testid="member-detail">
      <p className="back-link">
        <Link to={LIST_PATH} data-testid="member-detail-back">
          ← Back to members
        </Link>
      </p>
      {current ? (
        <MemberPage
          member={current}
          memberPath={memberPath}
          version={version}
          onChanged={() => {
            member.reload();
            setVersion((count) => count + 1);
          }}
        />
      ) : member.error ? (
        <LinkedItemMissing what="member" />
      ) : (
        <LoadingCard label="Loading the member…" lines={6} />
      )}
    </div>
  );
}

function MemberPage({
  member,
  memberPath,
  version,
  onChanged,
}: {
  member: MemberWithProfile;
  memberPath: string;
  /** Bumped after every change, so the cards re-read what it may have changed. */
  version: number;
  onChanged: () => void;
}) {
  const { can } = usePermissions();
  const { user } = useSessionInfo();
  const roles = useRoles();
  const teams = useTeams();
  const [notice, setNotice] = useState<Notice | null>(null);
  const roleOptions: RoleRef[] = roles.data?.data ?? rolesSeenOn([member]);
  const actions = useMemberActions({ member, roles: roleOptions, onNotice: setNotice, onChanged });
  const changeRole = actions.items.find((item) => item.key === "change-role");
  const lifecycle = actions.items.filter((item) => item.key !== "change-role" && !MFA_ACTIONS.has(item.key));
  const mfaActions = actions.items.filter((item) => MFA_ACTIONS.has(item.key));
  const isSelf = member.user_id === user.id;

  return (
    <>
      <ProfileCard
        member={member}
        teams={teams.data?.data}
        changeRole={changeRole}
        onTeamsChanged={() => {
          teams.reload();
          onChanged();
        }}
        isSelf={isSelf}
      />
      {notice ? (
        <FormAlert tone={notice.tone} testId="action-notice" code={notice.code}>
          {notice.text}
        </FormAlert>
      ) : null}
      {lifecycle.length > 0 ? (
        <section className="card" aria-labelledby="member-actions-heading">
          <h2 id="member-actions-heading">Access</h2>
          <ActionButtons items={lifecycle} busy={actions.busy} />
        </section>
      ) : isSelf ? (
        <p className="muted" data-testid="member-self-note">
          This is you: manage your own sessions and second factors under{" "}
          <Link to={settingsPage("security").path}>Security</Link>.
        </p>
      ) : null}
      {can("security:read") ? (
        <>
          <MemberSessionsCard
            member={member}
            memberPath={memberPath}
            version={version}
            onChanged={onChanged}
          />
          <MemberMfaCard memberPath={memberPath} version={version}>
            {mfaActions.length > 0 ? <ActionButtons items={mfaActions} busy={actions.busy} /> : null}
          </MemberMfaCard>
        </>
      ) : null}
      {can("audit:read") && member.user_id ? (
        <>
          <MemberLoginsCard memberPath={memberPath} version={version} />
          <MemberActivityCard userId={member.user_id} version={version} />
        </>
      ) : null}
      {actions.dialogs}
    </>
  );
}

/** The menu's items as a row of buttons (the same actions and dialogs as the list's row menu). */
function ActionButtons({ items, busy }: { items: readonly MenuItem[]; busy: boolean }) {
  return (
    <div className="button-row">
      {items.map((item) => (
        <button
          key={item.key}
          type="button"
          className={`button button-small ${item.danger ? "button-danger" : "button-secondary"}`}
          onClick={item.onSelect}
          disabled={busy}
          data-testid={item.testId}
        >
          {item.label}
        </button>
      ))}
    </div>
  );
}

function ProfileCard({
  member,
  teams,
  changeRole,
  onTeamsChanged,
  isSelf,
}: {
  member: MemberWithProfile;
  teams: readonly Team[] | undefined;
  changeRole: MenuItem | undefined;
  onTeamsChanged: () => void;
  isSelf: boolean;
}) {
  const { can } = usePermissions();
  const formatDate = useFormatDate();
  const [editingTeams, setEditingTeams] = useState(false);
  const name = memberName(member);
  const teamNames = member.team_ids.map((id) => teams?.find((team) => team.id === id)?.name ?? id);

  return (
    <section className="card" aria-labelledby="member-name-heading" data-testid="member-profile">
      <div className="card-header">
        <span className="member-identity">
          <Avatar
            name={name}
            url={member.avatar_url}
            colourKey={member.user_id ?? member.email}
            size="large"
            testId="member-detail-avatar"
          />
          <span className="member-identity-text">
            <h2 id="member-name-heading" data-testid="member-detail-name">
              {name === member.email ? <EmailText email={name} /> : name}
              {isSelf ? <span className="badge badge-you">You</span> : null}
            </h2>
            {name !== member.email ? <EmailText email={member.email} className="member-email" /> : null}
          </span>
        </span>
        <span data-testid="member-detail-status" data-status={member.status}>
          <StatusBadge status={member.status} />
        </span>
      </div>
      <dl className="details">
        <div>
          <dt>Email</dt>
          <dd>
            <EmailText email={member.email} />
          </dd>
        </div>
        {member.mobile ? (
          <div>
            <dt>Mobile</dt>
            <dd data-testid="member-detail-mobile">{member.mobile}</dd>
          </div>
        ) : null}
        <div>
          <dt>Role</dt>
          <dd className="detail-with-action">
            <span data-testid="member-detail-role">{member.role.name}</span>
            {changeRole ? (
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={changeRole.onSelect}
                data-testid="member-detail-change-role"
              >
                Change role
              </button>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Teams</dt>
          <dd className="detail-with-action">
            <span data-testid="member-detail-teams">
              {teamNames.length > 0 ? teamNames.join(", ") : "None"}
            </span>
            {can("teams:manage") && teams && teams.length > 0 ? (
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => setEditingTeams(true)}
                data-testid="member-detail-edit-teams"
              >
                Edit teams
              </button>
            ) : null}
          </dd>
        </div>
        <div>
          <dt>Joined</dt>
          <dd>{formatDate(member.joined_at)}</dd>
        </div>
        <div>
          <dt>Last login</dt>
          <dd>{member.last_login_at ? formatDate(member.last_login_at) : "Never"}</dd>
        </div>
        <div>
          <dt>Two-factor authentication</dt>
          <dd data-testid="member-detail-mfa" data-enabled={member.mfa_enabled ? "true" : "false"}>
            {member.mfa_enabled ? "On" : "Off"}
          </dd>
        </div>
      </dl>
      {editingTeams && teams ? (
        <EditTeamsDialog
          member={member}
          teams={teams}
          onClose={() => setEditingTeams(false)}
          onSaved={onTeamsChanged}
        />
      ) : null}
    </section>
  );
}
