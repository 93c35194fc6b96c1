import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { webhooksLimitOf } from "../billing/plan-limits.js";
import type { Plan } from "../billing/plans.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { decodeNewestFirstCursor, newestFirstPage } from "../db/pages.js";
import { isEventType, TEST_EVENT_TYPE } from "../events/catalog.js";
import { AppError, type FieldError, invalidFields, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { encryptSecret } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import { type OutboundHttp, OutboundRefused } from "../lib/outbound-http.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import { newWebhookSecret } from "./signing.js";
import type { WebhookDeliveryService } from "./webhook-delivery.js";
import type {
  EndpointChanges,
  WebhookDelivery,
  WebhookEndpoint,
  WebhooksRepository,
} from "./webhooks.repository.js";

/** How long the secret replaced by a rotation keeps signing alongside the new one. */
export const WEBHOOK_ROTATION_OVERLAP_SECONDS = 86_400;

export type WebhookInput = { url: string; events: string[]; description?: string };
export type WebhookPatch = Partial<WebhookInput> & { enabled?: boolean };

/** Webhook endpoints of an account (webhooks:manage): create, change, rotate, test, and their deliveries. */
export function createWebhooksService(deps: {
  db: Db;
  clock: Clock;
  secretKey: Buffer;
  repository: WebhooksRepository;
  delivery: Pick<WebhookDeliveryService, "enqueueOne" | "kickAfterCommit">;
  outbound: Pick<OutboundHttp, "checkUrl">;
  access: AccessCache;
  accounts: Pick<AccountsRepository, "lock">;
  plans: readonly Plan[];
}) {
  const { db, clock, repository } = deps;
  const now = () => clock.now().toISOString();

  const manager = async (accountId: string, principalId: string) =>
    requirePermission(await deps.access.get(db, accountId, principalId), "webhooks:manage");

  async function findEndpoint(executor: Executor, accountId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await repository.findEndpoint(executor, accountId, id);
    if (!endpoint) throw notFound("Webhook");
    return endpoint;
  }

  /** Every field problem at once; the URL is checked against the outbound policy (SSRF) too. */
  async function validated(input: WebhookPatch): Promise<EndpointChanges> {
    const errors: FieldError[] = [];
    const changes: EndpointChanges = {};
    if (input.url !== undefined) {
      const url = input.url.trim();
      try {
        await deps.outbound.checkUrl(url);
        changes.url = url;
      } catch (error) {
        if (!(error instanceof OutboundRefused)) throw error;
        errors.push({ path: "url", code: `url_${error.reason}`, message: error.message });
      }
    }
    if (input.events !== undefined) {
      const types = [...new Set(input.events.map((t) => t.trim()))];
      const unknown = types.filter((t) => t !== "*" && !isEventType(t));
      if (unknown.length) {
        const named = unknown.map((t) => JSON.stringify(t.slice(0, 100))).join(", ");
        errors.push({
          path: "events",
          code: "unknown_event_type",
          message: `Unknown event type${unknown.length > 1 ? "s" : ""} ${named} (GET /api/v1/event-types lists them)`,
        });
      } else changes.events = types.includes("*") ? ["*"] : types;
    }
    if (input.description !== undefined) changes.description = input.description.trim();
    if (input.enabled !== undefined) changes.enabled = input.enabled;
    if (errors.length) throw invalidFields(errors);
    return changes;
  }

  const audit = (
    trx: Executor,
    actor: Actor,
    endpoint: Pick<WebhookEndpoint, "id" | "accountId">,
    action: string,
    changes: Record<string, unknown>,
  ) =>
    recordAudit(
      trx,
      actor,
      { accountId: endpoint.accountId, action, targetType: "webhook", targetId: endpoint.id, changes },
      clock.now(),
    );

  return {
    /** 201: the endpoint and its secret, shown this once; 402 past the plan's endpoint limit. */
    async create(
      actor: Actor & { id: string },
      accountId: string,
      input: WebhookInput,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      await manager(accountId, actor.id);
      const changes = await validated(input);
      const secret = newWebhookSecret();
      const id = newId("webhook");
      await transact(db, async (trx) => {
        // Under the account's lock: concurrent creations queue here, so none can pass the limit.
        await deps.accounts.lock(trx, accountId);
        const { planName, limit } = await webhooksLimitOf(trx, deps.plans, accountId);
        const used = await repository.countEndpoints(trx, accountId);
        if (limit !== null && used >= limit)
          throw new AppError(
            "plan_limit_reached",
            `The ${planName} plan allows ${limit} webhook endpoint${limit === 1 ? "" : "s"} and this account has ${used}. Delete one you no longer use, or upgrade the plan.`,
          );
        await repository.insertEndpoint(
          trx,
          {
            id,
            accountId,
            url: changes.url ?? "",
            description: changes.description ?? "",
            events: changes.events ?? [],
            secretSealed: encryptSecret(deps.secretKey, secret),
          },
          now(),
        );
        await audit(trx, actor, { id, accountId }, "webhook.created", {
          url: changes.url,
          events: changes.events,
          description: changes.description ?? "",
        });
      });
      return { endpoint: await findEndpoint(db, accountId, id), secret };
    },

    async list(principalId: string, accountId: string, page: { limit: number; cursor?: string | undefined }) {
      await manager(accountId, principalId);
      const rows = await repository.listEndpoints(db, accountId, {
        limit: page.limit + 1,
        after: page.cursor ? decodeNewestFirstCursor(page.cursor) : undefined,
      });
      const { items, nextCursor } = newestFirstPage(rows, page.limit);
      return { endpoints: items, nextCursor };
    },

    async get(principalId: string, accountId: string, id: string): Promise<WebhookEndpoint> {
      await manager(accountId, principalId);
      return findEndpoint(db, accountId, id);
    },

    async update(
      actor: Actor & { id: string },
      accountId: string,
      id: string,
      patch: WebhookPatch,
    ): Promise<WebhookEndpoint> {
      await manager(accountId, actor.id);
      await findEndpoint(db, accountId, id);
      const changes = await validated(patch);
      await transact(db, async (trx, effects) => {
        const before = await findEndpoint(trx, accountId, id);
        await repository.updateEndpoint(trx, accountId, id, changes, now());
        await audit(trx, actor, before, "webhook.updated", {
          ...(changes.url !== undefined && changes.url !== before.url ? { url: changes.url } : {}),
          ...(changes.events !== undefined ? { events: changes.events } : {}),
          ...(changes.description !== undefined && changes.description !== before.description
            ? { description: changes.description }
            : {}),
          ...(changes.enabled !== undefined && changes.enabled !== before.enabled
            ? { enabled: changes.enabled }
            : {}),
        });
        // Turned back on: what waited for it goes out now.
        if (changes.enabled && !before.enabled) deps.delivery.kickAfterCommit(effects);
      });
      return findEndpoint(db, accountId, id);
    },

    async remove(actor: Actor & { id: string }, accountId: string, id: string): Promise<void> {
      await manager(accountId, actor.id);
      await transact(db, async (trx) => {
        const endpoint = await findEndpoint(trx, accountId, id);
        if (!(await repository.deleteEndpoint(trx, accountId, id))) throw notFound("Webhook");
        await audit(trx, actor, endpoint, "webhook.deleted", { url: endpoint.url, events: endpoint.events });
      });
    },

    /**
     * A new secret; the current one keeps signing alongside it for 24 h, so receivers can switch
     * without missing a delivery. A secret left over from an earlier rotation stops now.
     */
    async rotateSecret(
      actor: Actor & { id: string },
      accountId: string,
      id: string,
    ): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      await manager(accountId, actor.id);
      const secret = newWebhookSecret();
      await transact(db, async (trx) => {
        const endpoint = await findEndpoint(trx, accountId, id);
        const previousExpiresAt = addSeconds(clock.now(), WEBHOOK_ROTATION_OVERLAP_SECONDS).toISOString();
        await repository.rotateSecret(
          trx,
          accountId,
          id,
          {
            sealed: encryptSecret(deps.secretKey, secret),
            previousSealed: endpoint.secretSealed,
            previousExpiresAt,
          },
          now(),
        );
        await audit(trx, actor, endpoint, "webhook.secret_rotated", {
          previous_secret_expires_at: previousExpiresAt,
        });
      });
      return { endpoint: await findEndpoint(db, accountId, id), secret };
    },

    /** Sends `webhook.test` to this endpoint only (409 while it is disabled). */
    async sendTest(actor: Actor & { id: string }, accountId: string, id: string): Promise<WebhookDelivery> {
      await manager(accountId, actor.id);
      const deliveryId = await transact(db, async (trx, effects) => {
        const endpoint = await findEndpoint(trx, accountId, id);
        if (!endpoint.enabled)
          throw new AppError("conflict", "This endpoint is disabled: turn it on to send it a test event");
        return deps.delivery.enqueueOne(trx, effects, endpoint, TEST_EVENT_TYPE, {
          webhook_id: endpoint.id,
          message: "A test event from Gatehouse: your endpoint receives and verifies webhooks.",
        });
      });
      return (await repository.findDelivery(db, accountId, id, deliveryId)) as WebhookDelivery;
    },

    async listDeliveries(
      principalId: string,
      accountId: string,
      id: string,
      page: { limit: number; cursor?: string | undefined },
    ) {
      await manager(accountId, principalId);
      await findEndpoint(db, accountId, id);
      const rows = await repository.listDeliveries(db, accountId, id, {
        limit: page.limit + 1,
        after: page.cursor ? decodeNewestFirstCursor(page.cursor) : undefined,
      });
      const { items, nextCursor } = newestFirstPage(rows, page.limit);
      return { deliveries: items, nextCursor };
    },

    /** A failed or waiting delivery is due now (409 while it is being sent or once it succeeded). */
    async retryDelivery(
      actor: Actor & { id: string },
      accountId: string,
      id: string,
      deliveryId: string,
    ): Promise<WebhookDelivery> {
      await manager(accountId, actor.id);
      await transact(db, async (trx, effects) => {
        const endpoint = await findEndpoint(trx, accountId, id);
        const delivery = await repository.findDelivery(trx, accountId, id, deliveryId);
        if (!delivery) throw notFound("Delivery");
        if (!(await repository.retryNow(trx, accountId, deliveryId, now())))
          throw new AppError(
            "conflict",
            delivery.status === "succeeded"
              ? "This delivery already succeeded"
              : "This delivery is being sent right now",
          );
        await audit(trx, actor, endpoint, "webhook.delivery_retried", { delivery_id: deliveryId });
        deps.delivery.kickAfterCommit(effects);
      });
      return (await repository.findDelivery(db, accountId, id, deliveryId)) as WebhookDelivery;
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
