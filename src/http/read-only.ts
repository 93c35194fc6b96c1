import type { FastifyRequest } from "fastify";
import { invalidFields } from "./errors.js";

/**
 * A route's `preValidation` hook refusing fields a client may read but not send (an uploaded image's
 * URL): 400 `validation_failed` naming each, with what to do instead.
 */
export function refuseReadOnly(fields: Record<string, string>) {
  return async (request: FastifyRequest) => {
    const body = request.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) return;
    const sent = Object.keys(fields).filter((field) => Object.hasOwn(body, field));
    if (sent.length === 0) return;
    throw invalidFields(
      sent.map((field) => ({ path: field, code: "read_only", message: fields[field] as string })),
    );
  };
}
