import type { FastifyInstance } from "fastify";
import helmet from "helmet";

/**
 * Helmet's headers, computed once. The headers never vary by request, so running the helmet
 * middleware per request (what @fastify/helmet does) only costs throughput.
 */
export function securityHeaders(): Record<string, string> {
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

export function registerSecurityHeaders(app: FastifyInstance) {
  const headers = securityHeaders();
  app.addHook("onRequest", (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (String(reply.getHeader("content-type") ?? "").startsWith("text/html"))
      reply.header("permissions-policy", PERMISSIONS_POLICY);
    done(null, payload);
  });
}
