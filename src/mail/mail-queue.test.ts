import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, transact } from "../db/database.js";
import { migrateToLatest } from "../db/migrate.js";
import {
  createClient,
  createTestApp,
  signUpVerified,
  startSmtpSink,
  type TestApp,
  testDialects,
  tokenOf,
} from "../testing/harness.js";
import { createScratchDatabase, startServer } from "../testing/server-process.js";
import { MAIL_DELIVERY, MAIL_JOB } from "./mail-queue.js";

const message = (to: string, subject: string) => ({
  to,
  subject,
  text: `${subject}\n`,
  html: `<p>${subject}</p>`,
});

describe.each(testDialects())("the mail queue on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const queued = (to: string) =>
    t.services.db
      .selectFrom("mail_queue")
      .selectAll()
      .where("to_address", "=", to)
      .orderBy("created_at")
      .execute();
  const deliver = () => t.services.jobs.runNow([MAIL_JOB]);
  const received = (to: string) => t.mails.filter((m) => m.to === to);

  it("queues mail in the transaction of its change: a change that rolls back sends nothing", async () => {
    const { db, mailQueue } = t.services;
    await expect(
      transact(db, async (trx, effects) => {
        await mailQueue.enqueue(trx, effects, message("rollback@example.com", "Never sent"));
        throw new Error("the change failed after queueing its mail");
      }),
    ).rejects.toThrow(/change failed/);
    await transact(db, (trx, effects) =>
      mailQueue.enqueue(trx, effects, message("commit@example.com", "Sent once")),
    );
    await deliver();
    expect(await queued("rollback@example.com")).toEqual([]);
    expect(received("rollback@example.com")).toEqual([]);
    expect(received("commit@example.com").map((m) => m.subject)).toEqual(["Sent once"]);
    // Delivered over SMTP: the row keeps who and what, not the body (it may hold a live link).
    expect(await queued("commit@example.com")).toEqual([
      expect.objectContaining({
        status: "sent",
        attempts: 1,
        text_body: "",
        html_body: "",
        last_error: null,
      }),
    ]);
  });

  it("tries again later after a 4xx answer (1 min, doubling), then delivers", async () => {
    const at = new Date("2026-06-01T08:00:00.000Z");
    t.services.clock.freeze(at);
    try {
      await signUpVerified(t, { email: "greylisted@example.com", account: "Grey Co" });
      t.smtp.refuse({ code: 451, text: "4.7.1 Greylisted, please try again later" });
      const forgot = await createClient(t.app).post("/api/v1/auth/password/forgot", {
        email: "greylisted@example.com",
      });
      expect(forgot.statusCode).toBe(202);
      const reset = async () =>
        (await queued("greylisted@example.com")).find((m) => m.subject === "Reset your password");
      expect(await reset()).toMatchObject({
        status: "queued",
        attempts: 1,
        last_error: expect.stringMatching(/^451 4\.7\.1 Greylisted/),
        next_attempt_at: new Date(at.getTime() + 60_000).toISOString(),
      });
      // Not due yet: nothing is tried.
      await deliver();
      expect(await reset()).toMatchObject({ attempts: 1 });

      t.services.clock.advance(60);
      expect((await deliver())[MAIL_JOB]).toEqual({
        status: "ok",
        result: { sent: 0, retrying: 1, failed: 0 },
      });
      expect(await reset()).toMatchObject({
        status: "queued",
        attempts: 2,
        next_attempt_at: new Date(at.getTime() + 180_000).toISOString(),
      });
      expect(received("greylisted@example.com").map((m) => m.subject)).not.toContain("Reset your password");

      t.smtp.refuse(null);
      t.services.clock.advance(120);
      await deliver();
      expect(await reset()).toMatchObject({ status: "sent", attempts: 3, sent_at: expect.any(String) });
      const link = await t.linkFor("greylisted@example.com", /Reset your password/);
      const done = await createClient(t.app).post("/api/v1/auth/password/reset", {
        token: tokenOf(link),
        password: "Quartz-Harbor-Light-1",
      });
      expect(done.statusCode).toBe(200);
    } finally {
      t.smtp.refuse(null);
      t.services.clock.reset();
    }
  });

  it("fails a mail at once, with the server's reason, on a 5xx answer", async () => {
    t.smtp.refuse({ code: 550, text: "5.1.1 No such mailbox here" });
    try {
      await transact(t.services.db, (trx, effects) =>
        t.services.mailQueue.enqueue(trx, effects, message("nobody@example.com", "Bounces")),
      );
    } finally {
      t.smtp.refuse(null);
    }
    const [row] = await queued("nobody@example.com");
    expect(row).toMatchObject({
      status: "failed",
      attempts: 1,
      last_error: "550 5.1.1 No such mailbox here",
      text_body: "",
    });
    t.services.clock.advance(7 * 24 * 3600);
    try {
      await deliver();
      expect(await queued("nobody@example.com")).toEqual([
        expect.objectContaining({ status: "failed", attempts: 1 }),
      ]);
      expect(received("nobody@example.com")).toEqual([]);
    } finally {
      t.services.clock.reset();
    }
  });

  it("gives a mail up after 24 hours of 4xx answers", async () => {
    const at = new Date("2026-06-02T00:00:00.000Z");
    t.services.clock.freeze(at);
    t.smtp.refuse({ code: 421, text: "4.3.2 Service shutting down" });
    try {
      await transact(t.services.db, (trx, effects) =>
        t.services.mailQueue.enqueue(trx, effects, message("outage@example.com", "Slow")),
      );
      for (let i = 0; i < 100; i++) {
        const [row] = await queued("outage@example.com");
        if (row?.status !== "queued") break;
        t.services.clock.set(new Date(row.next_attempt_at));
        await deliver();
      }
      const [row] = await queued("outage@example.com");
      expect(row).toMatchObject({
        status: "failed",
        last_error: expect.stringMatching(/^gave up after \d+ attempts: 421 4\.3\.2/),
      });
      // Every wait between attempts stays within the hour; the last attempt is within the day.
      const lastAttempt = Date.parse(row?.next_attempt_at ?? "");
      expect(lastAttempt - at.getTime()).toBeLessThanOrEqual(MAIL_DELIVERY.giveUpAfterSeconds * 1000);
      expect(lastAttempt - at.getTime()).toBeGreaterThan((MAIL_DELIVERY.giveUpAfterSeconds - 3600) * 1000);
      expect(row?.attempts).toBe(29);
    } finally {
      t.smtp.refuse(null);
      t.services.clock.reset();
    }
  });

  it("loses nothing when the process goes away between the commit and the delivery", async () => {
    // A process whose loop is gone (as if it died right after its commits) queues a mail…
    const dying = await t.sibling();
    await dying.services.jobs.stop();
    await signUpVerified(t, { email: "crash-owner@example.com", account: "Crash Co" });
    const forgot = await createClient(dying.app).post("/api/v1/auth/password/forgot", {
      email: "crash-owner@example.com",
    });
    expect(forgot.statusCode).toBe(202);
    await transact(dying.services.db, (trx, effects) =>
      dying.services.mailQueue.enqueue(trx, effects, message("crash@example.com", "Survives")),
    );
    // …and one was claimed by a process that died mid-send (its claim lapsed).
    await transact(dying.services.db, (trx, effects) =>
      dying.services.mailQueue.enqueue(trx, effects, message("crash@example.com", "Claimed, then lost")),
    );
    await dying.close();
    await t.services.db
      .updateTable("mail_queue")
      .set({ status: "sending", next_attempt_at: new Date(Date.now() - 1000).toISOString(), attempts: 1 })
      .where("subject", "=", "Claimed, then lost")
      .execute();
    expect(received("crash@example.com")).toEqual([]);
    expect(await t.services.db.selectFrom("password_reset_requests").select("email").execute()).toEqual([
      { email: "crash-owner@example.com" },
    ]);

    // A new process with a running loop delivers all of it.
    const next = await t.sibling();
    next.services.jobs.start();
    for (let i = 0; i < 400 && received("crash@example.com").length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await t.linkFor("crash-owner@example.com", /Reset your password/);
    await next.close();
    expect(
      received("crash@example.com")
        .map((m) => m.subject)
        .sort(),
    ).toEqual(["Claimed, then lost", "Survives"]);
    expect((await queued("crash@example.com")).map((m) => m.status)).toEqual(["sent", "sent"]);
    expect(await t.services.db.selectFrom("password_reset_requests").select("id").execute()).toEqual([]);
  });
});

