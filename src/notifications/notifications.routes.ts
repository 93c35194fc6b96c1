import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { actorOf, sessionOf, userActor } from "../http/context.js";
import { Body, errorResponses, Nullable, Str, Timestamp } from "../http/schemas.js";
import { meView } from "../http/views.js";
import type { Services } from "../services.js";
import { HEARTBEAT_SECONDS } from "./notification-stream.js";
import type { Notification } from "./notifications.repository.js";
import { CHANNELS, NOTIFICATION_CATEGORIES } from "./preferences.js";

const tags = ["notifications"];

const ChannelsSchema = Type.Object({ email: Type.Boolean(), in_app: Type.Boolean(), sms: Type.Boolean() });
const CategoryKey = Type.Union(NOTIFICATION_CATEGORIES.map((k) => Type.Literal(k)));
const PreferencesSchema = Type.Object({
  categories: Type.Array(
    Type.Object({
      key: CategoryKey,
      channels: ChannelsSchema,
      locked: Type.Array(Type.Union(CHANNELS.map((c) => Type.Literal(c)))),
    }),
  ),
});
const PreferencesPut = Body({
  categories: Type.Array(
    Type.Object(
      {
        key: CategoryKey,
        channels: Type.Object(
          {
            email: Type.Optional(Type.Boolean()),
            in_app: Type.Optional(Type.Boolean()),
            sms: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        // A client may send back what GET gave; locks are not the client's to set.
        locked: Type.Optional(Type.Array(Type.String({ maxLength: 16 }), { maxItems: 3 })),
      },
      { additionalProperties: false },
    ),
    { maxItems: NOTIFICATION_CATEGORIES.length },
  ),
});

const NotificationSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  title: Type.String(),
  body: Type.String(),
  link: Nullable(Type.String()),
  read_at: Nullable(Timestamp),
  created_at: Timestamp,
});

export function notificationView(n: Notification) {
  return {
    id: n.id,
    type: n.type,
    title: n.title,
    body: n.body,
    link: n.link,
    read_at: n.readAt,
    created_at: n.createdAt,
  };
}

