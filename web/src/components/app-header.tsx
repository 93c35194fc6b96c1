import { useState } from "react";
import { Link, navigate } from "../router";
import type { Me } from "../types";
import { useSession } from "../use-session";
import { AccountSwitcher } from "./account-switcher";
import { BrandMark } from "./auth-layout";

export function displayName(user: Me): string {
  const parts = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return user.full_name || parts || user.username || user.email;
}

/** `accountKey` changes when the account list may have (switch, join, create): the switcher re-reads it. */
export function AppHeader({ user, accountKey }: { user: Me; accountKey?: string | null }) {
  const { signOut } = useSession();
  const [leaving, setLeaving] = useState(false);

  async function logOut() {
    setLeaving(true);
    await signOut();
    navigate("/login");
  }

  return (
    <header className="app-header">
      <div className="app-header-inner">
        <Link to="/settings/profile" className="brand">
          <BrandMark /> <span className="brand-name">Gatehouse</span>
        </Link>
        {accountKey ? <AccountSwitcher key={accountKey} /> : null}
        <div className="app-header-user">
          <span className="user-name" title={user.email}>
            {displayName(user)}
          </span>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={logOut}
            disabled={leaving}
            data-testid="logout"
          >
            {leaving ? "Logging out…" : "Log out"}
          </button>
        </div>
      </div>
    </header>
  );
}
