import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { AppError } from "../http/errors.js";
import { errorResponses, Str } from "../http/schemas.js";
import type { Services } from "../services.js";
import { listSmsOutbox } from "../sms/sms.js";
import { prefersHtml, renderOutboxPage } from "./outbox-page.js";

/** Test and demo helpers; never registered in production. */
export function registerDevRoutes(app: FastifyInstance, services: Services) {
  const { clock, db } = services;
  const dev = { auth: "none" as const };

  app.post(
    "/dev/clock",
    {
      config: dev,
      schema: {
        tags: ["dev"],
        summary: "Set the server clock: {now} or {advance_seconds}; {reset: true} returns to real time",
        body: Type.Object(
          {
            now: Type.Optional(Type.String({ format: "date-time" })),
            advance_seconds: Type.Optional(Type.Number({ minimum: -1e9, maximum: 1e9 })),
            reset: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ now: Type.String() }), ...errorResponses(400) },
      },
    },
    async (request) => {
      const body = request.body as { now?: string; advance_seconds?: number; reset?: boolean };
      if (body.reset) clock.reset();
      else if (body.now !== undefined) clock.set(new Date(body.now));
      else if (body.advance_seconds !== undefined) clock.advance(body.advance_seconds);
      else throw new AppError("validation_failed", "Give now, advance_seconds or reset");
      return { now: clock.now().toISOString() };
    },
  );

  app.get(
    "/dev/clock",
    { config: dev, schema: { tags: ["dev"], response: { 200: Type.Object({ now: Type.String() }) } } },
    async () => ({ now: clock.now().toISOString() }),
  );

  app.get(
    "/dev/mail",
    {
      config: dev,
      schema: {
        tags: ["dev"],
        summary:
          "The development outbox: the mail queue, newest first (status queued, sending, sent or failed); a browser (Accept: text/html) gets a page",
        querystring: Type.Object({ to: Type.Optional(Str(254)) }),
      },
    },
    async (request, reply) => {
      const { to } = request.query as { to?: string };
      const mails = await services.mailQueue.list(to);
      // A browser gets a page to read and click through; API clients get JSON, as documented.
      if (prefersHtml(request.headers.accept))
        return reply.type("text/html; charset=utf-8").send(renderOutboxPage(mails, to));
      return {
        data: mails.map((m) => ({
          id: m.id,
          to: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          created_at: m.createdAt,
          status: m.status,
        })),
      };
    },
  );

  app.get(
    "/dev/sms",
    {
      config: dev,
      schema: {
        tags: ["dev"],
        summary: "The development SMS outbox, newest first",
        querystring: Type.Object({ to: Type.Optional(Str(32)) }),
      },
    },
    async (request) => ({ data: await listSmsOutbox(db, (request.query as { to?: string }).to) }),
  );

  app.post(
    "/dev/jobs/run",
    {
      config: dev,
      schema: {
        tags: ["dev"],
        summary:
          "Run every job of the job loop now, each on what is due (renewals, payment retries, purge, reset requests, mail)",
      },
    },
    async () => {
      const outcomes = await services.jobs.runNow();
      const resultOf = (name: string) => {
        const outcome = outcomes[name];
        return outcome?.status === "ok" ? (outcome.result as Record<string, unknown>) : null;
      };
      return {
        renewals: resultOf("billing-renewals")?.renewed ?? null,
        payments: resultOf("payment-retries"),
        purged: resultOf("purge-expired"),
        jobs: Object.entries(outcomes).map(([name, outcome]) => ({ name, ...outcome })),
      };
    },
  );
}
