import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// These start real processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 120_000;

const dir = mkdtempSync(join(tmpdir(), "gatehouse-main-"));

function startServer(): Promise<{ child: ChildProcess; base: string; logs: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      PORT: "0",
      DATABASE_URL: `sqlite:${join(dir, "main.db")}`,
      NODE_ENV: "development",
      SMTP_URL: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) resolve({ child, base: match[1], logs: () => output });
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited early with ${code}: ${output}`)));
    setTimeout(() => reject(new Error(`server did not start: ${output}`)), 60_000).unref();
  });
}

describe("the server process", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "migrates on start, generates a secret key, logs JSON with request ids, and drains on SIGTERM",
    async () => {
      const { child, base, logs } = await startServer();
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
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      expect((await inFlight).status).toBe(201);
      expect(await exited).toBe(0);

      const lines = logs()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.msg === "request completed" && typeof l.reqId === "string")).toBe(true);
      expect(lines.some((l) => l.msg === "stopped")).toBe(true);
      expect(lines.some((l) => (l.req as { url?: string } | undefined)?.url === "/reset-password")).toBe(
        true,
      );
      expect(logs()).not.toContain("secret-from-a-mail-link");
    },
    PROCESS_TEST_TIMEOUT,
  );
});
