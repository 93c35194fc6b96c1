import type { FastifyBaseLogger } from "fastify";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import type { MailBrandingLoader } from "../branding/mail-branding.js";
import { type DatabaseHandle, type Effects, type Executor, transact } from "../db/database.js";
import type { StoredEvent } from "../events/events.repository.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { decryptSecret } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import type { OutboundHttp } from "../lib/outbound-http.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import { signatureHeader } from "./signing.js";
import {
  createWebhooksRepository,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "./webhooks.repository.js";

export const WEBHOOK_DELIVERY = {
  /** After the 1st…7th failed attempt (Standard Webhooks' schedule); the 8th failure is final. */
  retryDelaysSeconds: [5, 300, 1800, 7200, 18_000, 36_000, 36_000],
  /** Each delay is stretched or shrunk by up to this share, so retries of an outage spread out. */
  jitter: 0.1,
  timeoutMs: 10_000,
  /** Of each answer's body, this much is kept. */
  maxResponseBytes: 1024,
  /** A claimed delivery whose process died mid-attempt is due again after this (well past the timeout). */
  claimSeconds: 60,
  batchSize: 25,
  maxBatchesPerRun: 40,
  /** An endpoint all of whose attempts failed for this long is disabled and its admins mailed. */
  disableAfterDays: 5,
  retentionDays: 30,
  userAgent: "Gatehouse-Webhooks/1",
} as const;

/** The job that sends due deliveries (src/services.ts registers it). */
export const WEBHOOK_DELIVERY_JOB = "webhook-delivery";

/** Seconds until the attempt after failed attempt number `attempts`, or null when that was the last. */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number | null {
  const base = WEBHOOK_DELIVERY.retryDelaysSeconds[attempts - 1];
  if (base === undefined) return null;
  return base * (1 + (random() * 2 - 1) * WEBHOOK_DELIVERY.jitter);
}

/** Whether an endpoint receives `type`. */
export const subscribes = (endpoint: Pick<WebhookEndpoint, "events">, type: string) =>
  endpoint.events.includes("*") || endpoint.events.includes(type);

/** The Standard Webhooks body: `{type, timestamp, data}`, frozen when the delivery is made. */
export const payloadOf = (type: string, timestamp: string, data: Record<string, unknown>) =>
  JSON.stringify({ type, timestamp, data });

/**
 * Webhook delivery: the event stream's consumer writes one delivery per (event, subscribed endpoint)
 * in the fan-out transaction, and the job loop sends them: signed, at least once, retried on the
 * Standard Webhooks schedule, each attempt recorded. Kicked after each commit, so events leave at once.
 */
export function createWebhookDelivery(deps: {
  database: DatabaseHandle;
  clock: Clock;
  log: FastifyBaseLogger;
  secretKey: Buffer;
  publicUrl: string;
  outbound: OutboundHttp;
  mailQueue: Pick<MailQueue, "enqueue">;
  accounts: Pick<AccountsRepository, "findById">;
  /** The disabled-endpoint mail is about the account: in its branding, its link from its link base. */
  mailBranding?: MailBrandingLoader;
  /** Starts the delivery job in this process (after a commit). */
  kick: () => Promise<unknown>;
  /** Tests: a commit that made deliveries waits for their first attempt. */
  waitForDelivery?: boolean;
  /** Tests: a shorter answer timeout than 10 s. */
  timeoutMs?: number;
  random?: () => number;
}) {
  const { clock, log } = deps;
  const db = deps.database.db;
  const repository = createWebhooksRepository(deps.database.dialect);
  const timeoutMs = deps.timeoutMs ?? WEBHOOK_DELIVERY.timeoutMs;
  const kicked = new WeakSet<Effects>();

  function kickAfterCommit(effects: Effects) {
    if (kicked.has(effects)) return;
    kicked.add(effects);
    effects.afterCommit(() => {
      const run = deps.kick();
      return deps.waitForDelivery ? run : undefined;
    });
  }

  /** The secrets that sign now: the current one, and the one a rotation replaced while it overlaps. */
  function signingSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
    const secrets = [decryptSecret(deps.secretKey, endpoint.secretSealed)];
    if (
      endpoint.previousSecretSealed &&
      endpoint.previousSecretExpiresAt &&
      endpoint.previousSecretExpiresAt > now.toISOString()
    )
      secrets.push(decryptSecret(deps.secretKey, endpoint.previousSecretSealed));
    return secrets;
  }

  /** Active members whose role holds webhooks:manage (Root holds everything). */
  async function webhookAdmins(executor: Executor, accountId: string) {
    const rows = await executor
      .selectFrom("memberships as m")
      .innerJoin("roles as r", (j) =>
        j.onRef("r.id", "=", "m.role_id").onRef("r.account_id", "=", "m.account_id"),
      )
      .innerJoin("users as u", "u.id", "m.user_id")
      .select(["u.email", "u.first_name", "u.timezone", "u.locale", "r.key", "r.permissions"])
      .where("m.account_id", "=", accountId)
      .where("m.status", "=", "active")
      .where("u.deactivated_at", "is", null)
      .execute();
    return rows.filter(
      (r) => r.key === "root" || (JSON.parse(r.permissions) as string[]).includes("webhooks:manage"),
    );
  }

  async function disableIfFailingTooLong(trx: Executor, effects: Effects, endpoint: WebhookEndpoint) {
    const now = clock.now();
    const before = addSeconds(now, -WEBHOOK_DELIVERY.disableAfterDays * 86_400).toISOString();
    const reason = `Every delivery failed for ${WEBHOOK_DELIVERY.disableAfterDays} days`;
    if (!(await repository.disableIfFailingSince(trx, endpoint.id, before, reason, now.toISOString())))
      return;
    const failingSince = (await repository.findEndpoint(trx, endpoint.accountId, endpoint.id))?.failingSince;
    log.warn({ webhook_id: endpoint.id, account_id: endpoint.accountId }, "webhook endpoint disabled");
    await recordAudit(
      trx,
      SYSTEM_ACTOR,
      {
        accountId: endpoint.accountId,
        action: "webhook.disabled",
        targetType: "webhook",
        targetId: endpoint.id,
        changes: { url: endpoint.url, failing_since: failingSince, reason },
      },
      now,
    );
    const account = await deps.accounts.findById(trx, endpoint.accountId);
    const branding = await deps.mailBranding?.load(trx, endpoint.accountId);
    for (const admin of await webhookAdmins(trx, endpoint.accountId)) {
      await deps.mailQueue.enqueue(
        trx,
        effects,
        mails.webhookDisabled(
          admin.email,
          admin.first_name,
          {
            accountName: account?.name ?? endpoint.accountId,
            endpointUrl: endpoint.url,
            failingSince: failingSince ?? before,
            url: `${branding?.linkBase ?? deps.publicUrl}/settings/webhooks`,
          },
          { reader: admin, ...(branding ? { branding } : {}) },
        ),
      );
    }
  }

  async function attempt(delivery: WebhookDelivery, endpoint: WebhookEndpoint) {
    // Real time, not the injected clock: receivers compare it with their own clock (replay window).
    const timestamp = Math.floor(Date.now() / 1000);
    const answer = await deps.outbound.post(endpoint.url, {
      headers: {
        "content-type": "application/json",
        "user-agent": WEBHOOK_DELIVERY.userAgent,
        "webhook-id": delivery.id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signatureHeader(signingSecrets(endpoint, clock.now()), {
          id: delivery.id,
          timestamp,
          body: delivery.payload,
        }),
      },
      body: delivery.payload,
      timeoutMs,
      maxResponseBytes: WEBHOOK_DELIVERY.maxResponseBytes,
    });
    const succeeded = answer.status !== null && answer.status >= 200 && answer.status < 300;
    const now = clock.now();
    const record = {
      id: newId("webhookAttempt"),
      at: now.toISOString(),
      responseStatus: answer.status,
      responseBody: answer.body,
      durationMs: answer.durationMs,
      error: succeeded ? null : (answer.error ?? `HTTP ${answer.status}`),
    };
    if (succeeded) {
      await transact(db, async (trx) => {
        if (await repository.settle(trx, delivery, record, { status: "succeeded" }))
          await repository.clearFailing(trx, endpoint.id);
      });
      return "succeeded" as const;
    }
    const delay = retryDelaySeconds(delivery.attempts, deps.random);
    return transact(db, async (trx, effects) => {
      const outcome =
        delay === null
          ? ({ status: "failed" } as const)
          : ({ status: "pending", nextAttemptAt: addSeconds(now, delay).toISOString() } as const);
      if (!(await repository.settle(trx, delivery, record, outcome))) return "lost" as const;
      await repository.markFailing(trx, endpoint.id, now.toISOString());
      await disableIfFailingTooLong(trx, effects, endpoint);
      return delay === null ? ("failed" as const) : ("retrying" as const);
    });
  }

  return {
    /** The event stream's consumer: one delivery per (event, enabled endpoint subscribed to its type). */
    async consume(trx: Executor, effects: Effects, events: readonly StoredEvent[]): Promise<void> {
      const accountIds = [...new Set(events.map((e) => e.accountId))];
      const endpoints = await repository.enabledEndpointsOf(trx, accountIds);
      if (endpoints.length === 0) return;
      const rows = events.flatMap((event) =>
        endpoints
          .filter((endpoint) => endpoint.accountId === event.accountId && subscribes(endpoint, event.type))
          .map((endpoint) => ({
            id: newId("webhookDelivery"),
            accountId: event.accountId,
            endpointId: endpoint.id,
            eventId: event.id,
            eventType: event.type,
            payload: payloadOf(event.type, event.occurredAt, event.data),
          })),
      );
      if (rows.length === 0) return;
      const now = clock.now().toISOString();
      for (let i = 0; i < rows.length; i += 500)
        await repository.insertDeliveries(trx, rows.slice(i, i + 500), now);
      kickAfterCommit(effects);
    },

    /** Queues one delivery of `type` to `endpoint` only (the test event), in the caller's transaction. */
    async enqueueOne(
      trx: Executor,
      effects: Effects,
      endpoint: Pick<WebhookEndpoint, "id" | "accountId">,
      type: string,
      data: Record<string, unknown>,
    ): Promise<string> {
      const id = newId("webhookDelivery");
      const now = clock.now().toISOString();
      await repository.insertDeliveries(
        trx,
        [
          {
            id,
            accountId: endpoint.accountId,
            endpointId: endpoint.id,
            eventId: newId("event"),
            eventType: type,
            payload: payloadOf(type, now, data),
          },
        ],
        now,
      );
      kickAfterCommit(effects);
      return id;
    },

    kickAfterCommit,

    hasDue: () => repository.hasDue(db, clock.now().toISOString()),

    /** The delivery job: one attempt for every due delivery, batch by batch, a batch's at once. */
    async deliverDue(): Promise<{ succeeded: number; retrying: number; failed: number; lost: number }> {
      const counts = { succeeded: 0, retrying: 0, failed: 0, lost: 0 };
      for (let batch = 0; batch < WEBHOOK_DELIVERY.maxBatchesPerRun; batch++) {
        const now = clock.now();
        const claimed = await repository.claimDue(
          db,
          now.toISOString(),
          addSeconds(now, WEBHOOK_DELIVERY.claimSeconds).toISOString(),
          WEBHOOK_DELIVERY.batchSize,
        );
        const endpoints = new Map(
          (await repository.endpointsByIds(db, [...new Set(claimed.map((d) => d.endpointId))])).map((e) => [
            e.id,
            e,
          ]),
        );
        const outcomes = await Promise.all(
          claimed.map(async (delivery) => {
            const endpoint = endpoints.get(delivery.endpointId);
            if (!endpoint) return "lost" as const;
            try {
              return await attempt(delivery, endpoint);
            } catch (error) {
              // Its claim lapses and the delivery is tried again: never lost, maybe sent twice.
              log.error({ err: error, delivery_id: delivery.id }, "webhook delivery could not be recorded");
              return "lost" as const;
            }
          }),
        );
        for (const outcome of outcomes) counts[outcome]++;
        if (claimed.length < WEBHOOK_DELIVERY.batchSize) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return counts;
    },

    /** Retention: deliveries (and their attempts) older than `WEBHOOK_DELIVERY.retentionDays`. */
    purge: async () => ({
      deliveries: await repository.purgeBefore(
        db,
        addSeconds(clock.now(), -WEBHOOK_DELIVERY.retentionDays * 86_400).toISOString(),
      ),
    }),
  };
}

export type WebhookDeliveryService = ReturnType<typeof createWebhookDelivery>;
