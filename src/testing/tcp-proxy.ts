import net from "node:net";

/**
 * A TCP proxy in front of PostgreSQL, for tests that need the network to fail the way a database
 * restart or failover makes it fail: `cut()` resets every connection and refuses new ones until
 * `restore()`; `cutListen()` does that only to connections that run LISTEN (the cache invalidation
 * channel), so queries keep working while invalidations cannot be heard.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  type Pair = { client: net.Socket; upstream: net.Socket; listens: boolean };
  const pairs = new Set<Pair>();
  let down = false;
  let listenDown = false;

  const drop = (pair: Pair) => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };

  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const pair: Pair = { client, upstream, listens: false };
    pairs.add(pair);
    client.on("data", (chunk: Buffer) => {
      // A simple-protocol query message carries its SQL as text.
      if (chunk.includes("LISTEN ")) pair.listens = true;
      if (pair.listens && listenDown) drop(pair);
      else upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on("error", () => drop(pair));
    upstream.on("error", () => drop(pair));
    client.on("close", () => drop(pair));
    upstream.on("close", () => drop(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    /** `url` (a postgres:// URL to the real server) with its host and port replaced by the proxy's. */
    urlFor(url: string): string {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(port);
      return proxied.toString();
    },
    cut() {
      down = true;
      for (const pair of [...pairs]) drop(pair);
    },
    cutListen() {
      listenDown = true;
      for (const pair of [...pairs]) if (pair.listens) drop(pair);
    },
    restore() {
      down = false;
      listenDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) drop(pair);
        server.close(() => resolve());
      }),
  };
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
