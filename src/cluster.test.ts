import { Agent, type IncomingMessage, request } from "node:http";
import { availableParallelism } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { ownerOfConnection, serverChildrenOf } from "./testing/processes.js";
import {
  createScratchDatabase,
  logLines,
  type ServerProcess,
  startServer,
} from "./testing/server-process.js";

// Real processes (tsx compiles on the way, the primary migrates a fresh database): slow on a busy machine.
const PROCESS_TEST_TIMEOUT = 180_000;

describe("WORKERS", () => {
  const base = { NODE_ENV: "test", SECRET_KEY: "k".repeat(32), DATABASE_URL: "postgres://db.example/gh" };

  it("defaults to 1, takes a whole number or auto (the CPUs), and needs PostgreSQL beyond 1", () => {
    expect(loadConfig(base).workers).toBe(1);
    expect(loadConfig({ ...base, WORKERS: "4" }).workers).toBe(4);
    expect(loadConfig({ ...base, WORKERS: "auto" }).workers).toBe(availableParallelism());
    for (const bad of ["0", "-1", "1.5", "two", "257"])
      expect(() => loadConfig({ ...base, WORKERS: bad })).toThrow(/WORKERS must be auto or a whole number/);
    const sqlite = { ...base, DATABASE_URL: "sqlite::memory:" };
    expect(loadConfig({ ...sqlite, WORKERS: "1" }).workers).toBe(1);
    expect(() => loadConfig({ ...sqlite, WORKERS: "2" })).toThrow(/WORKERS=2 needs PostgreSQL.*DATABASE_URL/);
  });

  it(
    "with SQLite, WORKERS=2 stops start-up with a configuration error",
    async () => {
      const database = await createScratchDatabase("sqlite");
      try {
        const started = startServer(database.url, { WORKERS: "2" });
        await expect(started).rejects.toThrow(
          /exited early with 1: [\s\S]*Configuration error: WORKERS=2 needs PostgreSQL.*DATABASE_URL/,
        );
      } finally {
        await database.drop();
      }
    },
    PROCESS_TEST_TIMEOUT,
  );
});

type Answer = {
  status: number;
  body: string;
  headers: IncomingMessage["headers"];
  servedBy: number | undefined;
};

/**
 * One request on a new connection (the cluster hands connections to workers in turn), and which worker
 * answered it: the connection is still open when the answer is in, so its server end has an owner.
 */
async function send(
  server: ServerProcess,
  workers: number[],
  method: string,
  path: string,
  options: { cookie?: string; csrf?: string; body?: unknown } = {},
): Promise<Answer> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(path, server.base);
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent,
          headers: {
            ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
            ...(options.cookie ? { cookie: `gatehouse_session=${options.cookie}` } : {}),
            ...(options.csrf ? { "x-csrf-token": options.csrf } : {}),
          },
        },
        (response) => {
          const servedBy = ownerOfConnection(Number(url.port), response.socket.localPort as number, workers);
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            body += chunk;
          });
          response.on("end", () =>
            resolve({ status: response.statusCode as number, body, headers: response.headers, servedBy }),
          );
        },
      );
      req.on("error", reject);
      req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
    });
  } finally {
    agent.destroy();
  }
}

const sessionCookieOf = (answer: Answer) =>
  /gatehouse_session=([^;]+)/.exec((answer.headers["set-cookie"] ?? []).join("\n"))?.[1] as string;

