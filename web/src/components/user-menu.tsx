import { useState } from "react";
import { navigate } from "../router";
import { settingsPage } from "../settings-nav";
import type { Me } from "../types";
import { useSession } from "../use-session";
import { SwitchAccountDialog } from "./account-switcher";
import { Avatar } from "./avatar";
import { Menu, type MenuItem } from "./menu";

export function displayName(user: Me): string {
  const parts = [user.first_name, user.last_name].filter(Boolean).join(" ");
  return user.full_name || parts || user.username || user.email;
}

/**
 * The header's avatar menu: who is signed in, their personal pages, switching accounts, and log-out
 * (while only Security is allowed: Security and log-out).
 */
export function UserMenu({ user, securityOnly }: { user: Me; securityOnly: boolean }) {
  const { signOut } = useSession();
  const [leaving, setLeaving] = useState(false);
  const [switching, setSwitching] = useState(false);
  const name = displayName(user);

  async function logOut() {
    setLeaving(true);
    await signOut();
    navigate("/login");
  }

  const pageItem = (key: "profile" | "security" | "preferences"): MenuItem => {
    const page = settingsPage(key);
    return { key, label: page.label, testId: `user-menu-${key}`, onSelect: () => navigate(page.path) };
  };
  const items: MenuItem[] = [
    ...(securityOnly
      ? [pageItem("security")]
      : [
          pageItem("profile"),
          pageItem("security"),
          pageItem("preferences"),
          {
            key: "switch-account",
            label: "Switch account…",
            testId: "user-menu-switch-account",
            separated: true,
            onSelect: () => setSwitching(true),
          },
        ]),
    {
      key: "logout",
      label: leaving ? "Logging out…" : "Log out",
      testId: "logout",
      separated: true,
      onSelect: logOut,
    },
  ];

  return (
    <>
      <Menu
        testId="user-menu"
        label={`${name}: your profile, security, preferences, accounts and log-out`}
        buttonClassName="user-menu-button"
        heading={
          <span className="menu-item-text">
            <span className="menu-item-title" data-testid="user-menu-name">
              {name}
            </span>
            {name !== user.email ? <span className="menu-item-sub break">{user.email}</span> : null}
          </span>
        }
        items={items}
      >
        <Avatar name={name} url={user.avatar_url} colourKey={user.id} testId="user-menu-avatar" />
        <span className="user-menu-name" aria-hidden="true">
          {name}
        </span>
      </Menu>
      {switching ? <SwitchAccountDialog onClose={() => setSwitching(false)} /> : null}
    </>
  );
}
