// What the webhooks list, an endpoint's page and the dialogs share: paths and the event catalog.
import { useMemo } from "react";
import type { EventType } from "../../types";
import { useResource } from "../../use-resource";
import { useAccountPath } from "./account-data";

export type WebhookPaths = {
  list: string;
  webhook(id: string): string;
  test(id: string): string;
  rotate(id: string): string;
  deliveries(id: string): string;
  retry(id: string, deliveryId: string): string;
};

export function useWebhookPaths(): WebhookPaths {
  const account = useAccountPath();
  return useMemo(() => {
    const webhook = (id: string) => `${account}/webhooks/${encodeURIComponent(id)}`;
    return {
      list: `${account}/webhooks`,
      webhook,
      test: (id) => `${webhook(id)}/test`,
      rotate: (id) => `${webhook(id)}/rotate-secret`,
      deliveries: (id) => `${webhook(id)}/deliveries`,
      retry: (id, deliveryId) => `${webhook(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`,
    };
  }, [account]);
}

/** `GET /event-types`: every event an endpoint can listen to, with a description and an example. */
export function useEventTypes(): { types: EventType[] | null; error: string | null; reload(): void } {
  const catalog = useResource<{ data: EventType[] }>("/event-types");
  return { types: catalog.data?.data ?? null, error: catalog.error, reload: catalog.reload };
}
