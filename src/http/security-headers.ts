import type { FastifyInstance } from "fastify";
import helmet from "helmet";

/**
 * Response headers, decided once per route when it is registered:
 * - pages (the web app, its assets, the HTML fallback, /docs, /dev): helmet's full set plus a
 *   Permissions-Policy;
 * - JSON (everything under /api/, health, the OpenAPI document, /.well-known): only what matters
 *   to a response no browser renders — nosniff, no-store, and HSTS when the public URL is https;
 * - files (/files/…): nosniff (and HSTS); their route sets its own caching and CSP.
 * Helmet's twelve headers on every JSON answer were ~950 bytes a response for nothing.
 */
export type HeaderSet = Readonly<Record<string, string>>;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set at registration (see registerSecurityHeaders), never by a route. */
    responseHeaders?: HeaderSet;
  }
}

/** Helmet's defaults (HSTS included), with a CSP for the web app, computed once. */
export function helmetHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  const middleware = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "https:"],
        connectSrc: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
  });
  middleware({} as never, response as never, () => {});
  return headers;
}

/**
 * Browser features the web app never uses are off for it and anything it could embed; passkeys
 * (WebAuthn) stay on for the app's own origin.
 */
export const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "autoplay=()",
  "camera=()",
  "display-capture=()",
  "geolocation=()",
  "gyroscope=()",
  "hid=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "payment=()",
  "publickey-credentials-create=(self)",
  "publickey-credentials-get=(self)",
  "serial=()",
  "usb=()",
].join(", ");

/** helmet's value: a year, subdomains included. */
export const HSTS = "max-age=31536000; includeSubDomains";

export type HeaderSets = { html: HeaderSet; json: HeaderSet; files: HeaderSet };

export function securityHeaderSets(options: { https: boolean }): HeaderSets {
  const hsts: Record<string, string> = options.https ? { "strict-transport-security": HSTS } : {};
  return {
    html: Object.freeze({ ...helmetHeaders(), "permissions-policy": PERMISSIONS_POLICY }),
    json: Object.freeze({ "x-content-type-options": "nosniff", "cache-control": "no-store", ...hsts }),
    files: Object.freeze({ "x-content-type-options": "nosniff", ...hsts }),
  };
}

/** Paths whose answers are JSON (or problems), never a page. */
const JSON_PATHS = /^\/(api|\.well-known)(\/|$)|^\/(healthz|readyz|openapi\.json)$/;

/** The set for a route's URL pattern, or for a request's path when no route matched. */
export function headerSetFor(path: string, sets: HeaderSets): HeaderSet {
  if (JSON_PATHS.test(path)) return sets.json;
  if (path.startsWith("/files/")) return sets.files;
  return sets.html;
}

/** Register before the routes: each route gets its set when it is registered. */
export function registerSecurityHeaders(app: FastifyInstance, sets: HeaderSets) {
  app.addHook("onRoute", (route) => {
    route.config = { ...route.config, responseHeaders: headerSetFor(route.url, sets) };
  });
  // The first onRequest hook, so answers refused by later hooks (401, 403, 429) carry the set too.
  app.addHook("onRequest", (request, reply, done) => {
    const set = request.routeOptions.config?.responseHeaders;
    // A miss (no route) is decided by its path; the HTML fallback page is the web app's.
    reply.headers(set ?? headerSetFor(request.url.split("?")[0] ?? "/", sets));
    done();
  });
}
