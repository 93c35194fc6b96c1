import { type Selectable, sql } from "kysely";
import type { DatabaseHandle, Executor } from "../db/database.js";
import { type NewestFirstCursor, type NewestFirstPage, olderThan } from "../db/pages.js";
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from "../db/tables.js";

/** An endpoint as the rest of the code sees it; its secrets stay sealed (AES-GCM under SECRET_KEY). */
export type WebhookEndpoint = {
  id: string;
  accountId: string;
  url: string;
  description: string;
  /** Event types it receives, or ["*"] for all. */
  events: string[];
  enabled: boolean;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretExpiresAt: string | null;
  failingSince: string | null;
  disabledReason: string | null;
  createdAt: string;
  updatedAt: string;
};

export type DeliveryStatus = WebhookDeliveriesTable["status"];

export type WebhookDelivery = {
  id: string;
  accountId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The body every attempt sends, frozen when the event was handed on. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastAttemptAt: string | null;
  responseStatus: number | null;
  responseBody: string | null;
  durationMs: number | null;
  error: string | null;
  createdAt: string;
};

export type Page = NewestFirstPage;

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpoint {
  return {
    id: row.id,
    accountId: row.account_id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    enabled: Number(row.enabled) === 1,
    secretSealed: row.secret_enc,
    previousSecretSealed: row.previous_secret_enc,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    failingSince: row.failing_since,
    disabledReason: row.disabled_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    accountId: row.account_id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    responseStatus: row.response_status === null ? null : Number(row.response_status),
    responseBody: row.response_body,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.error,
    createdAt: row.created_at,
  };
}

/** Due: pending and its time has come, or `sending` under a claim that lapsed (its process went away). */
const DUE_STATUSES: DeliveryStatus[] = ["pending", "sending"];

export type EndpointChanges = Partial<Pick<WebhookEndpoint, "url" | "description" | "events" | "enabled">>;

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;

