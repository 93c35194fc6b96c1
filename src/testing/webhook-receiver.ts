import http from "node:http";
import type { AddressInfo } from "node:net";

export type ReceivedWebhook = { path: string; headers: Record<string, string>; body: string };

/** What the receiver answers a request: a status (with an optional Location), or nothing at all. */
export type Answer = { status: number; location?: string; body?: string } | "hang";

/**
 * A real HTTP server on 127.0.0.1 that keeps every request it receives and answers as the test says
 * (`respond`, per request; 204 when unset).
 */
export async function startWebhookReceiver() {
  const received: ReceivedWebhook[] = [];
  let respond: (request: ReceivedWebhook) => Answer = () => ({ status: 204 });
  const hanging = new Set<http.ServerResponse>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
      );
      const request = { path: req.url ?? "/", headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(request);
      const answer = respond(request);
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: (path = "/hooks") => `http://127.0.0.1:${port}${path}`,
    received,
    /** Requests to `path`. */
    at: (path: string) => received.filter((r) => r.path === path),
    respond(handler: (request: ReceivedWebhook) => Answer) {
      respond = handler;
    },
    /** Most requests that were open at one time. */
    maxInFlight: () => maxInFlight,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
