import { lazy, Suspense } from "react";
import { Link } from "../router";
import type { Me } from "../types";
import { AccountSwitcher } from "./account-switcher";
import { BrandMark } from "./auth-layout";
import { UserMenu } from "./user-menu";

// The bell and its stream come in a chunk of their own, after the page: nothing of it is on the first paint's path.
const NotificationBell = lazy(() => import("./notification-bell"));

type Props = {
  user: Me;
  /** Changes when the account list may have (switch, join, create): the switcher re-reads it. Null hides it. */
  accountKey?: string | null;
  /** Where the brand leads: the user's home page. */
  home: string;
  /** Only a password change or a second factor is allowed yet: the avatar menu offers Security alone. */
  securityOnly: boolean;
  /** On a phone the sidebar is a drawer: this opens it. */
  onOpenNav?: () => void;
  navOpen?: boolean;
};

/**
 * The bar above every signed-in page: menu button (phones), brand, account switcher, the notification
 * bell (not while only Security is allowed: the server refuses the rest), avatar menu.
 */
export function AppHeader({ user, accountKey, home, securityOnly, onOpenNav, navOpen }: Props) {
  return (
    <header className="app-header">
      <div className="app-header-inner">
        {onOpenNav ? (
          <button
            type="button"
            className="button button-ghost button-small nav-toggle"
            onClick={onOpenNav}
            aria-haspopup="dialog"
            aria-expanded={navOpen ?? false}
            aria-label="Open settings menu"
            data-testid="nav-open"
          >
            <MenuIcon />
          </button>
        ) : null}
        <Link to={home} className="brand" aria-label="Gatehouse">
          <BrandMark /> <span className="brand-name">Gatehouse</span>
        </Link>
        {accountKey ? <AccountSwitcher key={accountKey} /> : <span className="app-header-spacer" />}
        {securityOnly ? null : (
          <Suspense fallback={<span className="bell-placeholder" />}>
            <NotificationBell />
          </Suspense>
        )}
        <UserMenu user={user} securityOnly={securityOnly} />
      </div>
    </header>
  );
}

function MenuIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M4 6h16M4 12h16M4 18h16"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
        fill="none"
      />
    </svg>
  );
}