export function createWebhooksRepository(dialect: DatabaseHandle["dialect"]) {
  return {
    async insertEndpoint(
      db: Executor,
      endpoint: Pick<WebhookEndpoint, "id" | "accountId" | "url" | "description" | "events" | "secretSealed">,
      now: string,
    ): Promise<void> {
      await db
        .insertInto("webhook_endpoints")
        .values({
          id: endpoint.id,
          account_id: endpoint.accountId,
          url: endpoint.url,
          description: endpoint.description,
          events: JSON.stringify(endpoint.events),
          enabled: 1,
          secret_enc: endpoint.secretSealed,
          previous_secret_enc: null,
          previous_secret_expires_at: null,
          failing_since: null,
          disabled_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    },

    async findEndpoint(db: Executor, accountId: string, id: string): Promise<WebhookEndpoint | undefined> {
      const row = await db
        .selectFrom("webhook_endpoints")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toEndpoint(row);
    },

    async listEndpoints(db: Executor, accountId: string, page: Page): Promise<WebhookEndpoint[]> {
      const after = page.after;
      const rows = await db
        .selectFrom("webhook_endpoints")
        .selectAll()
        .where("account_id", "=", accountId)
        .$if(after !== undefined, (qb) => qb.where(olderThan(after as NewestFirstCursor)))
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(page.limit)
        .execute();
      return rows.map(toEndpoint);
    },

    async countEndpoints(db: Executor, accountId: string): Promise<number> {
      const row = await db
        .selectFrom("webhook_endpoints")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    /** The enabled endpoints of these accounts (the fan-out picks those subscribed to each event). */
    async enabledEndpointsOf(db: Executor, accountIds: readonly string[]): Promise<WebhookEndpoint[]> {
      if (accountIds.length === 0) return [];
      const rows = await db
        .selectFrom("webhook_endpoints")
        .selectAll()
        .where("account_id", "in", accountIds)
        .where("enabled", "=", 1)
        .execute();
      return rows.map(toEndpoint);
    },

    async endpointsByIds(db: Executor, ids: readonly string[]): Promise<WebhookEndpoint[]> {
      if (ids.length === 0) return [];
      const rows = await db.selectFrom("webhook_endpoints").selectAll().where("id", "in", ids).execute();
      return rows.map(toEndpoint);
    },

    async updateEndpoint(
      db: Executor,
      accountId: string,
      id: string,
      changes: EndpointChanges,
      now: string,
    ): Promise<void> {
      await db
        .updateTable("webhook_endpoints")
        .set({
          ...(changes.url !== undefined ? { url: changes.url } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.events !== undefined ? { events: JSON.stringify(changes.events) } : {}),
          // Turning an endpoint on starts its failure streak afresh.
          ...(changes.enabled !== undefined
            ? changes.enabled
              ? { enabled: 1, disabled_reason: null, failing_since: null }
              : { enabled: 0 }
            : {}),
          updated_at: now,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    async rotateSecret(
      db: Executor,
      accountId: string,
      id: string,
      secrets: { sealed: string; previousSealed: string; previousExpiresAt: string },
      now: string,
    ): Promise<void> {
      await db
        .updateTable("webhook_endpoints")
        .set({
          secret_enc: secrets.sealed,
          previous_secret_enc: secrets.previousSealed,
          previous_secret_expires_at: secrets.previousExpiresAt,
          updated_at: now,
        })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },

    async deleteEndpoint(db: Executor, accountId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom("webhook_endpoints")
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** After a failed attempt: the streak starts now unless it already runs. */
    async markFailing(db: Executor, id: string, at: string): Promise<void> {
      await db
        .updateTable("webhook_endpoints")
        .set({ failing_since: at })
        .where("id", "=", id)
        .where("failing_since", "is", null)
        .execute();
    },

    async clearFailing(db: Executor, id: string): Promise<void> {
      await db
        .updateTable("webhook_endpoints")
        .set({ failing_since: null })
        .where("id", "=", id)
        .where("failing_since", "is not", null)
        .execute();
    },

    /** Disables an endpoint still failing since `before` or earlier; true when this call did it. */
    async disableIfFailingSince(db: Executor, id: string, before: string, reason: string, now: string) {
      const result = await db
        .updateTable("webhook_endpoints")
        .set({ enabled: 0, disabled_reason: reason, updated_at: now })
        .where("id", "=", id)
        .where("enabled", "=", 1)
        .where("failing_since", "<=", before)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async insertDeliveries(
      db: Executor,
      deliveries: ReadonlyArray<
        Pick<WebhookDelivery, "id" | "accountId" | "endpointId" | "eventId" | "eventType" | "payload">
      >,
      now: string,
    ): Promise<void> {
      if (deliveries.length === 0) return;
      await db
        .insertInto("webhook_deliveries")
        .values(
          deliveries.map((d) => ({
            id: d.id,
            account_id: d.accountId,
            endpoint_id: d.endpointId,
            event_id: d.eventId,
            event_type: d.eventType,
            payload: d.payload,
            status: "pending" as const,
            attempts: 0,
            next_attempt_at: now,
            last_attempt_at: null,
            response_status: null,
            response_body: null,
            duration_ms: null,
            error: null,
            created_at: now,
          })),
        )
        .execute();
    },

    async hasDue(db: Executor, now: string): Promise<boolean> {
      const row = await db
        .selectFrom("webhook_deliveries as d")
        .innerJoin("webhook_endpoints as e", "e.id", "d.endpoint_id")
        .select("d.id")
        .where("d.status", "in", DUE_STATUSES)
        .where("d.next_attempt_at", "<=", now)
        .where("e.enabled", "=", 1)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Claims up to `limit` due deliveries of enabled endpoints, oldest first, for one attempt each:
     * `sending` until `claimedUntil` (then due again, should this process die mid-send), in one
     * statement. On PostgreSQL rows another process is claiming are skipped, not waited for.
     */
    async claimDue(
      db: Executor,
      now: string,
      claimedUntil: string,
      limit: number,
    ): Promise<WebhookDelivery[]> {
      const due = db
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("status", "in", DUE_STATUSES)
        .where("next_attempt_at", "<=", now)
        .where("endpoint_id", "in", (eb) =>
          eb.selectFrom("webhook_endpoints").select("id").where("enabled", "=", 1),
        )
        .orderBy("next_attempt_at")
        .limit(limit)
        .$if(dialect === "postgres", (qb) => qb.forUpdate().skipLocked());
      const rows = await db
        .updateTable("webhook_deliveries")
        .set({ status: "sending", next_attempt_at: claimedUntil, attempts: sql`attempts + 1` })
        .where("id", "in", due)
        .returningAll()
        .execute();
      return rows.map(toDelivery).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    /** The outcome of a claimed attempt, and the attempt itself; false when the claim was lost. */
    async settle(
      db: Executor,
      delivery: Pick<WebhookDelivery, "id" | "accountId">,
      attempt: {
        id: string;
        at: string;
        responseStatus: number | null;
        responseBody: string | null;
        durationMs: number;
        error: string | null;
      },
      outcome: { status: "succeeded" | "failed" } | { status: "pending"; nextAttemptAt: string },
    ): Promise<boolean> {
      const result = await db
        .updateTable("webhook_deliveries")
        .set({
          status: outcome.status,
          ...(outcome.status === "pending" ? { next_attempt_at: outcome.nextAttemptAt } : {}),
          last_attempt_at: attempt.at,
          response_status: attempt.responseStatus,
          response_body: attempt.responseBody,
          duration_ms: attempt.durationMs,
          error: attempt.error,
        })
        .where("id", "=", delivery.id)
        .where("status", "=", "sending")
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await db
        .insertInto("webhook_delivery_attempts")
        .values({
          id: attempt.id,
          delivery_id: delivery.id,
          account_id: delivery.accountId,
          attempted_at: attempt.at,
          response_status: attempt.responseStatus,
          response_body: attempt.responseBody,
          duration_ms: attempt.durationMs,
          error: attempt.error,
        })
        .execute();
      return true;
    },

    async listDeliveries(
      db: Executor,
      accountId: string,
      endpointId: string,
      page: Page,
    ): Promise<WebhookDelivery[]> {
      const after = page.after;
      const rows = await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("endpoint_id", "=", endpointId)
        .$if(after !== undefined, (qb) => qb.where(olderThan(after as NewestFirstCursor)))
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(page.limit)
        .execute();
      return rows.map(toDelivery);
    },

    async findDelivery(
      db: Executor,
      accountId: string,
      endpointId: string,
      id: string,
    ): Promise<WebhookDelivery | undefined> {
      const row = await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("endpoint_id", "=", endpointId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toDelivery(row);
    },

    /** A failed or waiting delivery is due now; false when it is being sent or has succeeded. */
    async retryNow(db: Executor, accountId: string, id: string, now: string): Promise<boolean> {
      const result = await db
        .updateTable("webhook_deliveries")
        .set({ status: "pending", next_attempt_at: now })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .where("status", "in", ["pending", "failed"])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Deliveries created before `before` (but none mid-attempt), with their attempts; how many went. */
    async purgeBefore(db: Executor, before: string): Promise<number> {
      const result = await db
        .deleteFrom("webhook_deliveries")
        .where("created_at", "<", before)
        .where("status", "!=", "sending")
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Every attempt of a delivery, oldest first (tests, support). */
    async attemptsOf(db: Executor, accountId: string, deliveryId: string) {
      return db
        .selectFrom("webhook_delivery_attempts")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("delivery_id", "=", deliveryId)
        .orderBy("attempted_at")
        .execute();
    },
  };
}
