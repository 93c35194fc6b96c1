import { useState } from "react";
import { relativeTime } from "../../api-keys";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { Link } from "../../router";
import { settingsItemPath } from "../../settings-nav";
import type { ApiKey, ApiKeyWithSecret } from "../../types";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { useToast } from "../../use-toast";
import { ApiKeyDetail } from "./api-key-detail";
import { ApiKeySecretDialog, CreateApiKeyDialog, RevokeApiKeyDialog } from "./api-key-dialogs";
import { useApiKeyPaths, useMemberNames } from "./api-keys-data";
import type { SettingsPageProps } from "./pages";

type OpenDialog =
  | { kind: "create" }
  | { kind: "secret"; key: ApiKeyWithSecret }
  | { kind: "revoke"; key: ApiKey }
  | null;

/** Settings → API keys: the account's keys; `/settings/api-keys/{id}` is one key's page. */
export function ApiKeysTab({ itemId = null }: SettingsPageProps) {
  if (itemId !== null) return <ApiKeyDetail keyId={itemId} />;
  return <ApiKeysList />;
}

function ApiKeysList() {
  const paths = useApiKeyPaths();
  const keys = usePagedList<ApiKey>(paths.list, 50);
  const names = useMemberNames(keys.items.map((key) => key.created_by));
  const toast = useToast();
  const [dialog, setDialog] = useState<OpenDialog>(null);

  return (
    <div className="stack">
      <section className="card" aria-labelledby="api-keys-heading">
        <div className="card-header">
          <h2 id="api-keys-heading">API keys</h2>
          <button
            type="button"
            className="button button-small"
            onClick={() => setDialog({ kind: "create" })}
            data-testid="api-key-create"
          >
            New API key
          </button>
        </div>
        {keys.error ? <FormAlert>{keys.error}</FormAlert> : null}
        {keys.status === "loading" ? (
          <LoadingBlock label="Loading API keys…" table={{ columns: 6, rows: 3 }} />
        ) : keys.status === "ready" && keys.items.length === 0 ? (
          <p className="muted" data-testid="api-keys-empty">
            No API keys yet. A key lets a program — your product's backend, a script, a CI job — call the
            Gatehouse API for this account without a person logging in. It can do only what its scopes allow,
            and never more than you can. Create one to get started.
          </p>
        ) : keys.items.length > 0 ? (
          <ApiKeysTable
            keys={keys.items}
            names={names}
            onRevoke={(key) => setDialog({ kind: "revoke", key })}
          />
        ) : null}
        <LoadMore list={keys} />
      </section>

      {dialog?.kind === "create" ? (
        <CreateApiKeyDialog
          onClose={() => setDialog(null)}
          onCreated={(key) => {
            setDialog({ kind: "secret", key });
            keys.reload();
          }}
        />
      ) : null}
      {dialog?.kind === "secret" ? (
        <ApiKeySecretDialog apiKey={dialog.key} reason="created" onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "revoke" ? (
        <RevokeApiKeyDialog
          apiKey={dialog.key}
          onClose={() => setDialog(null)}
          onRevoked={() => {
            toast.show({ text: `Revoked ${dialog.key.name}.` });
            keys.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function ApiKeysTable({
  keys,
  names,
  onRevoke,
}: {
  keys: readonly ApiKey[];
  names: ReadonlyMap<string, string>;
  onRevoke: (key: ApiKey) => void;
}) {
  const formatDate = useFormatDate();
  const now = new Date();
  return (
    <table className="table responsive-table api-keys-table">
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Scopes</th>
          <th scope="col">Created by</th>
          <th scope="col">Last used</th>
          <th scope="col">Expires</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {keys.map((key) => (
          <tr key={key.id} data-testid="api-key-row" data-key-id={key.id} data-name={key.name}>
            <td data-label="Name" className="cell-primary">
              <span className="member-name">
                <Link to={settingsItemPath("api-keys", key.id)} data-testid="api-key-link">
                  {key.name}
                </Link>
              </span>
              <code className="key-prefix" data-testid="api-key-prefix">
                {key.prefix}
              </code>
            </td>
            <td data-label="Scopes">
              <ScopeList scopes={key.scopes} effective={key.effective_scopes} />
            </td>
            <td data-label="Created by">{names.get(key.created_by) ?? <code>{key.created_by}</code>}</td>
            <td data-label="Last used" data-testid="api-key-last-used">
              <LastUsed apiKey={key} now={now} formatDate={formatDate} />
            </td>
            <td data-label="Expires">
              <Expiry apiKey={key} now={now} formatDate={formatDate} />
            </td>
            <td className="cell-actions">
              <button
                type="button"
                className="button button-danger button-small"
                onClick={() => onRevoke(key)}
                aria-label={`Revoke ${key.name}`}
                data-testid="api-key-revoke"
              >
                Revoke
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** "3 scopes", opening to the list; a scope its creator no longer holds is marked. */
export function ScopeList({
  scopes,
  effective,
  open = false,
}: {
  scopes: readonly string[];
  effective: readonly string[];
  open?: boolean;
}) {
  const inactive = scopes.filter((scope) => !effective.includes(scope));
  const chips = (
    <ul className="permission-chips" data-testid="api-key-scopes">
      {scopes.map((scope) => (
        <li key={scope}>
          <code
            className={inactive.includes(scope) ? "scope-inactive" : undefined}
            title={inactive.includes(scope) ? "Its creator no longer holds this permission" : undefined}
          >
            {scope}
          </code>
          {inactive.includes(scope) ? <span className="visually-hidden"> (not in effect)</span> : null}
        </li>
      ))}
    </ul>
  );
  if (open) return chips;
  return (
    <details className="permission-details">
      <summary>
        {scopes.length} scope{scopes.length === 1 ? "" : "s"}
        {inactive.length > 0 ? ` (${inactive.length} not in effect)` : ""}
      </summary>
      {chips}
    </details>
  );
}

type FormatDate = (iso: string | null | undefined) => string;

export function LastUsed({ apiKey, now, formatDate }: { apiKey: ApiKey; now: Date; formatDate: FormatDate }) {
  if (!apiKey.last_used_at) return <span className="muted">Never</span>;
  return (
    <>
      <time dateTime={apiKey.last_used_at} title={formatDate(apiKey.last_used_at)}>
        {relativeTime(apiKey.last_used_at, now)}
      </time>
      {apiKey.last_used_ip ? <span className="member-email">from {apiKey.last_used_ip}</span> : null}
    </>
  );
}

export function Expiry({ apiKey, now, formatDate }: { apiKey: ApiKey; now: Date; formatDate: FormatDate }) {
  if (!apiKey.expires_at) return <span className="muted">Never</span>;
  const expired = new Date(apiKey.expires_at).getTime() <= now.getTime();
  return (
    <>
      {expired ? <span className="badge badge-danger">Expired</span> : null}{" "}
      <time dateTime={apiKey.expires_at} title={formatDate(apiKey.expires_at)}>
        {expired ? formatDate(apiKey.expires_at) : relativeTime(apiKey.expires_at, now)}
      </time>
    </>
  );
}
