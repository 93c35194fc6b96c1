import type { ComponentType } from "react";
import type { SettingsPageKey } from "../../settings-nav";
import { usePermissions } from "../../use-permissions";
import { AccountTab } from "./account-tab";
import { ApiKeysTab } from "./api-keys-tab";
import { AssignmentsTab } from "./assignments-tab";
import { AuditTab } from "./audit-tab";
import { BillingTab } from "./billing-tab";
import { BrandingTab } from "./branding-tab";
import { ConnectedAppsTab } from "./connected-apps-tab";
import { DataTab } from "./data-tab";
import { DomainsTab } from "./domains-tab";
import { GeneralTab } from "./general-tab";
import { NotificationsTab } from "./notifications-tab";
import { OverviewTab } from "./overview-tab";
import { PeopleTab } from "./people-tab";
import { ProfileTab } from "./profile-tab";
import { RolesTab } from "./roles-tab";
import { SecurityPolicyCard } from "./security-policy-card";
import { SecurityTab } from "./security-tab";
import { TeamsTab } from "./teams-tab";
import { UsersTab } from "./users-tab";
import { WebhooksTab } from "./webhooks-tab";

/** What every settings page is given: the item a deep link names (`/settings/teams/{id}`), if any. */
export type SettingsPageProps = { itemId: string | null };

function SecurityPolicyPage() {
  const { can } = usePermissions();
  return <SecurityPolicyCard editable={can("security:manage")} />;
}

/** The component of each page in settings-nav.ts; a page listed there without one here fails tsc. */
export const SETTINGS_PAGE_COMPONENTS = {
  profile: ProfileTab,
  security: SecurityTab,
  preferences: GeneralTab,
  notifications: NotificationsTab,
  overview: OverviewTab,
  members: UsersTab,
  people: PeopleTab,
  teams: TeamsTab,
  roles: RolesTab,
  assignments: AssignmentsTab,
  "api-keys": ApiKeysTab,
  webhooks: WebhooksTab,
  "connected-apps": ConnectedAppsTab,
  "audit-log": AuditTab,
  "security-policy": SecurityPolicyPage,
  organization: AccountTab,
  branding: BrandingTab,
  domains: DomainsTab,
  data: DataTab,
  billing: BillingTab,
} satisfies Record<SettingsPageKey, ComponentType<SettingsPageProps>>;