export function registerNotificationsRoutes(fastify: FastifyInstance, services: Services) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { notifications, notificationHub } = services;

  app.get(
    "/api/v1/me/notification-preferences",
    {
      schema: {
        tags,
        summary: "Your notification preferences: categories × channels, with the locked ones",
        response: { 200: PreferencesSchema },
      },
    },
    async (request) => ({ categories: await notifications.preferencesOf(sessionOf(request).userId) }),
  );

  app.put(
    "/api/v1/me/notification-preferences",
    {
      schema: {
        tags,
        summary: "Change your notification preferences (the categories and channels given)",
        body: PreferencesPut,
        response: { 200: PreferencesSchema, ...errorResponses(400) },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      return {
        categories: await notifications.putPreferences(
          userActor(request),
          session.accountId,
          request.body.categories,
        ),
      };
    },
  );

  app.get(
    "/api/v1/me/notifications",
    {
      schema: {
        tags,
        summary: "Your in-app notifications, newest first",
        querystring: Type.Object(
          {
            unread: Type.Optional(Type.Boolean()),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            cursor: Type.Optional(Str(512, { minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(NotificationSchema),
            next_cursor: Nullable(Type.String()),
            unread_count: Type.Integer(),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => {
      const page = await notifications.list(sessionOf(request).userId, {
        unread: request.query.unread ?? false,
        limit: request.query.limit ?? 20,
        cursor: request.query.cursor,
      });
      return {
        data: page.notifications.map(notificationView),
        next_cursor: page.nextCursor,
        unread_count: page.unreadCount,
      };
    },
  );

  app.post(
    "/api/v1/me/notifications/read",
    {
      schema: {
        tags,
        summary: "Mark your notifications read: some (`ids`; others' ids change nothing) or all",
        body: Type.Union([
          Body({ ids: Type.Array(Str(64, { minLength: 1 }), { minItems: 1, maxItems: 200 }) }),
          Body({ all: Type.Literal(true) }),
        ]),
        response: {
          200: Type.Object({ marked: Type.Integer(), unread_count: Type.Integer() }),
          ...errorResponses(400),
        },
      },
    },
    async (request) => {
      const body = request.body;
      const result = await notifications.markRead(
        sessionOf(request).userId,
        "ids" in body ? body.ids : "all",
      );
      return { marked: result.marked, unread_count: result.unreadCount };
    },
  );

  app.get(
    "/api/v1/me/notifications/stream",
    {
      schema: {
        tags,
        summary:
          "Server-Sent Events: `event: notification` with each new notification as JSON, and a comment every 25 s",
        response: {
          200: {
            description: "An endless event stream",
            content: { "text/event-stream": { schema: Type.String() } },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (request, reply) => {
      const userId = sessionOf(request).userId;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      raw.write("retry: 5000\n: connected\n\n");
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        close();
        raw.end();
      };
      const close = notificationHub.open(userId, {
        send: (n) =>
          raw.write(`id: ${n.id}\nevent: notification\ndata: ${JSON.stringify(notificationView(n))}\n\n`),
        end,
      });
      const heartbeat = setInterval(() => raw.write(": heartbeat\n\n"), HEARTBEAT_SECONDS * 1000);
      heartbeat.unref();
      request.raw.on("close", end);
    },
  );

  app.post(
    "/api/v1/me/mobile/verification",
    {
      schema: {
        tags,
        summary: "Text a code to your profile's mobile number, to verify it (for SMS alerts)",
        response: {
          202: Type.Object({ mobile: Type.String(), expires_in: Type.Integer() }),
          ...errorResponses(400, 409, 429),
        },
      },
    },
    async (request, reply) => {
      const session = sessionOf(request);
      const sent = await notifications.startMobileVerification(session, actorOf(request));
      return reply.status(202).send(sent);
    },
  );

  app.post(
    "/api/v1/me/mobile/verification/confirm",
    {
      schema: {
        tags,
        summary: "Confirm the texted code: your mobile number is verified",
        body: Body({ code: Str(16, { minLength: 1 }) }),
        response: { 200: Type.Ref("Me"), ...errorResponses(400, 429) },
      },
    },
    async (request) => {
      const session = sessionOf(request);
      await notifications.confirmMobile(session, request.body.code, actorOf(request));
      return meView(await services.users.getMe(session.userId));
    },
  );

  const Unsubscribe = {
    querystring: Type.Object({ token: Str(512, { minLength: 1 }) }, { additionalProperties: false }),
  };

  // Mail clients post `List-Unsubscribe=One-Click` as a form (RFC 8058); only this route reads forms.
  fastify.register(async (scope) => {
    for (const type of ["application/x-www-form-urlencoded", "multipart/form-data"])
      scope.addContentTypeParser(type, { parseAs: "string", bodyLimit: 4096 }, (_request, body, done) =>
        done(null, body),
      );
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      "/api/v1/notifications/unsubscribe",
      {
        config: { auth: "none" },
        schema: {
          tags,
          summary:
            "One-click unsubscribe (RFC 8058) from a mail's List-Unsubscribe link: that category's mail stops",
          ...Unsubscribe,
          response: { 200: Type.Object({ unsubscribed: Type.Boolean() }), ...errorResponses(400) },
        },
      },
      async (request) => {
        await notifications.unsubscribe(request.query.token);
        return { unsubscribed: true };
      },
    );
  });

  // RFC 8058: only a POST unsubscribes (mail scanners follow links); a GET only offers the button.
  app.get(
    "/api/v1/notifications/unsubscribe",
    {
      config: { auth: "none" },
      schema: { tags, summary: "A page with an unsubscribe button (changes nothing)", ...Unsubscribe },
    },
    async (request, reply) => {
      const action = `/api/v1/notifications/unsubscribe?token=${encodeURIComponent(request.query.token)}`;
      return reply
        .type("text/html; charset=utf-8")
        .send(
          `<!doctype html><html><body style="font-family:system-ui,sans-serif"><h1>Unsubscribe</h1><p>Stop these notification mails?</p><form method="post" action="${action.replace(/"/g, "&quot;")}"><button type="submit">Unsubscribe</button></form></body></html>`,
        );
    },
  );
}
