import { useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { SelectField } from "../../components/field";
import { Menu, type MenuItem } from "../../components/menu";
import { errorNotice, type Notice } from "../../error-messages";
import { isReauthRequired } from "../../reauth-provider";
import type { Member, RoleRef } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useSessionInfo } from "../../use-session";
import { memberName, useAccountPath } from "./account-data";
import { RecoveryCodesDialog } from "./recovery-codes-dialog";

type Props = {
  member: Member;
  roles: readonly RoleRef[];
  onNotice: (notice: Notice | null) => void;
  /** Something changed on the server: re-read the lists. */
  onChanged: () => void;
};

type OpenDialog =
  | "change-role"
  | "remove"
  | "mfa-reset"
  | "issue-codes"
  | { codes: string[]; reason: "issued" | "viewed" }
  | null;

/**
 * The "⋯" menu of one member row. Suspend, reactivate, log out and force reset act at once (each is
 * undoable or harmless); changing the role and removing ask first.
 */
export function MemberActions({ member, roles, onNotice, onChanged }: Props) {
  const api = useApi();
  const base = useAccountPath();
  const { account_id, user } = useSessionInfo();
  const { can } = usePermissions();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [busy, setBusy] = useState(false);
  const name = memberName(member);
  const accountName = user.memberships.find(
    (membership) => membership.account_id === account_id,
  )?.account_name;
  const memberPath = member.user_id ? `${base}/members/${encodeURIComponent(member.user_id)}` : null;
  const invitationPath = member.invitation_id
    ? `${base}/invitations/${encodeURIComponent(member.invitation_id)}`
    : null;

  async function run(failurePrefix: string, action: () => Promise<string>) {
    setBusy(true);
    onNotice(null);
    try {
      onNotice({ tone: "success", text: await action() });
      onChanged();
    } catch (caught) {
      // Closing "Confirm it's you" is the admin's choice, not a failure to report.
      if (!isReauthRequired(caught)) onNotice(errorNotice(caught, `${failurePrefix} ${name}`));
    } finally {
      setBusy(false);
    }
  }

  const items: MenuItem[] = [];
  if (member.status === "pending") {
    if (invitationPath && can("members:invite")) {
      items.push(
        {
          key: "resend",
          label: "Resend invitation",
          testId: "member-action-resend",
          onSelect: () =>
            void run("Could not resend the invitation to", async () => {
              await api.post(`${invitationPath}/resend`);
              return `Sent a new invitation link to ${member.email}.`;
            }),
        },
        {
          key: "revoke",
          label: "Revoke invitation",
          testId: "member-action-revoke",
          danger: true,
          onSelect: () =>
            void run("Could not revoke the invitation of", async () => {
              await api.delete(invitationPath);
              return `Revoked the invitation of ${member.email}.`;
            }),
        },
      );
    }
  } else if (memberPath) {
    if (can("members:update_role")) {
      items.push({
        key: "change-role",
        label: "Change role…",
        testId: "member-action-change-role",
        onSelect: () => setDialog("change-role"),
      });
    }
    if (can("members:suspend")) {
      items.push(
        member.status === "suspended"
          ? {
              key: "reactivate",
              label: "Reactivate",
              testId: "member-action-reactivate",
              onSelect: () =>
                void run("Could not reactivate", async () => {
                  await api.post(`${memberPath}/reactivate`);
                  return `${name} is active again.`;
                }),
            }
          : {
              key: "suspend",
              label: "Suspend",
              testId: "member-action-suspend",
              onSelect: () =>
                void run("Could not suspend", async () => {
                  await api.post(`${memberPath}/suspend`);
                  return `${name} is suspended. Their sessions in this account ended; they still use a seat.`;
                }),
            },
        {
          key: "logout",
          label: "Log out everywhere",
          testId: "member-action-logout",
          onSelect: () =>
            void run("Could not log out", async () => {
              const answer = await api.post<{ revoked?: number }>(`${memberPath}/logout`);
              const count = answer?.revoked ?? 0;
              return count === 0
                ? `${name} had no active sessions.`
                : `Logged ${name} out of ${count} session${count === 1 ? "" : "s"}.`;
            }),
        },
        {
          key: "force-reset",
          label: "Force password reset",
          testId: "member-action-force-reset",
          onSelect: () =>
            void run("Could not force a password reset for", async () => {
              await api.post(`${memberPath}/force-password-reset`);
              return `${name} must choose a new password at their next log-in. Their sessions ended.`;
            }),
        },
      );
    }
    // A second factor belongs to the person's login: the Security tab is where you manage your own.
    if (can("security:manage") && member.user_id !== user.id) {
      items.push(
        {
          key: "mfa-reset",
          label: "Reset two-factor authentication…",
          testId: "member-action-mfa-reset",
          separated: items.length > 0,
          onSelect: () => setDialog("mfa-reset"),
        },
        {
          key: "issue-codes",
          label: "Issue new recovery codes…",
          testId: "member-action-issue-codes",
          onSelect: () => setDialog("issue-codes"),
        },
        {
          key: "view-codes",
          label: "View recovery codes",
          testId: "member-action-view-codes",
          onSelect: () =>
            void run("Could not show the recovery codes of", async () => {
              const answer = await api.get<{ recovery_codes: string[] }>(`${memberPath}/recovery-codes`);
              setDialog({ codes: answer.recovery_codes, reason: "viewed" });
              return `${name} was emailed that you viewed their recovery codes.`;
            }),
        },
      );
    }
    if (can("members:delete")) {
      items.push({
        key: "remove",
        label: "Remove from account…",
        testId: "member-action-remove",
        danger: true,
        separated: items.length > 0,
        onSelect: () => setDialog("remove"),
      });
    }
  }

  if (items.length === 0) return null;

  return (
    <>
      <Menu
        testId="member-menu"
        label={`Actions for ${name}`}
        items={items}
        buttonClassName="button button-secondary button-small menu-button"
      >
        {busy ? (
          "Working…"
        ) : (
          <>
            <span aria-hidden="true">⋯</span>
            <span className="menu-button-text">Actions</span>
          </>
        )}
      </Menu>
      {dialog === "change-role" && memberPath ? (
        <ChangeRoleDialog
          member={member}
          roles={roles}
          onClose={() => setDialog(null)}
          onSave={async (roleId) => {
            await api.patch(memberPath, { role_id: roleId });
            const role = roles.find((candidate) => candidate.id === roleId);
            onNotice({ tone: "success", text: `${name} now has the ${role?.name ?? "new"} role.` });
            onChanged();
          }}
        />
      ) : null}
      {dialog === "mfa-reset" && memberPath ? (
        <ConfirmDialog
          title={`Reset two-factor authentication of ${name}?`}
          confirmLabel="Reset"
          busyLabel="Resetting…"
          danger
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.post(`${memberPath}/mfa/reset`);
            onNotice({
              tone: "success",
              text: `${name}'s second factors and recovery codes are removed and their sessions ended.`,
            });
            onChanged();
          }}
        >
          <p>
            Their authenticator apps, email and text-message codes, passkeys and recovery codes stop working
            and they are logged out everywhere. If an account requires two-factor authentication of them, they
            must set it up again at their next log-in.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "issue-codes" && memberPath ? (
        <ConfirmDialog
          title={`Issue new recovery codes for ${name}?`}
          confirmLabel="Issue codes"
          busyLabel="Issuing…"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const answer = await api.post<{ recovery_codes: string[] }>(`${memberPath}/recovery-codes`);
            setDialog({ codes: answer.recovery_codes, reason: "issued" });
            return false;
          }}
        >
          <p>
            Their current recovery codes stop working and 10 new ones are shown to you once. We email them
            that you did this.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog !== null && typeof dialog === "object" ? (
        <RecoveryCodesDialog
          codes={dialog.codes}
          reason={dialog.reason}
          owner={member.email}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog === "remove" && memberPath ? (
        <ConfirmDialog
          title={`Remove ${name}?`}
          confirmLabel="Remove"
          busyLabel="Removing…"
          danger
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.delete(memberPath);
            onNotice({ tone: "success", text: `Removed ${name} from ${accountName ?? "the account"}.` });
            onChanged();
          }}
        >
          <p>
            <span className="break">{member.email}</span> loses access to {accountName ?? "this account"} at
            once and their sessions here end. Their Gatehouse user and other accounts are not affected.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

function ChangeRoleDialog({
  member,
  roles,
  onClose,
  onSave,
}: {
  member: Member;
  roles: readonly RoleRef[];
  onClose: () => void;
  onSave: (roleId: string) => Promise<void>;
}) {
  const [roleId, setRoleId] = useState(member.role.id);
  const [error, setError] = useState<string | undefined>();
  // The member's current role stays selectable even if the list could not be read.
  const options = roles.some((role) => role.id === member.role.id) ? roles : [member.role, ...roles];

  return (
    <ConfirmDialog
      title={`Change role of ${memberName(member)}`}
      confirmLabel="Change role"
      busyLabel="Saving…"
      onClose={onClose}
      onConfirm={async () => {
        if (roleId === member.role.id) {
          setError("Choose a different role, or cancel.");
          return false;
        }
        await onSave(roleId);
      }}
    >
      <SelectField
        label="Role"
        name="role_id"
        value={roleId}
        onValueChange={(value) => {
          setRoleId(value);
          setError(undefined);
        }}
        options={options.map((role) => ({ value: role.id, label: role.name }))}
        error={error}
        hint={`Currently ${member.role.name}. Their team roles still apply on top.`}
        data-testid="role-select"
      />
    </ConfirmDialog>
  );
}
