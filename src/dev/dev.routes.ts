import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { AppError } from "../http/errors.js";
import { errorResponses, Str } from "../http/schemas.js";
import { listOutbox } from "../mail/mailer.js";
import type { Services } from "../services.js";
import { listSmsOutbox } from "../sms/sms.js";

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
        summary: "The development outbox, newest first",
        querystring: Type.Object({ to: Type.Optional(Str(254)) }),
      },
    },
    async (request) => ({ data: await listOutbox(db, (request.query as { to?: string }).to) }),
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
      schema: { tags: ["dev"], summary: "Run every job that is due now (renewals, payment retries)" },
    },
    async () => {
      const renewals = await services.billing.renewDue(SYSTEM_ACTOR);
      const payments = await services.payments.retryDue();
      return { renewals, payments };
    },
  );
}
