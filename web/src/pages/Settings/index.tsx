import { type ComponentType, useCallback, useEffect, useRef, useState } from "react";
import { AppHeader } from "../../components/app-header";
import { FormAlert } from "../../components/form-alert";
import { NavDrawer, SettingsNav } from "../../components/settings-nav";
import { LoadingCard } from "../../components/skeleton";
import { homePath } from "../../overview";
import { type ManagedAccount, managesSeveralAccounts } from "../../people";
import { Link, useLocation } from "../../router";
import { type SettingsPage as SettingsPageDefinition, settingsNav } from "../../settings-nav";
import type { Branding } from "../../types";
import { useBrandColour } from "../../use-brand-colour";
import { useFormatDate } from "../../use-format-date";
import { usePageTitle } from "../../use-page-title";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { isMfaEnrollmentOverdue, isSecurityOnly, useSessionInfo } from "../../use-session";
import { useBrandingVersion } from "./branding-data";
import { SETTINGS_PAGE_COMPONENTS, type SettingsPageProps } from "./pages";

/** Set in history.state by the accept-invitation page, for a one-off "you joined" note. */
export type JoinedState = { joined_account_id: string };

function joinedAccountId(): string | null {
  const state: unknown = window.history.state;
  if (!state || typeof state !== "object" || !("joined_account_id" in state)) return null;
  return typeof state.joined_account_id === "string" ? state.joined_account_id : null;
}

/**
 * The signed-in shell: header (brand, account switcher, avatar menu), the settings sidebar (a drawer
 * on phones), and the page in a column sized for it. See web/README.md for adding a page.
 */
export function SettingsPage({ page, itemId }: { page: SettingsPageDefinition; itemId: string | null }) {
  const info = useSessionInfo();
  const { user, account_id } = info;
  const permissions = usePermissions();
  const securityOnly = isSecurityOnly(info);
  const { pathname } = useLocation();
  const [navOpen, setNavOpen] = useState(false);
  const closeNav = useCallback(() => setNavOpen(false), []);
  usePageTitle(page.label);
  useAccountColour(securityOnly ? null : account_id);

  // Following a link (or Back) closes the drawer.
  useEffect(() => {
    void pathname;
    setNavOpen(false);
  }, [pathname]);

  const managed = useManagedAccounts(securityOnly ? null : user.memberships.length);
  const groups = settingsNav({ can: permissions.can, securityOnly, severalAccounts: managed });
  const pending = !securityOnly && permissions.status === "loading";
  const account = user.memberships.find((membership) => membership.account_id === account_id);
  // The switcher re-reads the account list when the account, its name or the memberships change.
  const accountKey = securityOnly
    ? null
    : `${account_id} ${account?.account_name ?? ""} ${user.memberships.map((membership) => membership.account_id).join(",")}`;
  const home = homePath(securityOnly, permissions) ?? "/settings/profile";
  const Page: ComponentType<SettingsPageProps> = SETTINGS_PAGE_COMPONENTS[page.key];

  const nav = (onNavigate?: () => void) => (
    <SettingsNav groups={groups} current={page.key} pending={pending} onNavigate={onNavigate} />
  );

  return (
    <div className="app-shell">
      <AppHeader
        user={user}
        accountKey={accountKey}
        home={home}
        securityOnly={securityOnly}
        onOpenNav={() => setNavOpen(true)}
        navOpen={navOpen}
      />
      <div className="shell-body">
        <aside className="shell-sidebar">{nav()}</aside>
        <main id="main" className="shell-main" data-page={page.key}>
          <div className={`shell-content shell-content-${page.width}`}>
            <MfaDueBanner />
            <ClosureBanner />
            <JoinedNotice />
            <h1 className="page-title">{page.label}</h1>
            {page.permission && !permissions.can(page.permission) ? (
              permissions.status === "loading" ? (
                <LoadingCard label="Checking your access…" />
              ) : (
                <FormAlert testId="no-access">
                  Your role in {account?.account_name ?? "this account"} doesn't include access to{" "}
                  {page.label.toLowerCase()}. Switch accounts or ask an administrator.
                </FormAlert>
              )
            ) : (
              // Keyed by account: a switch starts the page afresh, with that account's data.
              <Page key={account_id} itemId={itemId} />
            )}
          </div>
        </main>
      </div>
      <NavDrawer open={navOpen} onClose={closeNav}>
        {nav(closeNav)}
      </NavDrawer>
    </div>
  );
}

/** Whether the user reads members in two or more accounts (the People page); re-asked when memberships change. */
function useManagedAccounts(membershipCount: number | null): boolean {
  // One account can't be several: no request for most people.
  const managed = useResource<{ data: ManagedAccount[] }>(
    membershipCount !== null && membershipCount >= 2 ? "/me/managed-accounts" : null,
  );
  const { reload } = managed;
  const seen = useRef(membershipCount);
  useEffect(() => {
    if (seen.current === membershipCount) return;
    seen.current = membershipCount;
    reload();
  }, [membershipCount, reload]);
  return managesSeveralAccounts(managed.data?.data);
}

/**
 * Primary buttons take the active account's brand colour (and its text colour); switching to an
 * account without one, or leaving the shell, puts Gatehouse's own back. Saving branding re-reads it.
 */
function useAccountColour(accountId: string | null) {
  const version = useBrandingVersion();
  const branding = useResource<Branding>(
    accountId ? `/accounts/${encodeURIComponent(accountId)}/branding` : null,
  );
  const { reload } = branding;
  useEffect(() => {
    if (version > 0) reload();
  }, [version, reload]);
  useBrandColour(branding.data?.primary_color, branding.data?.primary_text_color);
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

/** Every member sees that the active account is scheduled for deletion, and when. */
function ClosureBanner() {
  const info = useSessionInfo();
  const formatDate = useFormatDate();
  const deleteAt = info.account_closure_delete_at;
  if (!deleteAt || isSecurityOnly(info)) return null;
  const name = info.user.memberships.find((m) => m.account_id === info.account_id)?.account_name;
  return (
    <div className="alert alert-error" role="status" data-testid="closure-banner">
      {name ?? "This account"} is scheduled for deletion on{" "}
      <time dateTime={deleteAt}>{formatDate(deleteAt)}</time>. Its members, settings and data will be deleted
      then; a Root can cancel it until that date in <Link to="/settings/data#closure">Settings → Data</Link>.
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
