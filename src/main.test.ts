import { once } from "node:events";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { testDialects } from "./testing/harness.js";
import {
  createScratchDatabase,
  logLines,
  type ServerProcess,
  startServer,
} from "./testing/server-process.js";

// These start real processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 120_000;

describe("the server process", () => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  afterAll(() => database?.drop());

  it(
    "migrates on start, generates a secret key, logs JSON with request ids, and drains on SIGTERM",
    async () => {
      database = await createScratchDatabase("sqlite");
      const server = await startServer(database.url);
      const { child, base, logs } = server;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await fetch(`${base}/reset-password?token=secret-from-a-mail-link`);

      // A sign-up hashes a password (tens of ms): SIGTERM arrives while it is in flight.
      const inFlight = fetch(`${base}/api/v1/auth/signup`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          email: "drain@example.com",
          password: "tangerine submarine orchestra",
          name: "D",
          account_name: "D",
        }),
      });
      await new Promise((r) => setTimeout(r, 5));
      child.kill("SIGTERM");
      expect((await inFlight).status).toBe(201);
      expect(await server.exited).toBe(0);

      const lines = logLines(server);
      expect(lines.some((l) => l.msg === "request completed" && typeof l.reqId === "string")).toBe(true);
      expect(lines.some((l) => l.msg === "stopped")).toBe(true);
      expect(lines.some((l) => l.msg === "request completed" && l.url === "/reset-password")).toBe(true);
      expect(logs()).not.toContain("secret-from-a-mail-link");
    },
    PROCESS_TEST_TIMEOUT,
  );
});

/** A request whose body never finishes arriving: a graceful shutdown would wait for it forever. */
async function holdRequestOpen(server: ServerProcess): Promise<net.Socket> {
  const { hostname, port } = new URL(server.base);
  const socket = net.connect(Number(port), hostname);
  socket.on("error", () => {});
  await once(socket, "connect");
  socket.write(
    "POST /api/v1/auth/login HTTP/1.1\r\nhost: gatehouse\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
  );
  // In flight once the server has logged it at debug (before that, shutdown would just close an idle socket).
  while (!logLines(server).some((l) => l.msg === "incoming request" && l.url === "/api/v1/auth/login"))
    await new Promise((r) => setTimeout(r, 10));
  return socket;
}

describe.each(testDialects())("shutting the server process down on %s", (dialect) => {
  const databases: Array<{ drop(): Promise<void> }> = [];
  const servers: ServerProcess[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const database = await createScratchDatabase(dialect);
    databases.push(database);
    // At debug, a request is logged as it starts (holdRequestOpen waits for that line).
    const server = await startServer(database.url, { LOG_LEVEL: "debug", ...env });
    servers.push(server);
    return server;
  };
  afterAll(async () => {
    // A failed test can leave its process hanging (which is what these tests look for).
    for (const server of servers) if (server.child.exitCode === null) server.child.kill("SIGKILL");
    await Promise.all(servers.map((server) => server.exited));
    for (const database of databases) await database.drop();
  });

  it(
    "exits 0 on SIGTERM when its stdout is a closed pipe (its parent went away)",
    async () => {
      const server = await start();
      server.child.stdout?.destroy();
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "exits 1 at SHUTDOWN_TIMEOUT_SECONDS when a request never finishes, stdout closed or not",
    async () => {
      const server = await start({ SHUTDOWN_TIMEOUT_SECONDS: "1" });
      const held = await holdRequestOpen(server);
      server.child.stdout?.destroy();
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(1);
      held.destroy();
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "exits 1 at once on a second SIGTERM or SIGINT while it waits for a request",
    async () => {
      const server = await start({ SHUTDOWN_TIMEOUT_SECONDS: "3600" });
      const held = await holdRequestOpen(server);
      server.child.kill("SIGTERM");
      while (!logLines(server).some((l) => String(l.msg).startsWith("shutting down")))
        await new Promise((r) => setTimeout(r, 10));
      server.child.kill("SIGINT");
      expect(await server.exited).toBe(1);
      expect(logLines(server).some((l) => String(l.msg).startsWith("second signal"))).toBe(true);
      held.destroy();
    },
    PROCESS_TEST_TIMEOUT,
  );
});

describe("SHUTDOWN_TIMEOUT_SECONDS", () => {
  const base = { NODE_ENV: "test", SECRET_KEY: "k".repeat(32), DATABASE_URL: "sqlite::memory:" };

  it("defaults to 10 seconds and takes whole seconds from 1 to 3600", () => {
    expect(loadConfig(base).shutdownTimeoutSeconds).toBe(10);
    expect(loadConfig({ ...base, SHUTDOWN_TIMEOUT_SECONDS: "30" }).shutdownTimeoutSeconds).toBe(30);
    for (const bad of ["0", "-5", "1.5", "3601", "ten"])
      expect(() => loadConfig({ ...base, SHUTDOWN_TIMEOUT_SECONDS: bad })).toThrow(
        /SHUTDOWN_TIMEOUT_SECONDS/,
      );
  });
});
