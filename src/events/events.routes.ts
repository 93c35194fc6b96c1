import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { EVENT_TYPES } from "./catalog.js";

const EventTypeView = Type.Object({
  type: Type.String(),
  description: Type.String(),
  /** The notification category it falls in; null for machine-only events (webhooks). */
  category: Type.Union([Type.String(), Type.Null()]),
  example: Type.Record(Type.String(), Type.Unknown()),
});

const catalog = Object.entries(EVENT_TYPES).map(([type, spec]) => ({
  type,
  description: spec.description,
  category: spec.category,
  example: spec.example as Record<string, unknown>,
}));

export function registerEventsRoutes(app: FastifyInstance) {
  app.get(
    "/api/v1/event-types",
    {
      // The catalog holds no account data: host developers read it before they have a key.
      config: { auth: "none" },
      schema: {
        tags: ["events"],
        summary: "Every event type Gatehouse sends to webhooks, with an example payload",
        response: { 200: Type.Object({ data: Type.Array(EventTypeView) }) },
      },
    },
    async () => ({ data: catalog }),
  );
}
