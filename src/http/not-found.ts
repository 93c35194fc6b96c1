import type { FastifyInstance } from "fastify";
import { sendProblem } from "./error-handler.js";
import { AppError } from "./errors.js";

/** Paths that are never pages of the web app, so a miss there is a problem, not the app's shell. */
const NOT_PAGES = /^\/(api|dev|files|docs)(\/|$)/;

type RouteTable = { methodsFor(path: string): string[] };

const patternOf = (url: string) =>
  new RegExp(
    `^${url
      .split("/")
      .map((segment) =>
        segment === "*"
          ? ".*"
          : segment.startsWith(":")
            ? "[^/]+"
            : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
      )
      .join("/")}$`,
  );

/**
 * Every route's path pattern and methods, so that a request to a known path with another method is
 * told 405 and what is allowed. Register before the routes.
 */
export function recordRoutes(app: FastifyInstance): RouteTable {
  const routes: Array<{ pattern: RegExp; methods: string[] }> = [];
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat();
    routes.push({ pattern: patternOf(route.url), methods });
  });
  return {
    methodsFor: (path) => [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))],
  };
}

/**
 * Misses: a page of the web app for a browser's GET (it routes on the client), 405 for a known path
 * asked with another method, else 404, as problem+json.
 */
export function registerNotFoundHandler(
  app: FastifyInstance,
  routes: RouteTable,
  options: { webIndex: boolean },
) {
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    const isPage =
      (request.method === "GET" || request.method === "HEAD") &&
      !NOT_PAGES.test(path) &&
      !/\.[a-z0-9]+$/i.test(path);
    if (isPage && options.webIndex) return reply.type("text/html; charset=utf-8").sendFile("index.html");
    const allowed = routes.methodsFor(path);
    if (allowed.length > 0) {
      return sendProblem(
        reply,
        new AppError(
          "method_not_allowed",
          `${request.method} is not allowed here; use ${allowed.join(", ")}`,
          {
            headers: { allow: allowed.join(", ") },
          },
        ),
      );
    }
    return sendProblem(reply, new AppError("not_found", "No such route"));
  });
}
