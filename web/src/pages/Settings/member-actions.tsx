import { type ReactNode, useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { EmailText } from "../../components/email-text";
import { SelectField } from "../../components/field";
import { Menu, type MenuItem } from "../../components/menu";
import { errorNotice, type Notice } from "../../error-messages";
import { isReauthRequired } from "../../reauth-provider";
import type { Member, RoleRef } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import { memberName, useAccountPath } from "./account-data";
import { RecoveryCodesDialog } from "./recovery-codes-dialog";

type Props = {
  member: Member;
  roles: readonly RoleRef[];
  /** A failure to show on the page (successes are toasts). */
  onNotice: (notice: Notice | null) => void;
  /** Something changed on the server: re-read the lists. */
  onChanged: () => void;
};

type Question =
  | "change-role"
  | "suspend"
  | "logout"
  | "force-reset"
  | "remove"
  | "revoke"
  | "mfa-reset"
  | "issue-codes"
  | "view-codes";

type OpenDialog = Question | { codes: string[]; reason: "issued" | "viewed" } | null;

/** "Alice" for "Suspend Alice": the first name when there is one, else the whole name or address. */
function shortName(member: Member): string {
  return member.first_name?.trim() || memberName(member);
}

/**
 * The "⋯" menu of one member row: only what the server would allow (nothing on your own row; the
 * second-factor actions only for members who have one). Everything that takes something away or
 * mails someone asks first (ConfirmDialog); reactivating and re-sending act at once. Successes are
 * toasts, and a suspension's or role change's toast offers the opposite action.
 */
export function MemberActions(props: Props) {
  const { items, dialogs, busy } = useMemberActions(props);
  if (items.length === 0) return null;
  return (
    <>
      <Menu
        testId="member-menu"
        label={`Actions for ${memberName(props.member)}`}
        items={items}
        buttonClassName="button button-secondary button-small menu-button"
        floating
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
      {dialogs}
    </>
  );
}

/**
 * The actions on one member and the dialogs they open: the row menu above shows them as menu items,
 * the member detail page as buttons. `items` holds only what the server would allow; `dialogs` must be
 * rendered wherever the items are.
 */
export function useMemberActions({ member, roles, onNotice, onChanged }: Props): {
  items: MenuItem[];
  dialogs: ReactNode;
  busy: boolean;
} {
  const api = useApi();
  const toast = useToast();
  const base = useAccountPath();
  const { account_id, user } = useSessionInfo();
  const { can } = usePermissions();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [busy, setBusy] = useState(false);
  const name = memberName(member);
  const short = shortName(member);
  const accountName = user.memberships.find(
    (membership) => membership.account_id === account_id,
  )?.account_name;
  const memberPath = member.user_id ? `${base}/members/${encodeURIComponent(member.user_id)}` : null;
  const invitationPath = member.invitation_id
    ? `${base}/invitations/${encodeURIComponent(member.invitation_id)}`
    : null;
  const isSelf = member.user_id === user.id;

  /** An action without a question: its success is a toast, its failure a notice on the page. */
  async function run(failurePrefix: string, action: () => Promise<void>) {
    setBusy(true);
    onNotice(null);
    try {
      await action();
      onChanged();
    } catch (caught) {
      // Closing "Confirm it's you" is the admin's choice, not a failure to report.
      if (!isReauthRequired(caught)) onNotice(errorNotice(caught, `${failurePrefix} ${name}`));
    } finally {
      setBusy(false);
    }
  }

  function reactivate(path: string) {
    return run("Could not reactivate", async () => {
      await api.post(`${path}/reactivate`);
      toast.show({ text: `${name} is active again.` });
    });
  }

  const ask = (question: Question) => () => {
    onNotice(null);
    setDialog(question);
  };

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
              toast.show({
                text: `Sent a new invitation link to ${member.email}. The old link no longer works.`,
              });
            }),
        },
        {
          key: "revoke",
          label: "Revoke invitation…",
          testId: "member-action-revoke",
          danger: true,
          onSelect: ask("revoke"),
        },
      );
    }
  } else if (memberPath && !isSelf) {
    // Your own row offers nothing: the server refuses changing, suspending or removing yourself.
    if (can("members:update_role")) {
      items.push({
        key: "change-role",
        label: "Change role…",
        testId: "member-action-change-role",
        onSelect: ask("change-role"),
      });
    }
    if (can("members:suspend")) {
      items.push(
        member.status === "suspended"
          ? {
              key: "reactivate",
              label: "Reactivate",
              testId: "member-action-reactivate",
              onSelect: () => void reactivate(memberPath),
            }
          : {
              key: "suspend",
              label: "Suspend…",
              testId: "member-action-suspend",
              onSelect: ask("suspend"),
            },
        {
          key: "logout",
          label: "Log out everywhere…",
          testId: "member-action-logout",
          onSelect: ask("logout"),
        },
        {
          key: "force-reset",
          label: "Force password reset…",
          testId: "member-action-force-reset",
          onSelect: ask("force-reset"),
        },
      );
    }
    // Only for a member who has a second factor (the server refuses the rest); your own are managed
    // under Security. A Root's codes are never shown to anyone else.
    if (can("security:manage") && member.mfa_enabled) {
      items.push(
        {
          key: "mfa-reset",
          label: "Reset two-factor authentication…",
          testId: "member-action-mfa-reset",
          separated: items.length > 0,
          onSelect: ask("mfa-reset"),
        },
        {
          key: "issue-codes",
          label: "Issue new recovery codes…",
          testId: "member-action-issue-codes",
          onSelect: ask("issue-codes"),
        },
      );
      if (member.role.key !== "root") {
        items.push({
          key: "view-codes",
          label: "View recovery codes…",
          testId: "member-action-view-codes",
          onSelect: ask("view-codes"),
        });
      }
    }
    if (can("members:delete")) {
      items.push({
        key: "remove",
        label: "Remove from account…",
        testId: "member-action-remove",
        danger: true,
        separated: items.length > 0,
        onSelect: ask("remove"),
      });
    }
  }

  const close = () => setDialog(null);
  const email = <EmailText email={member.email} />;

  const dialogs = (
    <>
      {dialog === "change-role" && memberPath ? (
        <ChangeRoleDialog
          member={member}
          roles={roles}
          onClose={close}
          onSave={async (roleId) => {
            const previous = member.role;
            await api.patch(memberPath, { role_id: roleId });
            const role = roles.find((candidate) => candidate.id === roleId);
            toast.show({
              text: `${name} now has the ${role?.name ?? "new"} role.`,
              action: {
                label: `Back to ${previous.name}`,
                run: () =>
                  void run("Could not change back the role of", async () => {
                    await api.patch(memberPath, { role_id: previous.id });
                    toast.show({ text: `${name} has the ${previous.name} role again.` });
                  }),
              },
            });
            onChanged();
          }}
        />
      ) : null}
      {dialog === "suspend" && memberPath ? (
        <ConfirmDialog
          title={`Suspend ${name}?`}
          confirmLabel={`Suspend ${short}`}
          busyLabel="Suspending…"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.post(`${memberPath}/suspend`);
            toast.show({
              text: `${name} is suspended. Their sessions in this account ended; they still use a seat.`,
              action: { label: "Reactivate", run: () => void reactivate(memberPath) },
            });
            onChanged();
          }}
        >
          <p>
            They can't log in to {accountName ?? "this account"} and their sessions here end at once. They
            keep their seat, role and teams, and you can reactivate them at any time.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "logout" && memberPath ? (
        <ConfirmDialog
          title={`Log ${name} out everywhere?`}
          confirmLabel={`Log ${short} out`}
          busyLabel="Logging out…"
          danger
          onClose={close}
          onConfirm={async () => {
            const answer = await api.post<{ revoked?: number }>(`${memberPath}/logout`);
            const count = answer?.revoked ?? 0;
            toast.show({
              text:
                count === 0
                  ? `${name} had no active sessions.`
                  : `Logged ${name} out of ${count} session${count === 1 ? "" : "s"}.`,
            });
            onChanged();
          }}
        >
          <p>
            Every session of their login ends at once, on every device and in every account they belong to.
            They can log in again with their password.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "force-reset" && memberPath ? (
        <ConfirmDialog
          title={`Force ${name} to choose a new password?`}
          confirmLabel="Force password reset"
          busyLabel="Working…"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.post(`${memberPath}/force-password-reset`);
            toast.show({
              text: `${name} must choose a new password at their next log-in. Their sessions ended.`,
            });
            onChanged();
          }}
        >
          <p>
            Their sessions end at once on every device, and their next log-in asks for a new password before
            anything else. Their current password still gets them to that step.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "revoke" && invitationPath ? (
        <ConfirmDialog
          title={`Revoke the invitation to ${member.email}?`}
          confirmLabel="Revoke invitation"
          busyLabel="Revoking…"
          dismissLabel="Keep invitation"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.delete(invitationPath);
            toast.show({ text: `Revoked the invitation to ${member.email}. Its seat is free again.` });
            onChanged();
          }}
        >
          <p>
            The link we mailed to {email} stops working at once. To invite them later, send a new invitation.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "mfa-reset" && memberPath ? (
        <ConfirmDialog
          title={`Reset two-factor authentication of ${name}?`}
          confirmLabel="Reset two-factor"
          busyLabel="Resetting…"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.post(`${memberPath}/mfa/reset`);
            toast.show({
              text: `${name}'s second factors and recovery codes are removed and their sessions ended.`,
            });
            onChanged();
          }}
        >
          <p>
            Their authenticator apps, email and text-message codes, passkeys and recovery codes stop working
            and they are logged out everywhere. If an account requires two-factor authentication of them, they
            must set it up again at their next log-in. We email them that you did this.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "issue-codes" && memberPath ? (
        <ConfirmDialog
          title={`Issue new recovery codes for ${name}?`}
          confirmLabel="Issue new codes"
          busyLabel="Issuing…"
          danger
          onClose={close}
          onConfirm={async () => {
            const answer = await api.post<{ recovery_codes: string[] }>(`${memberPath}/recovery-codes`);
            setDialog({ codes: answer.recovery_codes, reason: "issued" });
            return false;
          }}
        >
          <p>
            Their current recovery codes stop working at once, and 10 new ones are shown to you once. We email
            them that you did this.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog === "view-codes" && memberPath ? (
        <ConfirmDialog
          title={`View the recovery codes of ${name}?`}
          confirmLabel="View codes"
          busyLabel="Opening…"
          onClose={close}
          onConfirm={async () => {
            const answer = await api.post<{ recovery_codes: string[] }>(
              `${memberPath}/recovery-codes/reveal`,
            );
            setDialog({ codes: answer.recovery_codes, reason: "viewed" });
            return false;
          }}
        >
          <p>
            Their unused codes are shown to you, and we email {email} that you viewed them. Anyone holding a
            code can pass their second step once.
          </p>
        </ConfirmDialog>
      ) : null}
      {dialog !== null && typeof dialog === "object" ? (
        <RecoveryCodesDialog
          codes={dialog.codes}
          reason={dialog.reason}
          owner={member.email}
          onClose={close}
        />
      ) : null}
      {dialog === "remove" && memberPath ? (
        <ConfirmDialog
          title={`Remove ${name}?`}
          confirmLabel={`Remove ${short}`}
          busyLabel="Removing…"
          danger
          onClose={close}
          onConfirm={async () => {
            await api.delete(memberPath);
            toast.show({ text: `Removed ${name} from ${accountName ?? "the account"}.` });
            onChanged();
          }}
        >
          <p>
            {email} loses access to {accountName ?? "this account"} at once and their sessions here end. Their
            Gatehouse user and other accounts are not affected. To bring them back, invite them again.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
  return { items, dialogs, busy };
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
