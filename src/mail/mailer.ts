import type { FastifyBaseLogger } from "fastify";
import nodemailer from "nodemailer";

export type MailMessage = {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers (`List-Unsubscribe`, `List-Unsubscribe-Post`). */
  headers?: Record<string, string> | undefined;
  /** Ends with a link to the notification settings page (the mail queue adds it: it knows PUBLIC_URL). */
  settingsFooter?: boolean | undefined;
};

/**
 * Where the mail queue's delivery job hands a mail over. Only that job calls it: everything else writes
 * to the queue (src/mail/mail-queue.ts). `deliver` throws what went wrong (nodemailer's error carries the
 * SMTP `responseCode`).
 */
export type MailTransport = {
  /** The development outbox keeps the bodies of delivered mail (it is the mailbox); SMTP does not. */
  keepsBodies: boolean;
  deliver(mail: MailMessage & { id: string }): Promise<void>;
  close(): void;
};

/**
 * nodemailer settings unless SMTP_URL sets its own (`?socketTimeout=…`): time limits for one delivery
 * (ms), and a pool of up to 5 connections kept open between mails (a relay's greeting and TLS handshake
 * are paid once, and a batch goes out over several at once).
 */
export const SMTP_DEFAULTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 60_000,
  pool: true,
  maxConnections: 5,
};

/** Real SMTP through nodemailer. */
export function createSmtpTransport(smtpUrl: string, from: string): MailTransport {
  // Appended as text rather than rebuilt through URL, which would re-encode the credentials.
  const missing = Object.entries(SMTP_DEFAULTS).filter(([key]) => !new RegExp(`[?&]${key}=`).test(smtpUrl));
  const url = missing.length
    ? `${smtpUrl}${smtpUrl.includes("?") ? "&" : "?"}${missing.map(([k, v]) => `${k}=${v}`).join("&")}`
    : smtpUrl;
  const transport = nodemailer.createTransport(url);
  return {
    keepsBodies: false,
    deliver: async ({ to, subject, text, html, headers }) => {
      await transport.sendMail({ from, to, subject, text, html, ...(headers ? { headers } : {}) });
    },
    close: () => transport.close(),
  };
}

/**
 * The development outbox: delivering is logging; the mail stays readable in the queue, which
 * `GET /dev/mail` lists (every process sees it; nothing leaves the machine).
 */
export function createOutboxTransport(log: FastifyBaseLogger): MailTransport {
  return {
    keepsBodies: true,
    deliver: async (mail) => {
      log.info({ mail_id: mail.id, to: mail.to, subject: mail.subject, text: mail.text }, "mail (outbox)");
    },
    close: () => {},
  };
}
