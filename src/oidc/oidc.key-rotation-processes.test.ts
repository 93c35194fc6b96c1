import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { testDialects } from "../testing/harness.js";
import { createScratchDatabase, type ServerProcess, startServer } from "../testing/server-process.js";
import { OIDC_KEY_ROTATION_JOB } from "./oidc.key-rotation.js";

// Real server processes (tsx compiles on the way): slow on a busy machine, so they get more time.
const PROCESS_TEST_TIMEOUT = 180_000;
const CLIENT_ID = "rotation-backend";
const CLIENT_SECRET = randomBytes(24).toString("hex");

const kidsOf = async (server: ServerProcess) =>
  ((await (await fetch(`${server.base}/oidc/jwks`)).json()) as { keys: Array<{ kid: string }> }).keys.map(
    (k) => k.kid,
  );

/** A client credentials access token from `server`'s provider. */
async function tokenFrom(server: ServerProcess): Promise<string> {
  const response = await fetch(`${server.base}/oidc/token`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "gatehouse:authz" }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** POST /authz/check with `token` on `server`: 200 when the server verifies the token. */
async function checkWith(server: ServerProcess, token: string): Promise<number> {
  const response = await fetch(`${server.base}/api/v1/authz/check`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ account_id: "acc_nobody", user_id: "usr_nobody", permission: "members:read" }),
  });
  return response.status;
}

// One process on SQLite: the rotation test (oidc.key-rotation.test.ts) covers it.
describe.runIf(testDialects().includes("postgres"))(
  "OpenID Connect key rotation across two server processes on PostgreSQL",
  () => {
    const started: ServerProcess[] = [];
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-oidc-rotation-"));
    let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
    afterAll(async () => {
      for (const server of started) {
        if (server.child.exitCode === null) {
          server.child.kill("SIGTERM");
          await server.exited;
        }
      }
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      "a rotation in one process reaches the other: it publishes and signs with the new key, and accepts tokens of either",
      async () => {
        const clients = join(dir, "clients.json");
        writeFileSync(
          clients,
          JSON.stringify({
            clients: [
              {
                client_id: CLIENT_ID,
                name: "Rotation backend",
                party: "first",
                client_secret: CLIENT_SECRET,
                redirect_uris: ["https://backend.example/callback"],
                grant_types: ["authorization_code", "client_credentials"],
              },
            ],
          }),
        );
        database = await createScratchDatabase("postgres");
        // One after the other: the first migrates the empty database.
        for (let i = 0; i < 2; i++) started.push(await startServer(database.url, { OIDC_CLIENTS: clients }));
        const [rotating, other] = started as [ServerProcess, ServerProcess];

        const [first] = await kidsOf(other);
        expect(await kidsOf(rotating)).toEqual([first]);
        const oldToken = await tokenFrom(other);
        expect(decodeProtectedHeader(oldToken).kid).toBe(first);

        // 31 days later in the rotating process only: its job makes the new key (the run asked for
        // here, or its own loop's tick if that came first; the run waits for a tick going on).
        await fetch(`${rotating.base}/dev/clock`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ advance_seconds: 31 * 86_400 }),
        });
        const run = (await (await fetch(`${rotating.base}/dev/jobs/run`, { method: "POST" })).json()) as {
          jobs: Array<{ name: string; status: string }>;
        };
        expect(run.jobs.find((j) => j.name === OIDC_KEY_ROTATION_JOB)?.status).toBe("ok");
        const [rotated, ...rest] = await kidsOf(rotating);
        expect(rest).toEqual([first]);
        expect(rotated).not.toBe(first);

        // The other process hears of it (NOTIFY) and rebuilds its provider.
        for (let i = 0; i < 200 && (await kidsOf(other)).join(" ") !== `${rotated} ${first}`; i++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await kidsOf(other)).toEqual([rotated, first]);
        const newToken = await tokenFrom(other);
        expect(decodeProtectedHeader(newToken).kid).toBe(rotated);
        for (const server of started) {
          expect(await checkWith(server, newToken)).toBe(200);
          expect(await checkWith(server, oldToken)).toBe(200);
        }
      },
      PROCESS_TEST_TIMEOUT,
    );
  },
);
