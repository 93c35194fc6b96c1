import type { FastifyBaseLogger } from "fastify";
import type { DatabaseHandle, Effects, Executor } from "../db/database.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import { createMailQueueRepository } from "./mail-queue.repository.js";
import type { MailMessage, MailTransport } from "./mailer.js";
import { withSettingsFooter } from "./templates.js";

export const MAIL_DELIVERY = {
  /** Mails claimed at once, and batches per run (the next tick goes on). */
  batchSize: 10,
  maxBatchesPerRun: 20,
  /** A claimed mail whose process died mid-send is tried again after this. */
  claimSeconds: 5 * 60,
  /** After a 4xx answer or no connection: 1 min, doubling, at most 1 h between attempts… */
  firstRetrySeconds: 60,
  maxRetrySeconds: 3600,
  /** …until the next attempt would be more than 24 h after the mail was queued: then it fails. */
  giveUpAfterSeconds: 24 * 3600,
} as const;

/** The job that delivers the queue (src/services.ts registers it). */
export const MAIL_JOB = "mail-delivery";

/**
 * SMTP answers 5xx for what will never work (unknown mailbox, refused content): the mail fails with that
 * reason. A 4xx answer (greylisting, a full mailbox, a busy server) or no answer at all is tried again.
 */
export function deliveryError(error: unknown): { permanent: boolean; reason: string } {
  const e = error as { responseCode?: unknown; response?: unknown; message?: unknown };
  const code = typeof e?.responseCode === "number" ? e.responseCode : undefined;
  const text =
    typeof e?.response === "string" ? e.response : typeof e?.message === "string" ? e.message : String(error);
  return { permanent: code !== undefined && code >= 500, reason: text.slice(0, 500) };
}

export function nextAttemptDelaySeconds(attempts: number): number {
  return Math.min(
    MAIL_DELIVERY.firstRetrySeconds * 2 ** Math.max(0, attempts - 1),
    MAIL_DELIVERY.maxRetrySeconds,
  );
}

/**
 * Every mail Gatehouse sends goes through here: written to `mail_queue` in the transaction of the change
 * that causes it (a rolled-back change sends nothing), delivered by the job loop (a crash loses nothing,
 * an SMTP outage delays), so no request waits for a mail server. The loop is kicked after each commit,
 * so mail leaves at once when it can.
 */
export function createMailQueue(deps: {
  database: DatabaseHandle;
  clock: Clock;
  log: FastifyBaseLogger;
  transport: MailTransport;
  /** Where the notification settings page is (the footer of security and notification mail). */
  publicUrl: string;
  /** Starts the delivery job in this process (after a commit). */
  kick: () => Promise<unknown>;
  /**
   * Tests: the commit waits for that delivery, so a test reads the mail right after the answer.
   * Otherwise the answer never waits for it.
   */
  waitForDelivery?: boolean;
}) {
  const { clock, log, transport } = deps;
  const db = deps.database.db;
  const repository = createMailQueueRepository(deps.database.dialect);
  /** Transactions whose commit already kicks the delivery job (one kick for several mails). */
  const kicked = new WeakSet<Effects>();

  async function deliverOne(mail: Awaited<ReturnType<typeof repository.claimDue>>[number]) {
    try {
      await transport.deliver(mail);
      await repository.settle(db, mail.id, {
        status: "sent",
        at: clock.now().toISOString(),
        eraseBodies: !transport.keepsBodies,
      });
      return "sent" as const;
    } catch (error) {
      const { permanent, reason } = deliveryError(error);
      const now = clock.now();
      const next = addSeconds(now, nextAttemptDelaySeconds(mail.attempts));
      const expired = next.getTime() - Date.parse(mail.createdAt) > MAIL_DELIVERY.giveUpAfterSeconds * 1000;
      const context = { mail_id: mail.id, to: mail.to, subject: mail.subject, attempts: mail.attempts };
      if (permanent || expired) {
        const why = permanent ? reason : `gave up after ${mail.attempts} attempts: ${reason}`;
        log.error({ ...context, error: why }, "mail delivery failed");
        await repository.settle(db, mail.id, {
          status: "failed",
          at: now.toISOString(),
          error: why,
          eraseBodies: !transport.keepsBodies,
        });
        return "failed" as const;
      }
      log.warn({ ...context, error: reason, next_attempt_at: next.toISOString() }, "mail delivery postponed");
      await repository.settle(db, mail.id, {
        status: "queued",
        error: reason,
        nextAttemptAt: next.toISOString(),
      });
      return "retrying" as const;
    }
  }

  return {
    /**
     * Queues `message` in the caller's transaction. Limits on who may be mailed how often
     * (src/mail/mail-limits.ts) are the caller's to check before, in the same transaction.
     */
    async enqueue(trx: Executor, effects: Effects, message: MailMessage): Promise<void> {
      const mail = message.settingsFooter ? withSettingsFooter(message, deps.publicUrl) : message;
      await repository.insert(trx, { ...mail, id: newId("mail"), now: clock.now().toISOString() });
      if (kicked.has(effects)) return;
      kicked.add(effects);
      effects.afterCommit(() => {
        const delivery = deps.kick();
        return deps.waitForDelivery ? delivery : undefined;
      });
    },

    hasDue: () => repository.hasDue(db, clock.now().toISOString()),

    /** The delivery job: one attempt for every due mail, batch by batch. */
    async deliverDue(): Promise<{ sent: number; retrying: number; failed: number }> {
      const counts = { sent: 0, retrying: 0, failed: 0 };
      for (let batch = 0; batch < MAIL_DELIVERY.maxBatchesPerRun; batch++) {
        const now = clock.now();
        const mails = await repository.claimDue(
          db,
          now.toISOString(),
          addSeconds(now, MAIL_DELIVERY.claimSeconds).toISOString(),
          MAIL_DELIVERY.batchSize,
        );
        // At once: an SMTP transport spreads them over its pooled connections.
        for (const outcome of await Promise.all(mails.map(deliverOne))) counts[outcome]++;
        if (mails.length < MAIL_DELIVERY.batchSize) break;
        // SQLite answers synchronously: let waiting requests in between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      return counts;
    },

    /** The development outbox: the queue, newest first. */
    list: (to?: string) => repository.list(db, to),

    /** For `gatehouse jobs`: what waits, and what failed in the last 7 days. */
    summary: () => repository.summary(db, addSeconds(clock.now(), -7 * 24 * 3600).toISOString()),
  };
}

export type MailQueue = ReturnType<typeof createMailQueue>;
