import fastifyMultipart, { type MultipartFile } from "@fastify/multipart";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AccountSchema } from "../accounts/accounts.routes.js";
import { accountView } from "../accounts/accounts.views.js";
import { sessionOf, userActor } from "../http/context.js";
import { AppError } from "../http/errors.js";
import { errorResponses, Str } from "../http/schemas.js";
import { createValidatorCompiler } from "../http/validation.js";
import { meView } from "../http/views.js";
import type { Services } from "../services.js";
import { invalidImage } from "./images.js";

/** The largest image accepted (the file itself; the multipart framing around it may add a little). */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024;
/** Room for the multipart boundaries and part headers around the file. */
const FRAMING_BYTES = 16 * 1024;

const tooLarge = () =>
  new AppError("payload_too_large", `The image is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB`);

/** The field the image must come in. */
const FIELD = "file";

/**
 * Multipart's own errors: a limit reached (413, 4xx) keeps its status; a malformed body (busboy's
 * plain errors: a cut-off part, a bad header) is the client's fault, never a 500.
 */
function multipartError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const { code, statusCode } = error as { code?: string; statusCode?: number };
  if (code === "FST_REQ_FILE_TOO_LARGE") return tooLarge();
  if (statusCode === 413)
    return new AppError("payload_too_large", "Send one image in the field file, nothing else");
  return new AppError("bad_request", "The multipart body is malformed or incomplete");
}

/** The one uploaded file's bytes, read under the size limit; never trusts its name or declared type. */
async function readUpload(request: FastifyRequest): Promise<Buffer> {
  if (!request.isMultipart())
    throw new AppError(
      "unsupported_media_type",
      `Send the image as multipart/form-data, in a field named ${FIELD}`,
    );
  let part: MultipartFile | undefined;
  try {
    part = await request.file({ limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
  } catch (error) {
    throw multipartError(error);
  }
  if (!part)
    throw new AppError("validation_failed", "Attach an image", {
      errors: [{ path: FIELD, code: "required", message: `Attach the image in a field named ${FIELD}` }],
    });
  if (part.fieldname !== FIELD) {
    part.file.resume();
    throw new AppError("validation_failed", `The image must come in a field named ${FIELD}`, {
      errors: [{ path: FIELD, code: "required", message: `Attach the image in a field named ${FIELD}` }],
    });
  }
  let bytes: Buffer;
  try {
    bytes = await part.toBuffer();
  } catch (error) {
    throw multipartError(error);
  }
  // Belt and braces: a stream cut at the limit is never taken for the whole image.
  if (part.file.truncated) throw tooLarge();
  if (bytes.length === 0) throw invalidImage("The file is empty");
  return bytes;
}

const AccountParams = Type.Object({ account_id: Str(64) });
const uploadDescription = `multipart/form-data with the image in the field \`${FIELD}\`: PNG, JPEG or WebP, at most 2 MB, recognised from its content (not its name or declared type). It is re-encoded without its metadata.`;

/**
 * PUT/DELETE /accounts/{id}/logo and /me/avatar. The multipart parser is registered for the two
 * upload routes only: everywhere else a multipart body stays 415, as before.
 */
export async function registerUploadsRoutes(app: FastifyInstance, services: Services) {
  const { uploads, users } = services;

  await app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 4, fieldSize: 1024, parts: 5, headerPairs: 32 },
    });
    // The body is read by the handler (after the permission check), not validated as JSON: the
    // schema's body only documents the form in the OpenAPI document.
    const compile = createValidatorCompiler([]);
    scope.setValidatorCompiler((route) => (route.httpPart === "body" ? () => true : compile(route)));
    // A declared length past the limit is refused before a byte of the body is read.
    scope.addHook("onRequest", async (request) => {
      const length = Number(request.headers["content-length"] ?? 0);
      if (length > MAX_UPLOAD_BYTES + FRAMING_BYTES) throw tooLarge();
    });
    const body = Type.Object(
      { [FIELD]: Type.String({ format: "binary", description: "The image" }) },
      { description: uploadDescription },
    );

    scope.put(
      "/api/v1/accounts/:account_id/logo",
      {
        schema: {
          tags: ["accounts"],
          summary: "Upload the account's logo (account:update); served within 512×512 and 128×128, PNG",
          description: uploadDescription,
          consumes: ["multipart/form-data"],
          params: AccountParams,
          body,
          response: { 200: AccountSchema, ...errorResponses(400, 403, 404, 413, 415) },
        },
      },
      async (request) => {
        const { account_id } = request.params as { account_id: string };
        return accountView(await uploads.setLogo(userActor(request), account_id, () => readUpload(request)));
      },
    );

    scope.put(
      "/api/v1/me/avatar",
      {
        schema: {
          tags: ["me"],
          summary: "Upload your avatar; served as 256×256 and 64×64 squares, WebP",
          description: uploadDescription,
          consumes: ["multipart/form-data"],
          body,
          response: { 200: Type.Ref("Me"), ...errorResponses(400, 413, 415) },
        },
      },
      async (request) => {
        const session = sessionOf(request);
        await uploads.setAvatar(userActor(request), session.accountId, await readUpload(request));
        return meView(await users.getMe(session.userId));
      },
    );
  });

  app.delete(
    "/api/v1/accounts/:account_id/logo",
    {
      schema: {
        tags: ["accounts"],
        summary: "Remove the account's logo (account:update)",
        params: AccountParams,
        response: { 204: Type.Null(), ...errorResponses(403, 404) },
      },
    },
    async (request, reply) => {
      const { account_id } = request.params as { account_id: string };
      await uploads.removeLogo(userActor(request), account_id);
      return reply.status(204).send();
    },
  );

  app.delete(
    "/api/v1/me/avatar",
    {
      schema: { tags: ["me"], summary: "Remove your avatar", response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const session = sessionOf(request);
      await uploads.removeAvatar(userActor(request), session.accountId);
      return reply.status(204).send();
    },
  );
}
