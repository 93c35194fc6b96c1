import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sendProblem } from "../http/error-handler.js";
import { notFound } from "../http/errors.js";
import { Str } from "../http/schemas.js";
import type { FileStorage } from "./storage.js";

/**
 * The keys /files serves: uploaded images only (`<40 hex>.png|webp`, content-addressed). Anything
 * else, a path, a dot segment, another extension, is not found, so an export or any future private
 * file can never be fetched through this public, unauthenticated route.
 */
export const PUBLIC_FILE_KEY = /^[0-9a-f]{40}\.(png|webp)$/;

const CONTENT_TYPES: Record<string, string> = { png: "image/png", webp: "image/webp" };

/** A year, and never revalidated: a key's content never changes (a new image gets a new key). */
const CACHE_FOREVER = "public, max-age=31536000, immutable";

/** GET /files/{key}: stored images, cacheable forever, inert if opened as a page. */
export function registerFilesRoutes(app: FastifyInstance, deps: { storage: FileStorage }) {
  app.get(
    "/files/:key",
    {
      config: { auth: "none" },
      schema: {
        tags: ["files"],
        summary: "A stored image (logo, avatar) by its key; cached forever",
        params: Type.Object({ key: Str(100) }),
        produces: ["image/png", "image/webp"],
        response: {
          200: Type.String({ format: "binary", description: "The image" }),
          304: Type.Null({ description: "Not modified (If-None-Match)" }),
        },
      },
    },
    async (request, reply) => {
      const { key } = request.params as { key: string };
      if (!PUBLIC_FILE_KEY.test(key)) return sendProblem(reply, notFound("File"));
      const etag = `"${key.slice(0, 40)}"`;
      reply.headers({
        "cache-control": CACHE_FOREVER,
        etag,
        // Opened directly, the response can run nothing and be read as nothing but an image.
        "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff",
        // Logos appear on custom domains' login pages and in mail: other origins may embed them.
        "cross-origin-resource-policy": "cross-origin",
      });
      if (request.headers["if-none-match"]?.split(/\s*,\s*/).includes(etag)) {
        // Only a file that exists is "not modified"; a deleted key is a 404.
        if ((await deps.storage.size(key)) !== undefined) return reply.status(304).send();
      }
      const file = await deps.storage.get(key);
      if (!file) {
        reply.removeHeader("cache-control").removeHeader("etag");
        return sendProblem(reply, notFound("File"));
      }
      const extension = key.slice(key.lastIndexOf(".") + 1);
      return reply
        .type(CONTENT_TYPES[extension] as string)
        .header("content-length", file.size)
        .send(file.bytes ?? file.body);
    },
  );
}
