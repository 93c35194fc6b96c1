import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { usageSummary } from "../../api-keys";
import { FormAlert } from "../../components/form-alert";
import { LinkedItemMissing } from "../../components/linked-item-missing";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock, LoadingCard, Skeleton } from "../../components/skeleton";
import { errorCode, explainError } from "../../error-messages";
import { Link, navigate } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { ApiKey, ApiKeyLogEntry, ApiKeyUsageDay, ApiKeyWithSecret } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import {
  ApiKeySecretDialog,
  EditApiKeyDialog,
  RevokeApiKeyDialog,
  RotateApiKeyDialog,
} from "./api-key-dialogs";
import { useApiKeyPaths, useMemberNames } from "./api-keys-data";
import { Expiry, LastUsed, ScopeList } from "./api-keys-tab";

// recharts is large: its chunk loads only when a key's page opens.
const UsageChart = lazy(() => import("./api-key-usage-chart"));

type OpenDialog =
  | { kind: "edit" }
  | { kind: "rotate" }
  | { kind: "revoke" }
  | { kind: "secret"; key: ApiKeyWithSecret }
  | null;

const LIST_PATH = settingsPage("api-keys").path;

/** `/settings/api-keys/{id}`: one key's summary, its last 30 days of use and its request log. */
/** The key, keeping the error itself (not only its message): a 404 means it is gone. */
function useApiKey(keyId: string) {
  const api = useApi();
  const paths = useApiKeyPaths();
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<{ key: ApiKey | null; error: unknown }>({ key: null, error: null });

  useEffect(() => {
    void attempt; // a bump from reload() re-runs this effect
    let cancelled = false;
    api.get<ApiKey>(paths.key(keyId)).then(
      (key) => {
        if (!cancelled) setState({ key, error: null });
      },
      (error: unknown) => {
        if (!cancelled)
          setState((current) => ({ key: current.key?.id === keyId ? current.key : null, error }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, paths, keyId, attempt]);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);
  return { ...state, key: state.key?.id === keyId ? state.key : null, reload };
}

/** `/settings/api-keys/{id}`: one key's summary, its last 30 days of use and its request log. */
export function ApiKeyDetail({ keyId }: { keyId: string }) {
  const key = useApiKey(keyId);

  return (
    <div className="stack">
      <p className="back-link">
        <Link to={LIST_PATH} data-testid="api-keys-back">
          ← All API keys
        </Link>
      </p>
      {key.key ? (
        <>
          <KeySummaryCard apiKey={key.key} onChanged={key.reload} />
          <UsageCard keyId={keyId} />
          <RequestLogCard keyId={keyId} />
        </>
      ) : errorCode(key.error) === "not_found" ? (
        <LinkedItemMissing what="API key" />
      ) : key.error ? (
        <FormAlert>
          <p>The API key could not be loaded: {explainError(key.error)}</p>
          <button type="button" className="button button-secondary button-small" onClick={key.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingCard label="Loading the API key…" lines={6} />
      )}
    </div>
  );
}

function KeySummaryCard({ apiKey, onChanged }: { apiKey: ApiKey; onChanged: () => void }) {
  const { user } = useSessionInfo();
  const names = useMemberNames([apiKey.created_by]);
  const formatDate = useFormatDate();
  const toast = useToast();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const mine = apiKey.created_by === user.id;
  const now = new Date();
  const creator = names.get(apiKey.created_by);

  return (
    <section className="card" aria-labelledby="api-key-heading" data-testid="api-key-summary">
      <div className="card-header">
        <h2 id="api-key-heading" data-testid="api-key-name">
          {apiKey.name}
        </h2>
        <div className="button-row">
          {mine ? (
            <>
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => setDialog({ kind: "edit" })}
                data-testid="api-key-edit"
              >
                Edit
              </button>
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() => setDialog({ kind: "rotate" })}
                data-testid="api-key-rotate"
              >
                Rotate
              </button>
            </>
          ) : null}
          <button
            type="button"
            className="button button-danger button-small"
            onClick={() => setDialog({ kind: "revoke" })}
            data-testid="api-key-revoke"
          >
            Revoke
          </button>
        </div>
      </div>
      {mine ? null : (
        <p className="muted">
          Only {creator ?? "its creator"} can rename, rescope or rotate this key; anyone who manages API keys
          can revoke it.
        </p>
      )}
      <dl className="details">
        <div>
          <dt>Prefix</dt>
          <dd>
            <code data-testid="api-key-prefix">{apiKey.prefix}</code>
          </dd>
        </div>
        <div>
          <dt>Scopes</dt>
          <dd>
            <ScopeList scopes={apiKey.scopes} effective={apiKey.effective_scopes} open />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>
            {formatDate(apiKey.created_at)} by {creator ?? <code>{apiKey.created_by}</code>}
          </dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd>
            <LastUsed apiKey={apiKey} now={now} formatDate={formatDate} />
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            <Expiry apiKey={apiKey} now={now} formatDate={formatDate} />
          </dd>
        </div>
        <div>
          <dt>Allowed IP addresses</dt>
          <dd>
            {apiKey.allowed_ips.length === 0 ? (
              <span className="muted">Any address the account allows</span>
            ) : (
              <ul className="permission-chips" data-testid="api-key-allowed-ips">
                {apiKey.allowed_ips.map((ip) => (
                  <li key={ip}>
                    <code>{ip}</code>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        {apiKey.previous_secret_expires_at ? (
          <div>
            <dt>Previous secret</dt>
            <dd>Works until {formatDate(apiKey.previous_secret_expires_at)}</dd>
          </div>
        ) : null}
      </dl>

      {dialog?.kind === "edit" ? (
        <EditApiKeyDialog
          apiKey={apiKey}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            setDialog(null);
            toast.show({ text: `Saved ${saved.name}.` });
            onChanged();
          }}
        />
      ) : null}
      {dialog?.kind === "rotate" ? (
        <RotateApiKeyDialog
          apiKey={apiKey}
          onClose={() => setDialog(null)}
          onRotated={(key) => {
            setDialog({ kind: "secret", key });
            onChanged();
          }}
        />
      ) : null}
      {dialog?.kind === "secret" ? (
        <ApiKeySecretDialog apiKey={dialog.key} reason="rotated" onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "revoke" ? (
        <RevokeApiKeyDialog
          apiKey={apiKey}
          onClose={() => setDialog(null)}
          onRevoked={() => {
            toast.show({ text: `Revoked ${apiKey.name}.` });
            navigate(LIST_PATH);
          }}
        />
      ) : null}
    </section>
  );
}

function UsageCard({ keyId }: { keyId: string }) {
  const paths = useApiKeyPaths();
  const usage = useResource<{ data: ApiKeyUsageDay[] }>(paths.usage(keyId));
  const days = usage.data?.data;
  const summaryId = "api-key-usage-summary";

  return (
    <section className="card" aria-labelledby="api-key-usage-heading" data-testid="api-key-usage">
      <div className="card-header">
        <h2 id="api-key-usage-heading">Requests in the last 30 days</h2>
        <button type="button" className="button button-secondary button-small" onClick={usage.reload}>
          Refresh
        </button>
      </div>
      {usage.error ? (
        <FormAlert testId="api-key-usage-error">The usage could not be loaded: {usage.error}</FormAlert>
      ) : null}
      {days ? (
        <>
          <p id={summaryId} data-testid="api-key-usage-summary">
            {usageSummary(days)}
          </p>
          <Suspense fallback={<Skeleton height={220} />}>
            <UsageChart days={days} />
          </Suspense>
          <details className="usage-table-details">
            <summary>Show as a table</summary>
            <table className="table usage-table" data-testid="api-key-usage-table">
              <caption className="visually-hidden">Requests a day by status class</caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Requests</th>
                  <th scope="col">2xx</th>
                  <th scope="col">4xx</th>
                  <th scope="col">5xx</th>
                </tr>
              </thead>
              <tbody>
                {days.map((day) => (
                  <tr key={day.date} data-date={day.date} data-requests={day.requests}>
                    <th scope="row">{day.date}</th>
                    <td>{day.requests}</td>
                    <td>{day.status_2xx}</td>
                    <td>{day.status_4xx}</td>
                    <td>{day.status_5xx}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      ) : usage.loading ? (
        <LoadingBlock label="Loading usage…" lines={4} />
      ) : null}
    </section>
  );
}

function RequestLogCard({ keyId }: { keyId: string }) {
  const paths = useApiKeyPaths();
  const log = usePagedList<ApiKeyLogEntry>(paths.logs(keyId), 25);
  const formatDate = useFormatDate();

  return (
    <section className="card" aria-labelledby="api-key-log-heading" data-testid="api-key-log">
      <div className="card-header">
        <h2 id="api-key-log-heading">Request log</h2>
        <button type="button" className="button button-secondary button-small" onClick={log.reload}>
          Refresh
        </button>
      </div>
      {log.error ? (
        <FormAlert testId="api-key-log-error">The request log could not be loaded: {log.error}</FormAlert>
      ) : null}
      {log.status === "loading" ? (
        <LoadingBlock label="Loading requests…" table={{ columns: 6, rows: 3 }} />
      ) : log.status === "ready" && log.items.length === 0 ? (
        <p className="muted" data-testid="api-key-log-empty">
          No requests made with this key yet.
        </p>
      ) : log.items.length > 0 ? (
        <table className="table responsive-table api-key-log-table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Method</th>
              <th scope="col">Route</th>
              <th scope="col">Status</th>
              <th scope="col">IP</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {log.items.map((entry, index) => (
              <tr
                // biome-ignore lint/suspicious/noArrayIndexKey: log entries have no id, and rows hold no state
                key={index}
                data-testid="api-key-log-row"
                data-method={entry.method}
                data-route={entry.route}
                data-status={entry.status}
              >
                <td data-label="Time" className="cell-time">
                  <time dateTime={entry.at}>{formatDate(entry.at)}</time>
                </td>
                <td data-label="Method">
                  <code>{entry.method}</code>
                </td>
                <td data-label="Route" className="cell-route">
                  <code>{entry.route}</code>
                </td>
                <td data-label="Status">
                  <span className={`badge ${statusBadge(entry.status)}`}>{entry.status}</span>
                </td>
                <td data-label="IP">{entry.ip ?? "—"}</td>
                <td data-label="Duration">{entry.duration_ms.toLocaleString()} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={log} />
    </section>
  );
}

function statusBadge(status: number): string {
  if (status >= 500) return "badge-danger";
  if (status >= 400) return "badge-warning";
  return "badge-success";
}
