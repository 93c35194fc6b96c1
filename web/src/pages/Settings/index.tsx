import { useEffect, useRef, useState } from "react";
import { AppHeader } from "../../components/app-header";
import { FormAlert } from "../../components/form-alert";
import { Link } from "../../router";
import { useFormatDate } from "../../use-format-date";
import { usePageTitle } from "../../use-page-title";
import { type UiPermission, usePermissions } from "../../use-permissions";
import { isMfaEnrollmentOverdue, isSecurityOnly, useSessionInfo } from "../../use-session";
import { AccountTab } from "./account-tab";
import { AuditTab } from "./audit-tab";
import { BillingTab } from "./billing-tab";
import { GeneralTab } from "./general-tab";
import { ProfileTab } from "./profile-tab";
import { RolesTab } from "./roles-tab";
import { SecurityTab } from "./security-tab";
import { TeamsTab } from "./teams-tab";
import { UsersTab } from "./users-tab";

type TabDefinition = { key: string; label: string; permission?: UiPermission };

/** Admin tabs show only when the user's role in the current account grants their permission. */
export const SETTINGS_TABS = [
  { key: "general", label: "General" },
  { key: "profile", label: "Profile" },
  { key: "security", label: "Security" },
  { key: "account", label: "Account", permission: "account:read" },
  { key: "users", label: "Users", permission: "members:read" },
  { key: "teams", label: "Teams", permission: "teams:read" },
  { key: "roles", label: "Roles", permission: "roles:read" },
  { key: "audit", label: "Audit log", permission: "audit:read" },
  { key: "billing", label: "Billing", permission: "billing:read" },
] as const satisfies readonly TabDefinition[];

export type SettingsTabKey = (typeof SETTINGS_TABS)[number]["key"];

export function isSettingsTab(value: string): value is SettingsTabKey {
  return SETTINGS_TABS.some((tab) => tab.key === value);
}

/** Set in history.state by the accept-invitation page, for a one-off "you joined" note. */
export type JoinedState = { joined_account_id: string };

function joinedAccountId(): string | null {
  const state: unknown = window.history.state;
  if (!state || typeof state !== "object" || !("joined_account_id" in state)) return null;
  return typeof state.joined_account_id === "string" ? state.joined_account_id : null;
}

export function SettingsPage({ tab }: { tab: SettingsTabKey }) {
  const info = useSessionInfo();
  const { user, account_id } = info;
  const permissions = usePermissions();
  const tabsRef = useRef<HTMLElement>(null);
  const current: TabDefinition | undefined = SETTINGS_TABS.find((candidate) => candidate.key === tab);
  usePageTitle(`${current?.label ?? "Settings"} settings`);

  const visible = SETTINGS_TABS.filter(
    (candidate: TabDefinition) => !candidate.permission || permissions.can(candidate.permission),
  );
  const account = user.memberships.find((membership) => membership.account_id === account_id);
  // The switcher re-reads the account list when the account, its name or the memberships change.
  const accountKey = isSecurityOnly(info)
    ? null
    : `${account_id} ${account?.account_name ?? ""} ${user.memberships.map((membership) => membership.account_id).join(",")}`;

  // On a phone the tab row scrolls sideways; keep the current tab in sight.
  const tabCount = visible.length;
  useEffect(() => {
    void tab;
    void tabCount;
    tabsRef.current
      ?.querySelector('[aria-current="page"]')
      ?.scrollIntoView({ block: "nearest", inline: "nearest" });
  }, [tab, tabCount]);

  return (
    <div className="app-shell">
      <AppHeader user={user} accountKey={accountKey} />
      <main id="main" className="settings">
        <h1>Settings</h1>
        <MfaDueBanner />
        <JoinedNotice />
        <nav className="tabs" aria-label="Settings sections" ref={tabsRef}>
          {visible.map((candidate) => (
            <Link
              key={candidate.key}
              to={`/settings/${candidate.key}`}
              className="tab"
              aria-current={candidate.key === tab ? "page" : undefined}
            >
              {candidate.label}
            </Link>
          ))}
        </nav>
        {current?.permission && !permissions.can(current.permission) ? (
          permissions.status === "loading" ? (
            <p role="status" className="muted">
              Checking your access…
            </p>
          ) : (
            <FormAlert testId="no-access">
              Your role in {account?.account_name ?? "this account"} doesn't include access to{" "}
              {current.label.toLowerCase()}. Switch accounts or ask an administrator.
            </FormAlert>
          )
        ) : (
          // Keyed by account: a switch starts the tab afresh, with that account's data.
          <div key={account_id}>
            {tab === "general" ? <GeneralTab /> : null}
            {tab === "profile" ? <ProfileTab /> : null}
            {tab === "security" ? <SecurityTab /> : null}
            {tab === "account" ? <AccountTab /> : null}
            {tab === "users" ? <UsersTab /> : null}
            {tab === "teams" ? <TeamsTab /> : null}
            {tab === "roles" ? <RolesTab /> : null}
            {tab === "audit" ? <AuditTab /> : null}
            {tab === "billing" ? <BillingTab /> : null}
          </div>
        )}
      </main>
    </div>
  );
}

/** The accounts require a second factor and the user has none yet: say by when, and where to set it up. */
function MfaDueBanner() {
  const info = useSessionInfo();
  const formatDate = useFormatDate();
  const due = info.mfa_enrollment_due_at;
  if (!due) return null;
  const overdue = isMfaEnrollmentOverdue(info);
  return (
    <div
      className={`alert ${overdue ? "alert-error" : "alert-info"}`}
      role={overdue ? "alert" : "status"}
      data-testid="mfa-due-banner"
      data-overdue={overdue ? "true" : "false"}
    >
      {overdue ? (
        <>
          Your account requires two-factor authentication now. Set it up to keep using Gatehouse:{" "}
          <Link to="/settings/security">set up two-factor authentication</Link>.
        </>
      ) : (
        <>
          Your account requires two-factor authentication. Set it up by{" "}
          <time dateTime={due}>{formatDate(due)}</time>:{" "}
          <Link to="/settings/security">set up two-factor authentication</Link>.
        </>
      )}
    </div>
  );
}

function JoinedNotice() {
  const { user } = useSessionInfo();
  const [accountId] = useState(joinedAccountId);
  const [dismissed, setDismissed] = useState(false);
  if (!accountId || dismissed) return null;
  const name = user.memberships.find((membership) => membership.account_id === accountId)?.account_name;

  function dismiss() {
    // So a reload doesn't bring the note back.
    window.history.replaceState(null, "", window.location.href);
    setDismissed(true);
  }

  return (
    <FormAlert tone="success" testId="accept-done">
      <div className="alert-row">
        <span>
          Welcome! You joined <strong>{name ?? "the account"}</strong>.
        </span>
        <button type="button" className="button button-ghost button-small" onClick={dismiss}>
          Dismiss
        </button>
      </div>
    </FormAlert>
  );
}