describe.runIf(process.env.TEST_DATABASE_URL)("a WORKERS=2 server on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let server: ServerProcess;
  let workers: number[];
  const password = "tangerine submarine orchestra";

  beforeAll(async () => {
    database = await createScratchDatabase("postgres");
    server = await startServer(database.url, { WORKERS: "2", LOG_LEVEL: "info" });
    while (!logLines(server).some((l) => l.msg === "2 workers are serving"))
      await new Promise((r) => setTimeout(r, 50));
    workers = serverChildrenOf(server.child.pid as number);
  }, PROCESS_TEST_TIMEOUT);
  afterAll(async () => {
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
    await server?.exited;
    await database?.drop();
  });

  const logIn = async (email: string) => {
    const answer = await send(server, workers, "POST", "/api/v1/auth/login", { body: { email, password } });
    expect(answer.status).toBe(200);
    const state = JSON.parse(answer.body) as {
      csrf_token: string;
      session: { id: string };
      account_id: string;
    };
    return {
      cookie: sessionCookieOf(answer),
      csrf: state.csrf_token,
      id: state.session.id,
      accountId: state.account_id,
    };
  };

  /** Sends until every worker has answered once (connections go round-robin, so a few suffice). */
  const fromEveryWorker = async (send1: () => Promise<Answer>) => {
    const answers: Answer[] = [];
    for (let i = 0; i < 20 && new Set(answers.map((a) => a.servedBy)).size < workers.length; i++)
      answers.push(await send1());
    return answers;
  };

  it(
    "runs two worker processes on one port and answers through both",
    async () => {
      expect(workers).toHaveLength(2);
      const signup = await send(server, workers, "POST", "/api/v1/auth/signup", {
        body: { email: "cluster@example.com", password, name: "C", account_name: "Cluster Co" },
      });
      expect(signup.status).toBe(201);
      const session = await logIn("cluster@example.com");
      const answers = await fromEveryWorker(() =>
        send(server, workers, "GET", "/api/v1/session", { cookie: session.cookie }),
      );
      expect(new Set(answers.map((a) => a.servedBy))).toEqual(new Set(workers));
      expect(answers.every((a) => a.status === 200)).toBe(true);
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "refuses a session revoked through one worker on every worker (each had it cached)",
    async () => {
      const keeper = await logIn("cluster@example.com");
      const revoked = await logIn("cluster@example.com");
      const get = () => send(server, workers, "GET", "/api/v1/session", { cookie: revoked.cookie });
      expect((await fromEveryWorker(get)).every((a) => a.status === 200)).toBe(true);

      const deleted = await send(server, workers, "DELETE", `/api/v1/me/sessions/${revoked.id}`, keeper);
      expect(deleted.status).toBe(204);
      // The other worker hears the revocation through LISTEN/NOTIFY, within milliseconds: until every
      // worker has refused once, and then always.
      const refusedBy = new Set<number | undefined>();
      for (let i = 0; i < 400 && refusedBy.size < workers.length; i++) {
        const answer = await get();
        if (answer.status === 401) refusedBy.add(answer.servedBy);
        else await new Promise((r) => setTimeout(r, 5));
      }
      expect(refusedBy).toEqual(new Set(workers));
      const later = await Promise.all(Array.from({ length: 6 }, get));
      expect(later.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 401]);
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "pushes a notification to a stream served by one worker when the change went through the other",
    async () => {
      const session = await logIn("cluster@example.com");
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const url = new URL("/api/v1/me/notifications/stream", server.base);
      const events: string[] = [];
      const stream = await new Promise<{ servedBy: number | undefined; close(): void }>((resolve, reject) => {
        const req = request(
          url,
          { agent, headers: { cookie: `gatehouse_session=${session.cookie}`, accept: "text/event-stream" } },
          (response) => {
            expect(response.statusCode).toBe(200);
            response.setEncoding("utf8");
            response.on("data", (chunk: string) => events.push(chunk));
            resolve({
              servedBy: ownerOfConnection(Number(url.port), response.socket.localPort as number, workers),
              close: () => {
                req.destroy();
                agent.destroy();
              },
            });
          },
        );
        req.on("error", reject);
        req.end();
      });
      try {
        expect(workers).toContain(stream.servedBy);
        // A change to the security policy is announced to whoever may manage it, the actor included.
        const announced = () => events.join("").split("security settings changed").length - 1;
        let changes = 0;
        for (let i = 0; i < 20; i++) {
          const patched = await send(
            server,
            workers,
            "PATCH",
            `/api/v1/accounts/${session.accountId}/security`,
            {
              ...session,
              body: { session: { idle_minutes: 600 + i } },
            },
          );
          expect(patched.status).toBe(200);
          changes++;
          if (patched.servedBy !== stream.servedBy) break;
        }
        // The fan-out runs in the worker that made the change; the stream's worker hears it by NOTIFY.
        await expect.poll(announced, { timeout: 30_000, interval: 50 }).toBe(changes);
      } finally {
        stream.close();
      }
    },
    PROCESS_TEST_TIMEOUT,
  );

  it(
    "replaces a worker that dies, and drains every worker and exits 0 on SIGTERM",
    async () => {
      const [victim] = workers as [number];
      process.kill(victim, "SIGKILL");
      await expect
        .poll(
          () => {
            const now = serverChildrenOf(server.child.pid as number);
            return now.length === 2 && !now.includes(victim);
          },
          { timeout: 120_000, interval: 100 },
        )
        .toBe(true);
      expect(logLines(server).some((l) => l.msg === "a worker died unexpectedly: replacing it")).toBe(true);
      // The replacement serves before the drain starts (else the drain would wait for its start-up).
      while (logLines(server).filter((l) => String(l.msg).startsWith("Gatehouse is ready")).length < 3)
        await new Promise((r) => setTimeout(r, 50));

      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      const lines = logLines(server);
      expect(lines.filter((l) => l.msg === "stopped")).toHaveLength(3); // two workers, then the primary
      expect(serverChildrenOf(server.child.pid as number)).toEqual([]);
    },
    PROCESS_TEST_TIMEOUT,
  );
});
