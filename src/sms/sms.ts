import type { FastifyBaseLogger } from "fastify";
import type { Db } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";

export type SmsMessage = { to: string; text: string };

export type OutboxSms = SmsMessage & { id: string; created_at: string };

/**
 * Where text messages go. Gatehouse ships two: the development outbox (the default) and a JSON
 * webhook (SMS_WEBHOOK_URL) that a few lines of glue can forward to any gateway (Twilio, Vonage, SNS…).
 * A host product can also pass its own `SmsSender` to `createServices`.
 */
export type SmsSender = {
  readonly name: string;
  send(message: SmsMessage): Promise<void>;
};

/** Keeps messages in the database (every process sees them) and logs them; nothing leaves the machine. */
export function createOutboxSms(db: Db, clock: Clock, log: FastifyBaseLogger): SmsSender {
  return {
    name: "outbox",
    send: async (message) => {
      const id = newId("sms");
      await db
        .insertInto("sms_outbox")
        .values({ id, to_number: message.to, text_body: message.text, created_at: clock.now().toISOString() })
        .execute();
      log.info({ sms_id: id, to: message.to, text: message.text }, "sms (outbox)");
    },
  };
}

/**
 * POSTs `{to, text}` as JSON to a URL (with `authorization: Bearer <token>` when a token is set).
 * A failed delivery is logged, not thrown: the code is stored already, and the user can ask again.
 */
export function createWebhookSms(url: string, token: string | undefined, log: FastifyBaseLogger): SmsSender {
  return {
    name: "webhook",
    send: async (message) => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(10_000),
        });
        if (!response.ok) throw new Error(`SMS webhook answered ${response.status}`);
      } catch (error) {
        log.error({ err: error, to: message.to }, "sms delivery failed");
      }
    },
  };
}

export async function listSmsOutbox(db: Db, to?: string): Promise<OutboxSms[]> {
  let query = db.selectFrom("sms_outbox").selectAll().orderBy("created_at", "desc").orderBy("id").limit(200);
  if (to) query = query.where("to_number", "=", to);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, to: r.to_number, text: r.text_body, created_at: r.created_at }));
}

/** "•••• 1234": enough for the owner to recognise, too little to reuse. */
export function maskPhone(phone: string): string {
  return `•••• ${phone.slice(-4)}`;
}
