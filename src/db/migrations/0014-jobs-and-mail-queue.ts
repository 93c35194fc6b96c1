import { type Kysely, sql } from "kysely";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  // One row per named background job (src/jobs): its schedule, its last outcome, and which process holds
  // the current run (locked_by until locked_until).
  await db.schema
    .createTable("jobs")
    .addColumn("name", "text", (c) => c.primaryKey())
    // 0 = every tick of the loop.
    .addColumn("interval_seconds", "integer", (c) => c.notNull())
    .addColumn("next_run_at", "text", (c) => c.notNull())
    .addColumn("last_started_at", "text")
    .addColumn("last_finished_at", "text")
    // "ok" or "failed"; null before the first run.
    .addColumn("last_status", "text")
    .addColumn("last_error", "text")
    // A short JSON summary of the last successful run (`{"renewed":2}`).
    .addColumn("last_result", "text")
    .addColumn("consecutive_failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_by", "text")
    .addColumn("locked_until", "text")
    .execute();

  // Every mail, written in the transaction of the change that causes it; the job loop delivers it.
  await db.schema
    .createTable("mail_queue")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("to_address", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("text_body", "text", (c) => c.notNull())
    .addColumn("html_body", "text", (c) => c.notNull())
    // queued → sending → sent | failed (a 4xx or lost connection puts it back to queued, later).
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    // When it may be tried (queued), when a claim on it lapses (sending), or when it failed (failed).
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("sent_at", "text")
    .execute();
  await db.schema
    .createIndex("mail_queue_due_idx")
    .on("mail_queue")
    .columns(["status", "next_attempt_at"])
    .execute();

  // A password-reset request as it came in: the request only writes this row, the same whether or not
  // the address has a login; the job loop does the rest (src/auth/reset-requests.ts).
  await db.schema
    .createTable("password_reset_requests")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull())
    // Who asked (type, id, IP, user agent, request id) as JSON, for the audit event.
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  // The development outbox becomes a view of the queue: what it held counts as sent.
  await sql`
    insert into mail_queue
      (id, to_address, subject, text_body, html_body, status, attempts, next_attempt_at, created_at, sent_at)
    select id, to_address, subject, text_body, html_body, 'sent', 1, created_at, created_at, created_at
    from mail_outbox
  `.execute(db);
  await db.schema.dropTable("mail_outbox").execute();
}
