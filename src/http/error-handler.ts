import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, type ErrorCode, toProblem } from "./errors.js";
import { toFieldErrors } from "./validation.js";

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "validation_failed",
};

export function sendProblem(reply: FastifyReply, error: AppError) {
  if (error.headers) reply.headers(error.headers);
  return reply
    .status(error.status)
    .type("application/problem+json; charset=utf-8")
    .serializer(JSON.stringify)
    .send(toProblem(error, reply.request.id));
}

/** Everything that goes wrong becomes problem+json; only unknown errors are 500s, and they are logged. */
export function toAppError(error: FastifyError | Error, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const part = fastifyError.validationContext ?? "body";
    const errors = toFieldErrors(fastifyError.validation as never, part);
    const first = errors[0];
    return new AppError("validation_failed", first ? `${first.path}: ${first.message}` : "Invalid request", {
      errors,
    });
  }
  const mapped = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
  if (mapped === "invalid_json") return new AppError("invalid_json", "The request body is not valid JSON");
  if (mapped) return new AppError(mapped, fastifyError.message);
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new AppError(
      fastifyError.statusCode === 404 ? "not_found" : "validation_failed",
      fastifyError.message,
    );
  }
  request.log.error({ err: error }, "unhandled error");
  return new AppError("internal_error", `Something went wrong on our side (request ${request.id}).`);
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendProblem(reply, toAppError(error, request)),
  );
}