describe.each(testDialects())("the development outbox on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { SMTP_URL: "" });
  });
  afterAll(() => t?.close());

  it("lists the mail queue at GET /dev/mail, bodies kept, delivered without SMTP", async () => {
    const signup = await createClient(t.app).post("/api/v1/auth/signup", {
      email: "outbox@example.com",
      password: "violet-Harbor-sunrise-42",
      name: "Out Box",
      account_name: "Outbox Co",
    });
    expect(signup.statusCode).toBe(201);
    const outbox = await createClient(t.app).get("/dev/mail?to=outbox@example.com");
    expect(outbox.statusCode).toBe(200);
    expect(outbox.body.data).toEqual([
      {
        id: expect.stringMatching(/^mail_/),
        to: "outbox@example.com",
        subject: "Confirm your email address",
        text: expect.stringMatching(/verify-email\?token=/),
        html: expect.stringContaining("<a href="),
        created_at: expect.any(String),
        status: "sent",
      },
    ]);
    expect(t.mails).toEqual([]);
  });
});

describe.each(testDialects())("a server process on %s", (dialect) => {
  it("delivers mail that was queued before it started: its job loop runs", async () => {
    const scratch = await createScratchDatabase(dialect);
    const smtp = await startSmtpSink();
    try {
      // Committed by a process that then died before delivering it.
      const database = openDatabase(scratch.url);
      await migrateToLatest(database);
      const now = new Date().toISOString();
      await database.db
        .insertInto("mail_queue")
        .values({
          id: "mail_leftover",
          to_address: "leftover@example.com",
          subject: "Left in the queue",
          text_body: "Still here.",
          html_body: "<p>Still here.</p>",
          status: "queued",
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          created_at: now,
          sent_at: null,
        })
        .execute();
      await database.close();
      const server = await startServer(scratch.url, { SMTP_URL: smtp.url });
      try {
        for (let i = 0; i < 400 && smtp.mails.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(smtp.mails.map((m) => m.subject)).toEqual(["Left in the queue"]);
      } finally {
        server.child.kill("SIGTERM");
        await server.exited;
      }
    } finally {
      await smtp.close();
      await scratch.drop();
    }
  }, 120_000);
});
