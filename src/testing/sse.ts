import { type IncomingMessage, request } from "node:http";

export type SseEvent = { event: string; data: string };

/** A real HTTP Server-Sent Events reader: resolves `next` with the first event that matches. */
export function openStream(base: string, cookie: string) {
  return new Promise<{
    response: IncomingMessage;
    next(match: (e: SseEvent) => boolean): Promise<SseEvent>;
    comments: string[];
    close(): void;
  }>((resolve, reject) => {
    const req = request(`${base}/api/v1/me/notifications/stream`, {
      headers: { cookie: `gatehouse_session=${cookie}`, accept: "text/event-stream" },
    });
    req.on("error", reject);
    req.on("response", (response) => {
      const seen: SseEvent[] = [];
      const comments: string[] = [];
      const waiters: Array<{ match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
      let buffer = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { event: "message", data: "" };
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line.slice(1).trim());
            else if (line.startsWith("event: ")) event.event = line.slice(7);
            else if (line.startsWith("data: ")) event.data += line.slice(6);
          }
          if (!event.data) continue;
          seen.push(event);
          for (const w of [...waiters])
            if (w.match(event)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(event);
            }
        }
      });
      resolve({
        response,
        comments,
        next: (match) =>
          new Promise((res) => {
            const found = seen.find(match);
            if (found) res(found);
            else waiters.push({ match, resolve: res });
          }),
        close: () => req.destroy(),
      });
    });
    req.end();
  });
}
