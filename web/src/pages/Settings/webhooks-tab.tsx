import { useEffect, useState } from "react";
import { withQuery } from "../../api";
import { relativeTime } from "../../api-keys";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { Link } from "../../router";
import { settingsItemPath } from "../../settings-nav";
import type { Page, Webhook, WebhookDelivery, WebhookWithSecret } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { eventsSummary } from "../../webhooks";
import type { SettingsPageProps } from "./pages";
import { DeliveryStatusBadge, WebhookDetail } from "./webhook-detail";
import { CreateWebhookDialog, WebhookSecretDialog } from "./webhook-dialogs";
import { useWebhookPaths } from "./webhooks-data";

type OpenDialog = { kind: "create" } | { kind: "secret"; webhook: WebhookWithSecret } | null;

/** Settings → Webhooks: the account's endpoints; `/settings/webhooks/{id}` is one endpoint's page. */
export function WebhooksTab({ itemId = null }: SettingsPageProps) {
  if (itemId !== null) return <WebhookDetail webhookId={itemId} />;
  return <WebhooksList />;
}

function WebhooksList() {
  const paths = useWebhookPaths();
  const webhooks = usePagedList<Webhook>(paths.list, 50);
  const last = useLastDeliveries(webhooks.items.map((webhook) => webhook.id));
  const [dialog, setDialog] = useState<OpenDialog>(null);

  return (
    <div className="stack">
      <section className="card" aria-labelledby="webhooks-heading">
        <div className="card-header">
          <h2 id="webhooks-heading">Webhook endpoints</h2>
          <button
            type="button"
            className="button button-small"
            onClick={() => setDialog({ kind: "create" })}
            data-testid="webhook-create"
          >
            Add endpoint
          </button>
        </div>
        {webhooks.error ? <FormAlert testId="webhooks-error">{webhooks.error}</FormAlert> : null}
        {webhooks.status === "loading" ? (
          <LoadingBlock label="Loading webhook endpoints…" table={{ columns: 4, rows: 2 }} />
        ) : webhooks.status === "ready" && webhooks.items.length === 0 ? (
          <p className="muted" data-testid="webhooks-empty">
            No webhook endpoints yet. An endpoint is a URL of yours that Gatehouse calls when something
            happens in this account — a member invited, a role changed, an invoice paid — so your systems can
            follow along without asking. Add one to get started.
          </p>
        ) : webhooks.items.length > 0 ? (
          <table className="table responsive-table webhooks-table">
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
                <th scope="col">Last delivery</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.items.map((webhook) => (
                <tr
                  key={webhook.id}
                  data-testid="webhook-row"
                  data-webhook-id={webhook.id}
                  data-url={webhook.url}
                >
                  <td data-label="Endpoint" className="cell-primary">
                    <Link
                      to={settingsItemPath("webhooks", webhook.id)}
                      className="webhook-url"
                      data-testid="webhook-link"
                    >
                      {webhook.url}
                    </Link>
                    {webhook.description ? <span className="member-email">{webhook.description}</span> : null}
                  </td>
                  <td data-label="Events" data-testid="webhook-events-count">
                    {eventsSummary(webhook.events)}
                  </td>
                  <td data-label="Status">
                    <EnabledBadge enabled={webhook.enabled} />
                  </td>
                  <td data-label="Last delivery" data-testid="webhook-last-delivery">
                    <LastDelivery delivery={last.get(webhook.id)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <LoadMore list={webhooks} />
      </section>

      {dialog?.kind === "create" ? (
        <CreateWebhookDialog
          onClose={() => setDialog(null)}
          onCreated={(webhook) => {
            setDialog({ kind: "secret", webhook });
            webhooks.reload();
          }}
        />
      ) : null}
      {dialog?.kind === "secret" ? (
        <WebhookSecretDialog webhook={dialog.webhook} reason="created" onClose={() => setDialog(null)} />
      ) : null}
    </div>
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return enabled ? (
    <span className="badge badge-success" data-testid="webhook-enabled" data-enabled="true">
      Enabled
    </span>
  ) : (
    <span className="badge" data-testid="webhook-enabled" data-enabled="false">
      Disabled
    </span>
  );
}

function LastDelivery({ delivery }: { delivery: WebhookDelivery | null | undefined }) {
  const formatDate = useFormatDate();
  if (delivery === undefined) return <span className="muted">…</span>;
  if (delivery === null) return <span className="muted">None yet</span>;
  return (
    <>
      <DeliveryStatusBadge status={delivery.status} />{" "}
      <time dateTime={delivery.created_at} title={formatDate(delivery.created_at)}>
        {relativeTime(delivery.created_at, new Date())}
      </time>
    </>
  );
}

/** Each endpoint's newest delivery (null: none yet; missing: not known yet, or not answered). */
function useLastDeliveries(ids: readonly string[]): ReadonlyMap<string, WebhookDelivery | null> {
  const api = useApi();
  const paths = useWebhookPaths();
  const [found, setFound] = useState<ReadonlyMap<string, WebhookDelivery | null>>(new Map());
  const key = ids.join(" ");

  useEffect(() => {
    if (!key) return;
    let cancelled = false;
    Promise.all(
      key.split(" ").map((id) =>
        api.get<Page<WebhookDelivery>>(withQuery(paths.deliveries(id), { limit: 1 })).then(
          (page) => [id, page.data[0] ?? null] as const,
          () => null,
        ),
      ),
    ).then((answers) => {
      if (!cancelled) setFound(new Map(answers.filter((answer) => answer !== null)));
    });
    return () => {
      cancelled = true;
    };
  }, [api, paths, key]);

  return found;
}
