import type { FastifyBaseLogger } from "fastify";
import nodemailer from "nodemailer";
import type { Db } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";

export type MailMessage = { to: string; subject: string; text: string; html: string };

export type OutboxMail = MailMessage & { id: string; created_at: string };

export type Mailer = {
  send(message: MailMessage): Promise<void>;
  close(): void;
};

/** Real SMTP through nodemailer. */
export function createSmtpMailer(smtpUrl: string, from: string, log: FastifyBaseLogger): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    send: async (message) => {
      try {
        await transport.sendMail({ from, ...message });
      } catch (error) {
        // A mail server outage must not turn a finished user action into an error; it is logged loudly.
        log.error({ err: error, to: message.to, subject: message.subject }, "mail delivery failed");
      }
    },
    close: () => transport.close(),
  };
}

/** The development outbox: kept in the database (so every process sees it) and logged. */
export function createOutboxMailer(db: Db, clock: Clock, log: FastifyBaseLogger): Mailer {
  return {
    send: async (message) => {
      const id = newId("mail");
      await db
        .insertInto("mail_outbox")
        .values({
          id,
          to_address: message.to,
          subject: message.subject,
          text_body: message.text,
          html_body: message.html,
          created_at: clock.now().toISOString(),
        })
        .execute();
      log.info(
        { mail_id: id, to: message.to, subject: message.subject, text: message.text },
        "mail (outbox)",
      );
    },
    close: () => {},
  };
}

export async function listOutbox(db: Db, to?: string): Promise<OutboxMail[]> {
  let query = db.selectFrom("mail_outbox").selectAll().orderBy("created_at", "desc").orderBy("id").limit(200);
  if (to) query = query.where("to_address", "=", to);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    to: r.to_address,
    subject: r.subject,
    text: r.text_body,
    html: r.html_body,
    created_at: r.created_at,
  }));
}
