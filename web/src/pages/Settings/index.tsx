import { AppHeader } from "../../components/app-header";
import { Link } from "../../router";
import { usePageTitle } from "../../use-page-title";
import { useSessionInfo } from "../../use-session";
import { GeneralTab } from "./general-tab";
import { ProfileTab } from "./profile-tab";
import { SecurityTab } from "./security-tab";

export const SETTINGS_TABS = [
  { key: "general", label: "General" },
  { key: "profile", label: "Profile" },
  { key: "security", label: "Security" },
] as const;

export type SettingsTabKey = (typeof SETTINGS_TABS)[number]["key"];

export function isSettingsTab(value: string): value is SettingsTabKey {
  return SETTINGS_TABS.some((tab) => tab.key === value);
}

export function SettingsPage({ tab }: { tab: SettingsTabKey }) {
  const { user } = useSessionInfo();
  const current = SETTINGS_TABS.find((candidate) => candidate.key === tab);
  usePageTitle(`${current?.label ?? "Settings"} settings`);

  return (
    <div className="app-shell">
      <AppHeader user={user} />
      <main id="main" className="settings">
        <h1>Settings</h1>
        <nav className="tabs" aria-label="Settings sections">
          {SETTINGS_TABS.map((candidate) => (
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
        {tab === "general" ? <GeneralTab /> : null}
        {tab === "profile" ? <ProfileTab /> : null}
        {tab === "security" ? <SecurityTab /> : null}
      </main>
    </div>
  );
}
