import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isConcurrentConflict, isConnectionLoss } from "../db/database.js";
import { AppError, type ErrorCode, invalidFields, toProblem } from "./errors.js";
import { toFieldErrors } from "./validation.js";

/**
 * Fastify's own errors, each with a fixed detail: their messages quote the URL or the input, which a
 * problem must not echo (a 414's message is the whole over-long URL).
 */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ["invalid_json", "The request body is not valid JSON"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["invalid_json", "The request body is empty but its content type is JSON"],
  FST_ERR_CTP_BODY_TOO_LARGE: ["payload_too_large", "The request body is too large"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["unsupported_media_type", "Send the body as application/json"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["bad_request", "The content-length header does not match the body"],
  FST_ERR_BAD_URL: ["invalid_url", "The URL holds a malformed percent-escape"],
  FST_ERR_MAX_PARAM_LENGTH: ["uri_too_long", "A path segment is longer than 100 characters"],
};

/** Other 4xx errors a plugin or Fastify may raise, by status; any other is bad input (a forbidden `__proto__` key). */
const STATUS_CODES_4XX: Record<number, ErrorCode> = {
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  413: "payload_too_large",
  414: "uri_too_long",
  415: "unsupported_media_type",
  429: "rate_limited",
  431: "headers_too_large",
};

export function sendProblem(reply: FastifyReply, error: AppError) {
  if (error.headers) reply.headers(error.headers);
  return reply
    .status(error.status)
    .type("application/problem+json; charset=utf-8")
    .serializer(JSON.stringify)
    .send(toProblem(error, reply.request.id));
}

/** Seconds a client is asked to wait after a lost database connection: the pool reconnects on the next query. */
export const RETRY_AFTER_CONNECTION_LOSS_SECONDS = 2;

/** 503 for a database that is restarting, failing over or out of reach. */
export function databaseUnavailable(): AppError {
  return new AppError("unavailable", "The database is unreachable; try again in a moment.", {
    headers: { "retry-after": String(RETRY_AFTER_CONNECTION_LOSS_SECONDS) },
  });
}

/** Everything that goes wrong becomes problem+json; only unknown errors are 500s, and they are logged. */
export function toAppError(error: FastifyError | Error, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const part = fastifyError.validationContext ?? "body";
    return invalidFields(toFieldErrors(fastifyError.validation as never, part));
  }
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped) return new AppError(mapped[0], mapped[1]);
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return new AppError(STATUS_CODES_4XX[status] ?? "validation_failed", fastifyError.message);
  }
  if (isConnectionLoss(error)) {
    request.log.warn({ err: error }, "database connection lost");
    return databaseUnavailable();
  }
  if (isConcurrentConflict(error)) {
    request.log.warn({ err: error }, "write lost a race with another request");
    return new AppError("conflict", "Another request changed the same thing at the same moment; try again.");
  }
  request.log.error({ err: error }, "unhandled error");
  return new AppError("internal_error", `Something went wrong on our side (request ${request.id}).`);
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendProblem(reply, toAppError(error, request)),
  );
}

/**
 * Fastify's `frameworkErrors`: a malformed percent-escape or an over-long path segment, found while
 * routing, before any hook runs; the headers every response carries are therefore set here.
 */
export function frameworkErrorHandler(headers: Record<string, string>) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(headers).header("x-request-id", request.id);
    return sendProblem(reply, toAppError(error, request));
  };
}

/**
 * Node's `clientError`: requests that are not valid HTTP, or whose request line and headers pass the
 * 16 KiB limit (an over-long query string), never reach Fastify; they get a problem on the raw socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (error.code === "ECONNRESET" || socket.destroyed || !socket.writable) return;
  const appError =
    error.code === "HPE_HEADER_OVERFLOW"
      ? new AppError("headers_too_large", "The request line and headers are larger than 16 KiB")
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new AppError("request_timeout", "The request was not received in time")
        : new AppError("bad_request", "The request is not valid HTTP");
  const requestId = randomUUID();
  const body = JSON.stringify(toProblem(appError, requestId));
  socket.end(
    [
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}`,
      "content-type: application/problem+json; charset=utf-8",
      `content-length: ${Buffer.byteLength(body)}`,
      `x-request-id: ${requestId}`,
      "x-content-type-options: nosniff",
      "connection: close",
      "",
      body,
    ].join("\r\n"),
  );
}
