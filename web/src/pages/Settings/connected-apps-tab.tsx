import { useState } from "react";
import { relativeTime } from "../../api-keys";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { type ConnectedApp, consentScopes, safeLogo, scopeWords } from "../../oidc";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useToast } from "../../use-toast";
import { useAccountPath } from "./account-data";

/**
 * Settings → Connected apps: the third-party applications this account's members signed in to with
 * Gatehouse (security:read), and revoking one for the whole account (security:manage).
 */
export function ConnectedAppsTab() {
  const api = useApi();
  const { can } = usePermissions();
  const toast = useToast();
  const path = `${useAccountPath()}/connected-apps`;
  const apps = useResource<{ data: ConnectedApp[] }>(path);
  const [revoking, setRevoking] = useState<ConnectedApp | null>(null);
  const canRevoke = can("security:manage");
  const items = apps.data?.data;

  return (
    <div className="stack">
      <section className="card" aria-labelledby="connected-apps-heading">
        <div className="card-header">
          <h2 id="connected-apps-heading">Connected apps</h2>
        </div>
        <p className="muted">
          Applications by other companies that members of this account signed in to with Gatehouse, and what
          they may see. Revoking one signs it out for every member of this account.
        </p>
        {apps.error ? <FormAlert testId="connected-apps-error">{apps.error}</FormAlert> : null}
        {items === undefined ? (
          apps.loading ? (
            <LoadingBlock label="Loading connected apps…" table={{ columns: 5, rows: 2 }} />
          ) : null
        ) : items.length === 0 ? (
          <p className="muted" data-testid="connected-apps-empty">
            No connected apps. When a member signs in to another company's application with Gatehouse and
            allows it to act in this account, it shows here, and you can revoke its access.
          </p>
        ) : (
          <ConnectedAppsTable apps={items} onRevoke={canRevoke ? setRevoking : null} />
        )}
      </section>

      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name}?`}
          confirmLabel="Revoke access"
          busyLabel="Revoking…"
          danger
          testId="connected-app-revoke-dialog"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            await api.delete(`${path}/${encodeURIComponent(revoking.client_id)}`);
            toast.show({ text: `Revoked ${revoking.name}.` });
            apps.reload();
          }}
        >
          <p>
            {revoking.name} stops working for the{" "}
            {revoking.members === 1 ? "member" : `${revoking.members} members`} of this account who allowed
            it: it can no longer refresh their sign-in, and what it already holds expires within 5 minutes. A
            member can allow it again by signing in to it.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

function ConnectedAppsTable({
  apps,
  onRevoke,
}: {
  apps: readonly ConnectedApp[];
  onRevoke: ((app: ConnectedApp) => void) | null;
}) {
  const formatDate = useFormatDate();
  const now = new Date();
  return (
    <table className="table responsive-table connected-apps-table">
      <thead>
        <tr>
          <th scope="col">Application</th>
          <th scope="col">Access</th>
          <th scope="col">Members</th>
          <th scope="col">Last authorized</th>
          {onRevoke ? (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {apps.map((app) => {
          const logo = safeLogo(app.logo_uri);
          return (
            <tr key={app.client_id} data-testid="connected-app-row" data-client-id={app.client_id}>
              <td data-label="Application" className="cell-primary">
                <span className="connected-app-name">
                  {logo ? (
                    <img src={logo} alt="" className="connected-app-logo" referrerPolicy="no-referrer" />
                  ) : null}
                  {app.name}
                </span>
              </td>
              <td data-label="Access">
                <details className="permission-details">
                  <summary>
                    {app.scopes.length} permission{app.scopes.length === 1 ? "" : "s"}
                  </summary>
                  <ul className="connected-app-scopes" data-testid="connected-app-scopes">
                    {consentScopes(app.scopes).map((scope) => (
                      <li key={scope}>
                        {scopeWords(scope)} <code>{scope}</code>
                      </li>
                    ))}
                  </ul>
                </details>
              </td>
              <td data-label="Members" data-testid="connected-app-members">
                {app.members}
              </td>
              <td data-label="Last authorized">
                <time dateTime={app.last_authorized_at} title={formatDate(app.last_authorized_at)}>
                  {relativeTime(app.last_authorized_at, now)}
                </time>
              </td>
              {onRevoke ? (
                <td className="cell-actions">
                  <button
                    type="button"
                    className="button button-danger button-small"
                    onClick={() => onRevoke(app)}
                    aria-label={`Revoke ${app.name}`}
                    data-testid="connected-app-revoke"
                  >
                    Revoke
                  </button>
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
