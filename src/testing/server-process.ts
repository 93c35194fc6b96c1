import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Dialect } from "./harness.js";

/** An empty database of its own for a server process: a SQLite file, or a PostgreSQL database. */
export async function createScratchDatabase(
  dialect: Dialect,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-process-"));
    return {
      url: `sqlite:${join(dir, "main.db")}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const adminUrl = process.env.TEST_DATABASE_URL as string;
  const name = `gatehouse_p_${randomBytes(6).toString("hex")}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export type ServerProcess = {
  child: ChildProcess;
  base: string;
  /** Everything written to stdout and stderr so far. */
  logs(): string;
  /** The exit code (null when killed by a signal). */
  exited: Promise<number | null>;
};

/** `src/main.ts` in a real process (tsx compiles on the way), resolved once it listens. */
export function startServer(databaseUrl: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      PORT: "0",
      DATABASE_URL: databaseUrl,
      NODE_ENV: "development",
      SMTP_URL: "",
      // On SQLite a key is generated beside the database file; elsewhere it would land in ./data. Processes
      // of one installation share its key (sealed secrets such as the OIDC signing keys), so it follows the
      // database: one key per scratch database.
      ...(databaseUrl.startsWith("sqlite:")
        ? {}
        : { SECRET_KEY: createHash("sha256").update(`gatehouse-test:${databaseUrl}`).digest("hex") }),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve({ child, base: match[1], logs: () => output, exited });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited early with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`server did not start: ${output}`)), 60_000).unref();
  });
}

/** The JSON log lines of a server process. */
export function logLines(server: ServerProcess): Array<Record<string, unknown>> {
  return server
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
