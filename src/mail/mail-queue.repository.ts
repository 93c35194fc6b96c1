import { sql } from "kysely";
import type { DatabaseHandle, Executor } from "../db/database.js";
import type { MailQueueTable } from "../db/tables.js";
import type { MailMessage } from "./mailer.js";

export type MailStatus = MailQueueTable["status"];

export type QueuedMail = MailMessage & {
  id: string;
  status: MailStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
};

function rowToMail(row: MailQueueTable): QueuedMail {
  return {
    id: row.id,
    to: row.to_address,
    subject: row.subject,
    text: row.text_body,
    html: row.html_body,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : undefined,
  };
}

/** Due: queued and its time has come, or `sending` under a claim that lapsed (its process went away). */
const DUE_STATUSES: MailStatus[] = ["queued", "sending"];

export type MailQueueRepository = ReturnType<typeof createMailQueueRepository>;

export function createMailQueueRepository(dialect: DatabaseHandle["dialect"]) {
  return {
    async insert(db: Executor, mail: MailMessage & { id: string; now: string }): Promise<void> {
      await db
        .insertInto("mail_queue")
        .values({
          id: mail.id,
          to_address: mail.to,
          subject: mail.subject,
          text_body: mail.text,
          html_body: mail.html,
          status: "queued",
          attempts: 0,
          next_attempt_at: mail.now,
          last_error: null,
          created_at: mail.now,
          sent_at: null,
          headers: mail.headers ? JSON.stringify(mail.headers) : null,
        })
        .execute();
    },

    async hasDue(db: Executor, now: string): Promise<boolean> {
      const row = await db
        .selectFrom("mail_queue")
        .select("id")
        .where("status", "in", DUE_STATUSES)
        .where("next_attempt_at", "<=", now)
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Claims up to `limit` due mails, oldest first, for one delivery attempt each: `sending` until
     * `claimedUntil` (then due again, should this process die mid-send). On PostgreSQL rows another
     * process is claiming are skipped, not waited for.
     */
    async claimDue(db: Executor, now: string, claimedUntil: string, limit: number): Promise<QueuedMail[]> {
      const due = db
        .selectFrom("mail_queue")
        .select("id")
        .where("status", "in", DUE_STATUSES)
        .where("next_attempt_at", "<=", now)
        .orderBy("next_attempt_at")
        .limit(limit)
        .$if(dialect === "postgres", (qb) => qb.forUpdate().skipLocked());
      const rows = await db
        .updateTable("mail_queue")
        .set({ status: "sending", next_attempt_at: claimedUntil, attempts: sql`attempts + 1` })
        .where("id", "in", due)
        .returningAll()
        .execute();
      return rows.map(rowToMail).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    /** The outcome of a claimed attempt; `eraseBodies` drops text and HTML (they may hold live links). */
    async settle(
      db: Executor,
      id: string,
      outcome:
        | { status: "sent"; at: string; eraseBodies: boolean }
        | { status: "queued"; error: string; nextAttemptAt: string }
        | { status: "failed"; at: string; error: string; eraseBodies: boolean },
    ): Promise<void> {
      const erase =
        outcome.status !== "queued" && outcome.eraseBodies ? { text_body: "", html_body: "" } : {};
      await db
        .updateTable("mail_queue")
        .set(
          outcome.status === "sent"
            ? { status: "sent", sent_at: outcome.at, last_error: null, ...erase }
            : outcome.status === "queued"
              ? { status: "queued", next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error }
              : { status: "failed", next_attempt_at: outcome.at, last_error: outcome.error, ...erase },
        )
        .where("id", "=", id)
        .where("status", "=", "sending")
        .execute();
    },

    /** Newest first, at most 200 (the development outbox). */
    async list(db: Executor, to?: string): Promise<QueuedMail[]> {
      const rows = await db
        .selectFrom("mail_queue")
        .selectAll()
        .$if(to !== undefined, (qb) => qb.where("to_address", "=", to as string))
        .orderBy("created_at", "desc")
        .orderBy("id")
        .limit(200)
        .execute();
      return rows.map(rowToMail);
    },

    /** How many mails are in each state, the oldest waiting one, and failures since `since`. */
    async summary(db: Executor, since: string) {
      const counts = await db
        .selectFrom("mail_queue")
        .select(["status", (eb) => eb.fn.countAll().as("n"), (eb) => eb.fn.min("created_at").as("oldest")])
        .where((eb) => eb.or([eb("status", "in", DUE_STATUSES), eb("created_at", ">=", since)]))
        .groupBy("status")
        .execute();
      const lastFailure = await db
        .selectFrom("mail_queue")
        .select(["to_address", "last_error", "next_attempt_at"])
        .where("status", "=", "failed")
        .where("created_at", ">=", since)
        .orderBy("next_attempt_at", "desc")
        .limit(1)
        .executeTakeFirst();
      const of = (status: MailStatus) => counts.find((c) => c.status === status);
      const waiting = [of("queued")?.oldest, of("sending")?.oldest].filter((d): d is string => !!d).sort();
      return {
        queued: Number(of("queued")?.n ?? 0),
        sending: Number(of("sending")?.n ?? 0),
        sent: Number(of("sent")?.n ?? 0),
        failed: Number(of("failed")?.n ?? 0),
        oldestWaiting: waiting[0] ?? null,
        lastFailure: lastFailure
          ? { to: lastFailure.to_address, error: lastFailure.last_error, at: lastFailure.next_attempt_at }
          : null,
      };
    },
  };
}
