import { Fragment, useCallback, useEffect, useState } from "react";
import { relativeTime } from "../../api-keys";
import { FormAlert } from "../../components/form-alert";
import { LinkedItemMissing } from "../../components/linked-item-missing";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock, LoadingCard } from "../../components/skeleton";
import { errorCode, explainError } from "../../error-messages";
import { Link, navigate } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { DeliveryStatus, Webhook, WebhookDelivery, WebhookWithSecret } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { useToast } from "../../use-toast";
import { ALL_EVENTS, webhookHost } from "../../webhooks";
import {
  DeleteWebhookDialog,
  EditWebhookDialog,
  RotateWebhookSecretDialog,
  WebhookSecretDialog,
} from "./webhook-dialogs";
import { useWebhookPaths } from "./webhooks-data";
import { EnabledBadge } from "./webhooks-tab";

type OpenDialog =
  | { kind: "edit" }
  | { kind: "rotate" }
  | { kind: "delete" }
  | { kind: "secret"; webhook: WebhookWithSecret }
  | null;

const LIST_PATH = settingsPage("webhooks").path;

/** The endpoint, keeping the error itself (not only its message): a 404 means it is gone. */
function useWebhook(webhookId: string) {
  const api = useApi();
  const paths = useWebhookPaths();
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<{ webhook: Webhook | null; error: unknown }>({
    webhook: null,
    error: null,
  });

  useEffect(() => {
    void attempt; // a bump from reload() re-runs this effect
    let cancelled = false;
    api.get<Webhook>(paths.webhook(webhookId)).then(
      (webhook) => {
        if (!cancelled) setState({ webhook, error: null });
      },
      (error: unknown) => {
        if (!cancelled)
          setState((current) => ({
            webhook: current.webhook?.id === webhookId ? current.webhook : null,
            error,
          }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, paths, webhookId, attempt]);

  const reload = useCallback(() => setAttempt((count) => count + 1), []);
  return { ...state, webhook: state.webhook?.id === webhookId ? state.webhook : null, reload };
}

/** `/settings/webhooks/{id}`: one endpoint, its actions and its delivery log. */
export function WebhookDetail({ webhookId }: { webhookId: string }) {
  const webhook = useWebhook(webhookId);
  const paths = useWebhookPaths();
  const deliveries = usePagedList<WebhookDelivery>(paths.deliveries(webhookId), 25);

  return (
    <div className="stack">
      <p className="back-link">
        <Link to={LIST_PATH} data-testid="webhooks-back">
          ← All webhook endpoints
        </Link>
      </p>
      {webhook.webhook ? (
        <>
          <WebhookSummaryCard
            webhook={webhook.webhook}
            onChanged={webhook.reload}
            onTested={deliveries.reload}
          />
          <DeliveryLogCard webhookId={webhookId} deliveries={deliveries} />
        </>
      ) : errorCode(webhook.error) === "not_found" ? (
        <LinkedItemMissing what="webhook endpoint" />
      ) : webhook.error ? (
        <FormAlert testId="webhook-error">
          <p>The endpoint could not be loaded: {explainError(webhook.error)}</p>
          <button type="button" className="button button-secondary button-small" onClick={webhook.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingCard label="Loading the endpoint…" lines={5} />
      )}
    </div>
  );
}

function WebhookSummaryCard({
  webhook,
  onChanged,
  onTested,
}: {
  webhook: Webhook;
  onChanged: () => void;
  onTested: () => void;
}) {
  const api = useApi();
  const paths = useWebhookPaths();
  const formatDate = useFormatDate();
  const toast = useToast();
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const [testing, setTesting] = useState(false);
  const [testError, setTestError] = useState<string | null>(null);
  const host = webhookHost(webhook.url);

  async function sendTest() {
    setTesting(true);
    setTestError(null);
    try {
      await api.post(paths.test(webhook.id));
      toast.show({ text: `Sent a test event to ${host}.` });
      onTested();
    } catch (error) {
      setTestError(explainError(error));
    } finally {
      setTesting(false);
    }
  }

  return (
    <section className="card" aria-labelledby="webhook-heading" data-testid="webhook-summary">
      <div className="card-header">
        <h2 id="webhook-heading" className="webhook-title" data-testid="webhook-host">
          {host}
        </h2>
        <div className="button-row">
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={sendTest}
            disabled={testing}
            data-testid="webhook-test"
          >
            {testing ? "Sending…" : "Send test event"}
          </button>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => setDialog({ kind: "edit" })}
            data-testid="webhook-edit"
          >
            Edit
          </button>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => setDialog({ kind: "rotate" })}
            data-testid="webhook-rotate"
          >
            Rotate secret
          </button>
          <button
            type="button"
            className="button button-danger button-small"
            onClick={() => setDialog({ kind: "delete" })}
            data-testid="webhook-delete"
          >
            Delete
          </button>
        </div>
      </div>
      {testError ? (
        <FormAlert testId="webhook-test-error">The test event was not sent: {testError}</FormAlert>
      ) : null}
      <dl className="details">
        <div>
          <dt>URL</dt>
          <dd>
            <code className="break" data-testid="webhook-url">
              {webhook.url}
            </code>
          </dd>
        </div>
        {webhook.description ? (
          <div>
            <dt>Description</dt>
            <dd>{webhook.description}</dd>
          </div>
        ) : null}
        <div>
          <dt>Status</dt>
          <dd>
            <EnabledBadge enabled={webhook.enabled} />
          </dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd>
            {webhook.events.includes(ALL_EVENTS) ? (
              <span data-testid="webhook-event-list">All events</span>
            ) : (
              <ul className="permission-chips" data-testid="webhook-event-list">
                {webhook.events.map((type) => (
                  <li key={type}>
                    <code>{type}</code>
                  </li>
                ))}
              </ul>
            )}
          </dd>
        </div>
        <div>
          <dt>Added</dt>
          <dd>{formatDate(webhook.created_at)}</dd>
        </div>
      </dl>

      {dialog?.kind === "edit" ? (
        <EditWebhookDialog
          webhook={webhook}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            setDialog(null);
            toast.show({ text: `Saved ${webhookHost(saved.url)}.` });
            onChanged();
          }}
        />
      ) : null}
      {dialog?.kind === "rotate" ? (
        <RotateWebhookSecretDialog
          webhook={webhook}
          onClose={() => setDialog(null)}
          onRotated={(rotated) => setDialog({ kind: "secret", webhook: rotated })}
        />
      ) : null}
      {dialog?.kind === "secret" ? (
        <WebhookSecretDialog webhook={dialog.webhook} reason="rotated" onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "delete" ? (
        <DeleteWebhookDialog
          webhook={webhook}
          onClose={() => setDialog(null)}
          onDeleted={() => {
            toast.show({ text: `Deleted the endpoint ${host}.` });
            navigate(LIST_PATH);
          }}
        />
      ) : null}
    </section>
  );
}

const STATUS_LABELS: Record<DeliveryStatus, string> = {
  pending: "Pending",
  succeeded: "Succeeded",
  failed: "Failed",
};

const STATUS_BADGES: Record<DeliveryStatus, string> = {
  pending: "badge-warning",
  succeeded: "badge-success",
  failed: "badge-danger",
};

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return (
    <span
      className={`badge ${STATUS_BADGES[status] ?? ""}`}
      data-testid="delivery-status"
      data-status={status}
    >
      {STATUS_LABELS[status] ?? status}
    </span>
  );
}

function DeliveryLogCard({
  webhookId,
  deliveries,
}: {
  webhookId: string;
  deliveries: ReturnType<typeof usePagedList<WebhookDelivery>>;
}) {
  const api = useApi();
  const paths = useWebhookPaths();
  const formatDate = useFormatDate();
  const toast = useToast();
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [retrying, setRetrying] = useState<string | null>(null);
  const [retryError, setRetryError] = useState<string | null>(null);
  const now = new Date();

  function toggle(id: string) {
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function retry(delivery: WebhookDelivery) {
    setRetrying(delivery.id);
    setRetryError(null);
    try {
      await api.post(paths.retry(webhookId, delivery.id));
      toast.show({ text: `Retrying the ${delivery.event_type} delivery.` });
      deliveries.reload();
    } catch (error) {
      setRetryError(explainError(error));
    } finally {
      setRetrying(null);
    }
  }

  return (
    <section className="card" aria-labelledby="webhook-log-heading" data-testid="webhook-log">
      <div className="card-header">
        <h2 id="webhook-log-heading">Deliveries</h2>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={deliveries.reload}
          data-testid="webhook-log-refresh"
        >
          Refresh
        </button>
      </div>
      {deliveries.error ? (
        <FormAlert testId="webhook-log-error">
          The deliveries could not be loaded: {deliveries.error}
        </FormAlert>
      ) : null}
      {retryError ? <FormAlert testId="webhook-retry-error">The retry failed: {retryError}</FormAlert> : null}
      {deliveries.status === "loading" ? (
        <LoadingBlock label="Loading deliveries…" table={{ columns: 7, rows: 3 }} />
      ) : deliveries.status === "ready" && deliveries.items.length === 0 ? (
        <p className="muted" data-testid="webhook-log-empty">
          No deliveries yet. Send a test event, or wait for one of the endpoint's events to happen.
        </p>
      ) : deliveries.items.length > 0 ? (
        <table className="table responsive-table webhook-log-table">
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Response</th>
              <th scope="col">Time</th>
              <th scope="col">Next attempt</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {deliveries.items.map((delivery) => {
              const expanded = open.has(delivery.id);
              const bodyId = `delivery-body-${delivery.id}`;
              return (
                <Fragment key={delivery.id}>
                  <tr
                    data-testid="delivery-row"
                    data-delivery-id={delivery.id}
                    data-event-type={delivery.event_type}
                    data-status={delivery.status}
                    data-response-status={delivery.response_status ?? ""}
                  >
                    <td data-label="Event" className="cell-primary">
                      <button
                        type="button"
                        className="row-expander"
                        aria-expanded={expanded}
                        aria-controls={bodyId}
                        onClick={() => toggle(delivery.id)}
                        data-testid="delivery-expand"
                      >
                        <span aria-hidden="true">{expanded ? "▾" : "▸"}</span>{" "}
                        <code>{delivery.event_type}</code>
                        <span className="visually-hidden">: {expanded ? "hide" : "show"} the response</span>
                      </button>
                    </td>
                    <td data-label="Status">
                      <DeliveryStatusBadge status={delivery.status} />
                    </td>
                    <td data-label="Attempts" data-testid="delivery-attempts">
                      {delivery.attempts}
                    </td>
                    <td data-label="Response" data-testid="delivery-response-status">
                      {delivery.response_status ?? <span className="muted">—</span>}
                      {delivery.duration_ms != null ? (
                        <span className="member-email">{delivery.duration_ms.toLocaleString()} ms</span>
                      ) : null}
                    </td>
                    <td data-label="Time" className="cell-time">
                      <time dateTime={delivery.created_at} title={formatDate(delivery.created_at)}>
                        {relativeTime(delivery.created_at, now)}
                      </time>
                    </td>
                    <td data-label="Next attempt">
                      {delivery.next_attempt_at ? (
                        <time
                          dateTime={delivery.next_attempt_at}
                          title={formatDate(delivery.next_attempt_at)}
                        >
                          {relativeTime(delivery.next_attempt_at, now)}
                        </time>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="cell-actions">
                      {delivery.status === "succeeded" ? null : (
                        <button
                          type="button"
                          className="button button-secondary button-small"
                          onClick={() => retry(delivery)}
                          disabled={retrying !== null}
                          aria-label={`Retry the ${delivery.event_type} delivery`}
                          data-testid="delivery-retry"
                        >
                          {retrying === delivery.id ? "Retrying…" : "Retry"}
                        </button>
                      )}
                    </td>
                  </tr>
                  <tr id={bodyId} className="delivery-body-row" hidden={!expanded}>
                    <td colSpan={7}>
                      {expanded ? (
                        delivery.response_body ? (
                          <pre className="code-block" data-testid="delivery-response-body">
                            {delivery.response_body}
                          </pre>
                        ) : (
                          <p className="muted" data-testid="delivery-response-body">
                            {delivery.response_status === null
                              ? "No response: the endpoint could not be reached."
                              : "The response had no body."}
                          </p>
                        )
                      ) : null}
                    </td>
                  </tr>
                </Fragment>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <LoadMore list={deliveries} />
    </section>
  );
}
